"""Accelo's error tree, built from the ``meta.status`` of its ``{meta, response}`` envelope.

Each class is also one of the shared connector errors, so the sync core can act on the base class
(``NotFound``: close the link; ``RateLimited``: wait; ``AuthenticationFailed``: renew the token or mark the
connection broken) without knowing Accelo.

Accelo answers a request for a record that does not exist with HTTP 400 ``invalid_request`` and the same
generic message it uses for any bad input. The client knows when it asked for one record by id, and raises
``AcceloNotFound`` (an ``AcceloInvalidRequest`` *and* a ``NotFound``) there; see ``AcceloApi``.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from interlink.connectors.errors import (
    AuthenticationFailed,
    Conflict,
    ConnectorError,
    InvalidRequest,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    TransportFailure,
)


class AcceloError(ConnectorError):
    vendor = "accelo"


class AcceloInvalidRequest(AcceloError, InvalidRequest):
    """``invalid_request`` (400): a missing or invalid parameter, or a record that does not exist."""


class AcceloNotFound(AcceloInvalidRequest, NotFound):
    """``invalid_request`` for a record addressed by id that does not (or no longer) exist."""


class AcceloDuplicate(AcceloError, Conflict):
    """``duplicate`` (400): the write would duplicate a unique name, title or username."""


class AcceloAuthenticationFailed(AcceloError, AuthenticationFailed):
    """Authentication problems; the subclasses say which."""


class AcceloInvalidClient(AcceloAuthenticationFailed):
    """``invalid_client`` (401): bad client credentials, or a missing, invalid or expired token."""


class AcceloUnauthorizedClient(AcceloAuthenticationFailed):
    """``unauthorized_client`` (401): the grant belongs to another client."""


class AcceloLockedOut(AcceloAuthenticationFailed):
    """``too_many_failed_logins``: 100 failed logins in 5 minutes lock the user out; ``retry_after`` says how
    long. Not retried automatically: every attempt during the lockout restarts its timer."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class AcceloOAuthError(AcceloAuthenticationFailed):
    """The token endpoint refused a grant (``invalid_grant``, ``invalid_scope``, ``unsupported_grant_type``):
    an expired or revoked authorization code or refresh token means an admin has to reconnect."""


class AcceloReconnectRequired(AcceloAuthenticationFailed):
    """The stored credentials cannot produce a token any more (no refresh token, no client secret)."""


class AcceloPermissionDenied(AcceloError, PermissionDenied):
    """``invalid_permission`` (403): the token's user may not do this (or the scope lacks ``write``)."""


class AcceloRateLimited(AcceloError, RateLimited):
    """``too_many_requests`` (429): the deployment's 5,000 requests per hour are spent."""


class AcceloServerError(AcceloError, ServerError):
    """``server_error`` (500) or any other 5xx."""


class AcceloTransportFailure(AcceloError, TransportFailure):
    """No answer from Accelo (refused, reset, timed out)."""


class AcceloMalformedResponse(AcceloError, MalformedResponse):
    """Not JSON, an HTML page, a missing envelope or a record that does not match its documented shape."""


class NoProgressionToStatus(AcceloInvalidRequest):
    """No allowed progression leads from the record's current status to the wanted one.

    Accelo changes statuses only through progressions, so the change is flagged for a person, not forced.
    ``allowed`` holds the statuses that *can* be reached, as ``(status_id, status_title)``.
    """

    def __init__(self, message: str, *, allowed: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.allowed = allowed


class NotWritable(ValueError):
    """A field Accelo does not let the API write (for example a company's ``status``). A programming or
    configuration error, raised before any request is sent."""


_BY_STATUS: dict[str, type[AcceloError]] = {
    "invalid_request": AcceloInvalidRequest,
    "duplicate": AcceloDuplicate,
    "invalid_client": AcceloInvalidClient,
    "unauthorized_client": AcceloUnauthorizedClient,
    "unauthorized client": AcceloUnauthorizedClient,  # spelled with a space in Accelo's status table
    "invalid_grant": AcceloOAuthError,
    "invalid_scope": AcceloOAuthError,
    "unsupported_grant_type": AcceloOAuthError,
    "invalid_permission": AcceloPermissionDenied,
    "too_many_requests": AcceloRateLimited,
    "too_many_failed_logins": AcceloLockedOut,
    "server_error": AcceloServerError,
}


def _by_http_status(status_code: int) -> type[AcceloError]:
    if status_code == 429:
        return AcceloRateLimited
    if status_code >= 500:
        return AcceloServerError
    if status_code == 401:
        return AcceloInvalidClient
    if status_code == 403:
        return AcceloPermissionDenied
    return AcceloInvalidRequest


def seconds_until_reset(response: httpx.Response, *, now: float | None = None) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (a unix timestamp), or None when the header is absent."""
    raw = response.headers.get("x-ratelimit-reset")
    if raw is None:
        return None
    try:
        reset = float(raw)
    except ValueError:
        return None
    return max(0.0, reset - (time.time() if now is None else now))


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is not None:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
    return None


def error_for(status: str | None, message: str, response: httpx.Response, *, details: Any = None) -> AcceloError:
    """The typed error for a ``meta.status`` (or, when there is none, for the HTTP status)."""
    code = response.status_code
    error_class = _BY_STATUS.get(status or "") or _by_http_status(code)
    if error_class is AcceloRateLimited:
        # Accelo documents no Retry-After on 429; the window's reset time says how long to wait. At least a
        # second, so a reset stamp rounded down to "now" does not make every worker retry at once.
        wait = _retry_after(response) or seconds_until_reset(response)
        return AcceloRateLimited(
            message,
            retry_after=None if wait is None else max(1.0, wait),
            policy="deployment",
            status_code=code,
            category=status,
            details=details,
        )
    if error_class is AcceloLockedOut:
        return AcceloLockedOut(
            message, retry_after=_retry_after(response), status_code=code, category=status, details=details
        )
    return error_class(message, status_code=code, category=status, details=details)


def _snippet(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "no content type")
    return f"{kind}: {response.text[:120]!r}"


def classify(response: httpx.Response) -> AcceloError | None:
    """None for a usable answer, else the typed error. Reads ``meta.status``; falls back on the HTTP status
    for answers without an envelope (an HTML error page from a proxy, an RFC 6749 token error)."""
    code = response.status_code
    try:
        body = response.json()
    except ValueError:
        if code == 429 or code >= 500 or code in (401, 403):
            return error_for(None, f"HTTP {code} without a JSON body ({_snippet(response)})", response)
        if code >= 400:
            # An HTML 404 means the path does not exist (a wrong base URL or deployment): not worth retrying.
            return AcceloInvalidRequest(f"HTTP {code} without a JSON body ({_snippet(response)})", status_code=code)
        return AcceloMalformedResponse(f"expected JSON, got {_snippet(response)}", status_code=code)
    if not isinstance(body, dict):
        return AcceloMalformedResponse(
            f"expected a JSON object, got {type(body).__name__}", status_code=code, details=body
        )
    meta = body.get("meta")
    if isinstance(meta, dict):
        status = meta.get("status")
        message = str(meta.get("message") or status or f"HTTP {code}")
        if status == "ok" and code < 400:
            return None
        if status == "ok" or status is None:
            return error_for(None, message, response, details=body)
        return error_for(str(status), message, response, details=body)
    if "error" in body:  # RFC 6749 token errors carry no envelope
        status = str(body["error"])
        message = str(body.get("error_description") or status)
        return error_for(status, message, response, details=body)
    if code >= 400:
        return error_for(None, f"HTTP {code}", response, details=body)
    return AcceloMalformedResponse("the answer has no meta object", status_code=code, details=body)


__all__ = [
    "AcceloAuthenticationFailed",
    "AcceloDuplicate",
    "AcceloError",
    "AcceloInvalidClient",
    "AcceloInvalidRequest",
    "AcceloLockedOut",
    "AcceloMalformedResponse",
    "AcceloNotFound",
    "AcceloOAuthError",
    "AcceloPermissionDenied",
    "AcceloRateLimited",
    "AcceloReconnectRequired",
    "AcceloServerError",
    "AcceloTransportFailure",
    "AcceloUnauthorizedClient",
    "NoProgressionToStatus",
    "NotWritable",
    "classify",
    "error_for",
    "seconds_until_reset",
]
