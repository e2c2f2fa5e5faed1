"""HubSpot's error bodies and response helpers, as the simulator sends them (reference/hubspot-api.md §2.8)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.responses import Response


class SimError(Exception):
    """An error answer: ``{"status": "error", "message", "correlationId", "category", ...}``."""

    def __init__(
        self,
        status: int,
        category: str | None,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "error", "message": self.message, "correlationId": str(uuid.uuid4())}
        if self.category:
            body["category"] = self.category
        if self.errors is not None:
            body["errors"] = self.errors
        if self.context is not None:
            body["context"] = self.context
        body.update(self.extra)
        return body

    def response(self) -> Response:
        return json_response(self.body(), self.status, headers=self.headers)

    def as_batch_error(self) -> dict[str, Any]:
        """The ``StandardError`` form used inside a 207's ``errors``."""
        return {
            "status": "error",
            "category": self.category or "VALIDATION_ERROR",
            "message": self.message,
            "context": self.context or {},
            "errors": self.errors or [],
            "links": {},
        }


def json_response(data: Any, status: int = 200, *, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content, status_code=status, headers=headers, media_type="application/json")


def not_found(message: str = "resource not found") -> SimError:
    return SimError(404, "OBJECT_NOT_FOUND", message)


def validation_error(message: str, *, errors: list[dict[str, Any]] | None = None, **context: Any) -> SimError:
    return SimError(400, "VALIDATION_ERROR", message, errors=errors, context=context or None)


def property_errors(problems: list[tuple[str, str, str]]) -> SimError:
    """400 for invalid property values; ``problems`` are ``(property, code, message)``."""
    summary = [
        {"isValid": False, "message": message, "error": code, "name": name, "localizedErrorMessage": message}
        for name, code, message in problems
    ]
    errors = [
        {"message": message, "code": code, "context": {"propertyName": [name]}} for name, code, message in problems
    ]
    return SimError(
        400,
        "VALIDATION_ERROR",
        f"Property values were not valid: {json.dumps(summary, separators=(',', ':'))}",
        errors=errors,
    )


def unauthenticated() -> SimError:
    return SimError(
        401,
        "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
        "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    )


def expired(minutes: int) -> SimError:
    return SimError(
        401,
        "EXPIRED_AUTHENTICATION",
        f"The OAuth token used to make this call expired {max(minutes, 0)} minute(s) ago.",
    )


def missing_scopes(scopes: list[str]) -> SimError:
    return SimError(
        403,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call. Read more about required scopes "
        "here: https://developers.hubspot.com/scopes.",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": scopes},
            }
        ],
        extra={"links": {"scopes": "https://developers.hubspot.com/scopes"}},
    )
