"""Domain errors. Each carries its HTTP status and a stable code; one handler renders them all as
``{"error": {"code", "message", "details"}}``. Services raise these, never ``HTTPException``."""

from __future__ import annotations

from typing import Any, ClassVar


class InterlinkError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(InterlinkError):
    status_code = 400
    code = "bad_request"


class Unauthorized(InterlinkError):
    status_code = 401
    code = "unauthorized"


class Forbidden(InterlinkError):
    status_code = 403
    code = "forbidden"


class NotFound(InterlinkError):
    status_code = 404
    code = "not_found"


class Conflict(InterlinkError):
    status_code = 409
    code = "conflict"


class ValidationFailed(InterlinkError):
    """Input that parses but cannot be accepted; ``details`` names the field and the fix."""

    status_code = 422
    code = "validation_error"


class ServiceUnavailable(InterlinkError):
    status_code = 503
    code = "unavailable"
