"""The simulated deployment's OAuth 2 server: registered applications, the token endpoint, authorize, revoke.

- Service applications: ``grant_type=client_credentials`` with HTTP Basic client authentication; no refresh
  token; the answer carries Accelo's extra deployment fields and a string ``expires_in``.
- Web applications: ``/oauth2/v0/authorize`` approves at once (as the simulator's only user) and redirects
  with a ``code``; ``authorization_code`` and ``refresh_token`` grants; a refresh keeps the refresh token.
- Errors use RFC 6749 bodies (``{"error": "invalid_grant", "error_description": …}``), not the envelope.
- A static token (``access_token`` in ``create_app``) never expires, so a sandbox can be used by pasting it.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

DEFAULT_LIFETIME = 2_592_000  # 30 days, Accelo's default


@dataclass
class Application:
    client_id: str
    client_secret: str
    kind: Literal["service", "web"]
    redirect_uris: list[str] = field(default_factory=list)


@dataclass
class IssuedToken:
    client_id: str
    scope: str
    expires_at: float | None


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class OAuthServer:
    def __init__(
        self, *, deployment: str, clock: Callable[[], float] = time.time, lifetime: int = DEFAULT_LIFETIME
    ) -> None:
        self.deployment = deployment
        self.clock = clock
        self.lifetime = lifetime
        self.applications: dict[str, Application] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # refresh token -> (client_id, scope)
        self.codes: dict[str, tuple[str, str, str, float]] = {}  # code -> (client_id, redirect_uri, scope, expiry)
        self.issued = 0
        self._lock = threading.Lock()

    # -- configuration --------------------------------------------------------------------------------------
    def register(self, application: Application) -> None:
        with self._lock:
            self.applications[application.client_id] = application

    def add_static_token(self, token: str) -> None:
        with self._lock:
            self.tokens[token] = IssuedToken(client_id="", scope="write(all)", expires_at=None)

    # -- checking -------------------------------------------------------------------------------------------
    def check(self, access_token: str) -> IssuedToken | None:
        with self._lock:
            issued = self.tokens.get(access_token)
            if issued is None:
                return None
            if issued.expires_at is not None and issued.expires_at <= self.clock():
                del self.tokens[access_token]
                return None
            return issued

    def expire(self, access_token: str) -> None:
        """Make a token stale now (tests of renewal)."""
        with self._lock:
            self.tokens.pop(access_token, None)

    # -- endpoints ------------------------------------------------------------------------------------------
    def _client(self, authorization: str | None, form: Mapping[str, str]) -> Application:
        client_id = form.get("client_id")
        client_secret = form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except ValueError:
                raise OAuthError("invalid_client", "malformed Basic authorization", 401) from None
            client_id, _, client_secret = decoded.partition(":")
        application = self.applications.get(client_id or "")
        if application is None or not secrets.compare_digest(application.client_secret, client_secret or ""):
            raise OAuthError("invalid_client", "Client authentication failed.", 401)
        return application

    def token(self, authorization: str | None, form: Mapping[str, str]) -> dict[str, Any]:
        application = self._client(authorization, form)
        grant = form.get("grant_type")
        expires_in = self._lifetime(form.get("expires_in"))
        with self._lock:
            if grant == "client_credentials":
                if application.kind != "service":
                    raise OAuthError("unauthorized_client", "only service applications may use client_credentials")
                scope = form.get("scope") or "read(all)"
                access = self._issue(application.client_id, scope, expires_in)
                return {
                    "access_token": access,
                    "expires_in": str(expires_in),
                    "token_type": "bearer",
                    "deployment": self.deployment,
                    "deployment_name": self.deployment.replace("-", " ").title(),
                    "deployment_uri": f"https://{self.deployment}.accelo.com",
                    "account_id": "1",
                    "account_details": {"user_access": "admin", "user_defined_title": "Admin", "locale": "en-AU"},
                }
            if application.kind != "web":
                raise OAuthError("unsupported_grant_type", f"{grant} is not available to service applications")
            if grant == "authorization_code":
                entry = self.codes.pop(form.get("code") or "", None)
                if entry is None or entry[0] != application.client_id or entry[3] < self.clock():
                    raise OAuthError("invalid_grant", "Grant was not found (possibly expired).")
                if form.get("redirect_uri") != entry[1]:
                    raise OAuthError("invalid_grant", "Grant was not found (possibly expired).")
                scope = entry[2]
            elif grant == "refresh_token":
                entry_refresh = self.refresh_tokens.get(form.get("refresh_token") or "")
                if entry_refresh is None or entry_refresh[0] != application.client_id:
                    raise OAuthError("invalid_grant", "Grant was not found (possibly expired).")
                scope = entry_refresh[1]
            else:
                raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported")
            access = self._issue(application.client_id, scope, expires_in)
            refresh = form.get("refresh_token") if grant == "refresh_token" else secrets.token_urlsafe(24)
            assert refresh is not None
            self.refresh_tokens[refresh] = (application.client_id, scope)
            return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer", "expires_in": expires_in}

    def authorize(self, params: Mapping[str, str]) -> str:
        """The redirect location for an authorization request (approved at once)."""
        application = self.applications.get(params.get("client_id") or "")
        redirect_uri = params.get("redirect_uri") or ""
        if application is None or application.kind != "web" or redirect_uri not in application.redirect_uris:
            raise OAuthError("invalid_request", "unknown client or unregistered redirect_uri")
        state = params.get("state") or ""
        if params.get("response_type") != "code":
            return f"{redirect_uri}?{urlencode({'error': 'unsupported_response_type', 'state': state})}"
        code = secrets.token_urlsafe(16)
        with self._lock:
            self.codes[code] = (
                application.client_id,
                redirect_uri,
                params.get("scope") or "read(all)",
                self.clock() + 600,
            )
        return f"{redirect_uri}?{urlencode({'code': code, 'state': state})}"

    def revoke(self, authorization: str | None, form: Mapping[str, str]) -> None:
        self._client(authorization, form)
        token = form.get("token") or ""
        with self._lock:
            self.tokens.pop(token, None)
            self.refresh_tokens.pop(token, None)

    def issue_for(self, client_id: str = "", *, scope: str = "write(all)", expires_in: int | None = None) -> str:
        """A token straight away (tests and demos that skip the OAuth dance)."""
        with self._lock:
            return self._issue(client_id, scope, expires_in or self.lifetime)

    def _issue(self, client_id: str, scope: str, expires_in: int) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = IssuedToken(client_id, scope, self.clock() + expires_in)
        self.issued += 1
        return token

    def _lifetime(self, raw: str | None) -> int:
        if raw in (None, ""):
            return self.lifetime
        if not str(raw).isdigit() or int(raw) <= 0:
            raise OAuthError("invalid_request", "expires_in must be a positive number of seconds")
        return int(raw)

    # -- persistence ----------------------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        with self._lock:
            return {
                "tokens": {token: asdict(issued) for token, issued in self.tokens.items()},
                "refresh_tokens": {token: list(entry) for token, entry in self.refresh_tokens.items()},
            }

    def load(self, data: Mapping[str, Any]) -> None:
        with self._lock:
            for token, issued in data.get("tokens", {}).items():
                self.tokens[token] = IssuedToken(**issued)
            for token, entry in data.get("refresh_tokens", {}).items():
                self.refresh_tokens[token] = (entry[0], entry[1])
