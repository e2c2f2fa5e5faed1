"""The error tree every connector builds from its vendor's responses.

Each vendor subclasses these (``HubSpotRateLimited(HubSpotError, RateLimited)``), and the sync core maps the
base classes to an action: retry (``retryable``), refresh credentials (``AuthenticationFailed``), mark the
connection broken (``PermissionDenied``), skip or flag the record (``NotFound``, ``Conflict``,
``InvalidRequest``). A connector never swallows an error with a log line.
"""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    vendor: str = "vendor"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.category = category
        self.correlation_id = correlation_id
        self.details = details

    def __str__(self) -> str:
        parts = [self.message]
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}")
        if self.category:
            parts.append(self.category)
        if self.correlation_id:
            parts.append(f"correlation id {self.correlation_id}")
        return f"{self.vendor}: " + " · ".join(parts)


class AuthenticationFailed(ConnectorError):
    """Credentials missing, wrong or expired (401): refresh them, or mark the connection broken."""


class PermissionDenied(ConnectorError):
    """Authenticated but not allowed (403, missing scopes): an admin has to act."""


class NotFound(ConnectorError):
    """The record does not exist (or no longer does)."""


class Conflict(ConnectorError):
    """The write collides with an existing record (duplicate email, unique name)."""

    def __init__(self, message: str, *, existing_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.existing_id = existing_id


class InvalidRequest(ConnectorError):
    """The vendor refused the input (unknown property, invalid option, bad filter)."""


class RateLimited(ConnectorError):
    """Too many requests. ``retry_after`` is how long to wait, when known."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, policy: str | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.policy = policy


class ServerError(ConnectorError):
    """The vendor failed (5xx). Worth retrying."""

    retryable = True


class TransportFailure(ConnectorError):
    """No usable answer: connection refused or reset, timeout. ``request_sent`` is False only when the
    request certainly never reached the vendor (the connection was never made)."""

    retryable = True

    def __init__(self, message: str, *, request_sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.request_sent = request_sent


class MalformedResponse(ConnectorError):
    """An answer we cannot read: not JSON, an HTML error page, missing fields."""

    retryable = True
