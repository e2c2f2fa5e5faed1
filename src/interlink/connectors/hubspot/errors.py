"""HubSpot's error tree, built from its error bodies (reference/hubspot-api.md §2.8, §6.3, §7.2).

HubSpot answers errors as ``{"status": "error", "message", "correlationId", "category", "errors": [...],
"context": {...}}``; a 429 names its limit in ``policyName`` (``TEN_SECONDLY_ROLLING``, ``SECONDLY``,
``DAILY``) and its kind in ``errorType`` instead of ``category``; the OAuth token endpoint answers in RFC 6749
style (``error``, ``error_description``). The docs say to treat every field as optional, so every field
here is optional too, and a body that is not JSON at all (an HTML page from a proxy) still classifies by
its status code.

Each class is also one of the shared bases (``connectors.errors``), which is what the sync core maps to an
action; the HubSpot classes add what only HubSpot says (missing scopes, the rate-limit policy, per-input
errors of a 207).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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


class HubSpotError(ConnectorError):
    """Any failure talking to HubSpot. ``errors`` holds HubSpot's per-field details (``code``, ``context``)."""

    vendor = "hubspot"

    def __init__(
        self,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
        sub_category: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.errors = errors or []
        self.context = context or {}
        self.sub_category = sub_category

    @property
    def codes(self) -> list[str]:
        """HubSpot's machine codes for the failing fields (``PROPERTY_DOESNT_EXIST``, ``INVALID_OPTION``)."""
        return [str(error["code"]) for error in self.errors if error.get("code")]


class HubSpotAuthenticationFailed(HubSpotError, AuthenticationFailed):
    """401: the token is missing, unknown or expired."""


class HubSpotTokenExpired(HubSpotAuthenticationFailed):
    """401 ``EXPIRED_AUTHENTICATION``: an OAuth access token outlived its 30 minutes."""


class HubSpotInvalidGrant(HubSpotAuthenticationFailed):
    """The token endpoint refused a code or refresh token (``invalid_grant``)."""


class HubSpotAuthorizationRevoked(HubSpotInvalidGrant):
    """The refresh token is confirmed dead (refused twice, and HubSpot no longer knows it).

    The app was uninstalled or its access revoked: only an admin reconnecting can fix this, so the caller
    should mark the connection broken. Raised only after the re-check described in ``auth.OAuthTokens``.
    """


class HubSpotOAuthError(HubSpotError, InvalidRequest):
    """The token endpoint refused the request for another reason (wrong client id or secret, bad redirect)."""


class HubSpotPermissionDenied(HubSpotError, PermissionDenied):
    """403: authenticated, but the app or user may not do this."""


class HubSpotMissingScopes(HubSpotPermissionDenied):
    """403 ``MISSING_SCOPES``: the app was installed without a scope this call needs."""

    def __init__(self, message: str, *, required_scopes: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.required_scopes = required_scopes or []


class HubSpotNotFound(HubSpotError, NotFound):
    """404 ``OBJECT_NOT_FOUND`` (or a per-input not-found in a batch)."""


class HubSpotConflict(HubSpotError, Conflict):
    """409 ``CONFLICT``; on a duplicate email ``existing_id`` is the contact that already has it."""


class HubSpotPropertyMismatch(HubSpotConflict):
    """A property or group with this name exists with a different definition than the one we need.

    ``differences`` maps each differing field to ``(existing, wanted)``. Raised by ``ensure_property`` and
    ``ensure_property_group``: an admin has to rename one of them or change the existing definition.
    """

    def __init__(self, message: str, *, differences: dict[str, tuple[Any, Any]], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.differences = differences


class HubSpotInvalidRequest(HubSpotError, InvalidRequest):
    """400 ``VALIDATION_ERROR`` and other refusals of the input (unknown property, invalid option)."""


class HubSpotSearchTooLarge(HubSpotInvalidRequest):
    """A search matches more than the 10,000 results HubSpot lets one query reach, and cannot be split
    into modification-date windows (a custom sort was asked for, or the filters leave no room)."""


class HubSpotRateLimited(HubSpotError, RateLimited):
    """429: a limit was hit. ``policy`` is HubSpot's ``policyName``; retried in-line after ``retry_after``."""


class HubSpotDailyLimitReached(HubSpotRateLimited):
    """The account's daily allowance is spent. Not retried in-line: nothing will succeed before
    ``retry_after`` seconds (midnight in the account's time zone), so the caller should defer the work."""

    retryable = False


class HubSpotServerError(HubSpotError, ServerError):
    """5xx (and HubSpot's 477 "migration in progress", 52x from its CDN): HubSpot failed; retried."""


class HubSpotTransportFailure(HubSpotError, TransportFailure):
    """No usable answer: refused, reset, timed out."""


class HubSpotMalformedResponse(HubSpotError, MalformedResponse):
    """An answer we cannot read: not JSON, an HTML page, or JSON without the fields HubSpot always sends."""


_CATEGORY_CLASSES: dict[str, type[HubSpotError]] = {
    "VALIDATION_ERROR": HubSpotInvalidRequest,
    "OBJECT_NOT_FOUND": HubSpotNotFound,
    "CONFLICT": HubSpotConflict,
    "OBJECT_ALREADY_EXISTS": HubSpotConflict,
    "MISSING_SCOPES": HubSpotMissingScopes,
    "INVALID_AUTHENTICATION": HubSpotAuthenticationFailed,
    "EXPIRED_AUTHENTICATION": HubSpotTokenExpired,
    "RATE_LIMIT": HubSpotRateLimited,
    "RATE_LIMITS": HubSpotRateLimited,
}

_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)", re.IGNORECASE)


def existing_id_from(message: str) -> str | None:
    """The id HubSpot names in a duplicate-email conflict ("Contact already exists. Existing ID: 123")."""
    match = _EXISTING_ID.search(message)
    return match.group(1) if match else None


def seconds_until_daily_reset(zone: ZoneInfo | None = None, now: datetime | None = None) -> float:
    """Daily limits reset at midnight in the account's time zone (USAGE24); UTC when it is not known."""
    zone = zone or ZoneInfo("UTC")
    current = (now or datetime.now(UTC)).astimezone(zone)
    midnight = (current + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - current).total_seconds())


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _missing_scopes(body: Mapping[str, Any]) -> list[str]:
    scopes: list[str] = []
    for detail in body.get("errors") or []:
        if isinstance(detail, dict):
            context = detail.get("context") or {}
            for key in ("requiredGranularScopes", "requiredScopes"):
                scopes.extend(str(scope) for scope in context.get(key) or [])
    return scopes


def error_from_body(
    body: Mapping[str, Any], *, status_code: int | None = None, default: type[HubSpotError] = HubSpotError
) -> HubSpotError:
    """A typed error from one HubSpot error object (a response body, or one entry of a 207's ``errors``)."""
    category = body.get("category") or body.get("errorType")
    category = str(category) if category else None
    message = str(body.get("message") or category or f"HTTP {status_code}")
    details = [error for error in body.get("errors") or [] if isinstance(error, dict)]
    common: dict[str, Any] = {
        "status_code": status_code,
        "category": category,
        "correlation_id": body.get("correlationId"),
        "errors": details,
        "context": body.get("context") if isinstance(body.get("context"), dict) else None,
        "sub_category": body.get("subCategory"),
        "details": dict(body),
    }
    cls = _CATEGORY_CLASSES.get(category or "", default)
    if issubclass(cls, HubSpotMissingScopes):
        return HubSpotMissingScopes(message, required_scopes=_missing_scopes(body), **common)
    if issubclass(cls, HubSpotConflict):
        return cls(message, existing_id=existing_id_from(message), **common)
    if issubclass(cls, HubSpotRateLimited):
        return cls(message, policy=body.get("policyName"), **common)
    return cls(message, **common)


def classify(response: httpx.Response, *, daily_reset_zone: ZoneInfo | None = None) -> HubSpotError | None:
    """The typed error for a failed response, or None when it succeeded (207 is a success with errors)."""
    status = response.status_code
    if status < 400:
        return None
    body = _json_object(response)
    if body is None:
        snippet = response.text[:200].replace("\n", " ").strip()
        body = {"message": f"HTTP {status} with a non-JSON body: {snippet!r}" if snippet else f"HTTP {status}"}
    message = str(body.get("message") or f"HTTP {status}")
    common: dict[str, Any] = {
        "status_code": status,
        "category": body.get("category") or body.get("errorType"),
        "correlation_id": body.get("correlationId"),
        "details": body,
    }
    if status == 429:
        policy = str(body.get("policyName") or "") or None
        if policy == "DAILY":
            wait = seconds_until_daily_reset(daily_reset_zone)
            return HubSpotDailyLimitReached(message, retry_after=wait, policy=policy, **common)
        retry_after = _retry_after(response)
        if retry_after is None:
            # No source confirms Retry-After on API 429s (§6.3). A search 429 (SECONDLY) clears within a
            # second; a ten-secondly one within the rolling window, which the headers name.
            if policy == "SECONDLY":
                retry_after = 1.0
            else:
                interval = response.headers.get("x-hubspot-ratelimit-interval-milliseconds")
                retry_after = int(interval) / 1000 if interval and interval.isdigit() else 10.0
        return HubSpotRateLimited(message, retry_after=retry_after, policy=policy, **common)
    if status == 423:
        # "Locked" after a burst of upserts to one record: HubSpot asks for at least two seconds (ERR26).
        return HubSpotRateLimited(message, retry_after=_retry_after(response) or 2.0, policy="LOCKED", **common)
    if status == 401:
        expired = common["category"] == "EXPIRED_AUTHENTICATION"
        return (HubSpotTokenExpired if expired else HubSpotAuthenticationFailed)(message, **common)
    if status == 403:
        error = error_from_body(body, status_code=status, default=HubSpotPermissionDenied)
        if isinstance(error, HubSpotPermissionDenied):
            return error
        return HubSpotPermissionDenied(message, **common)
    if status == 404:
        return HubSpotNotFound(message, **common)
    if status == 409:
        return HubSpotConflict(message, existing_id=existing_id_from(message), **common)
    if status >= 500 or status == 477:
        return HubSpotServerError(message, **common)
    return error_from_body(body, status_code=status, default=HubSpotInvalidRequest)
