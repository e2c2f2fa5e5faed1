"""Who may call the simulated HubSpot: private-app tokens, and OAuth tokens from its token endpoint.

The token endpoint (``POST /oauth/v1/token``, form-encoded, reference/hubspot-api.md §7.2) exchanges
authorization codes and refresh tokens; access tokens expire after ``access_token_ttl`` seconds (1800 like
HubSpot) and are then answered 401 ``EXPIRED_AUTHENTICATION``. Refresh tokens stay valid until revoked.
Codes come from ``/oauth/authorize`` (which consents at once, a sandbox) or ``issue_code``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from interlink.simulators.hubspot.wire import SimError, expired, missing_scopes, unauthenticated

ALL_SCOPES = frozenset(
    {
        "oauth",
        "crm.objects.contacts.read",
        "crm.objects.contacts.write",
        "crm.objects.companies.read",
        "crm.objects.companies.write",
        "crm.objects.deals.read",
        "crm.objects.deals.write",
        "crm.schemas.contacts.read",
        "crm.schemas.contacts.write",
        "crm.schemas.companies.read",
        "crm.schemas.companies.write",
        "crm.schemas.deals.read",
        "crm.schemas.deals.write",
        "crm.objects.owners.read",
    }
)
DEFAULT_PRIVATE_APP_TOKEN = "pat-na1-sandbox-0000-0000-0000-000000000000"  # noqa: S105 - a sandbox's public token
DEFAULT_CLIENT_ID = "sandbox-client-id"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - a sandbox's public secret
DEFAULT_APP_ID = 424242


@dataclass
class Grant:
    """What a bearer token may do: its app, scopes, kind, and (OAuth) when it expires."""

    token: str
    app_id: int
    scopes: frozenset[str] = ALL_SCOPES
    kind: str = "private_app"  # or "oauth"
    expires_at: float | None = None
    refresh_token: str | None = None


@dataclass
class RefreshGrant:
    token: str
    client_id: str
    scopes: frozenset[str]
    app_id: int


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    app_id: int


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class TokenCalls:
    by_grant_type: dict[str, int] = field(default_factory=dict)


class Auth:
    def __init__(
        self,
        *,
        portal_id: int,
        clock: Callable[[], float] = time.time,
        access_token_ttl: int = 1800,
        private_app_tokens: dict[str, int] | None = None,
        clients: list[OAuthClient] | None = None,
    ) -> None:
        self.portal_id = portal_id
        self.clock = clock
        self.access_token_ttl = access_token_ttl
        self._initial_tokens = (
            private_app_tokens if private_app_tokens is not None else {DEFAULT_PRIVATE_APP_TOKEN: DEFAULT_APP_ID}
        )
        self._initial_clients = clients or [OAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_APP_ID)]
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.grants: dict[str, Grant] = {
            token: Grant(token=token, app_id=app_id) for token, app_id in self._initial_tokens.items()
        }
        self.clients = {client.client_id: client for client in self._initial_clients}
        self.refresh_grants: dict[str, RefreshGrant] = {}
        self.codes: dict[str, Code] = {}
        self.token_calls = TokenCalls()

    def to_state(self) -> dict[str, Any]:
        """OAuth grants survive a restart of a persisted sandbox (private-app tokens come from settings)."""
        with self._lock:
            return {
                "refresh": [
                    [grant.token, grant.client_id, sorted(grant.scopes), grant.app_id]
                    for grant in self.refresh_grants.values()
                ],
                "access": [
                    [grant.token, grant.app_id, sorted(grant.scopes), grant.expires_at, grant.refresh_token]
                    for grant in self.grants.values()
                    if grant.kind == "oauth"
                ],
            }

    def load_state(self, state: dict[str, Any]) -> None:
        with self._lock:
            for token, client_id, scopes, app_id in state.get("refresh", []):
                self.refresh_grants[token] = RefreshGrant(token, client_id, frozenset(scopes), app_id)
            for token, app_id, scopes, expires_at, refresh in state.get("access", []):
                self.grants[token] = Grant(token, app_id, frozenset(scopes), "oauth", expires_at, refresh)

    # -- bearer tokens ---------------------------------------------------------------------------------------

    def add_private_app_token(
        self, token: str, *, app_id: int = DEFAULT_APP_ID, scopes: frozenset[str] = ALL_SCOPES
    ) -> Grant:
        with self._lock:
            grant = Grant(token=token, app_id=app_id, scopes=frozenset(scopes))
            self.grants[token] = grant
            return grant

    def authenticate(self, authorization: str | None) -> Grant:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise unauthenticated()
        token = authorization[7:].strip()
        with self._lock:
            grant = self.grants.get(token)
        if grant is None:
            raise unauthenticated()
        if grant.expires_at is not None and self.clock() >= grant.expires_at:
            raise expired(int((self.clock() - grant.expires_at) // 60))
        return grant

    @staticmethod
    def require(grant: Grant, scopes: list[str]) -> None:
        """Every scope group must be satisfied; a group is a list of alternatives joined by ``|``."""
        missing = [group for group in scopes if not any(scope in grant.scopes for scope in group.split("|"))]
        if missing:
            raise missing_scopes([scope for group in missing for scope in group.split("|")])

    def expire_access_token(self, token: str) -> None:
        with self._lock:
            grant = self.grants.get(token)
            if grant is not None:
                grant.expires_at = self.clock() - 1

    # -- OAuth -----------------------------------------------------------------------------------------------

    def issue_code(self, client_id: str, redirect_uri: str, scopes: frozenset[str] = ALL_SCOPES) -> str:
        if client_id not in self.clients:
            raise SimError(400, "VALIDATION_ERROR", f"unknown client_id {client_id!r}")
        code = secrets.token_urlsafe(16)
        with self._lock:
            self.codes[code] = Code(code, client_id, redirect_uri, frozenset(scopes), self.clock() + 600)
        return code

    def revoke_refresh_token(self, token: str) -> bool:
        with self._lock:
            grant = self.refresh_grants.pop(token, None)
            if grant is None:
                return False
            for access in [g for g in self.grants.values() if g.refresh_token == token]:
                del self.grants[access.token]
            return True

    def refresh_token_info(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            grant = self.refresh_grants.get(token)
        if grant is None:
            return None
        return {
            "token": token,
            "user": "sandbox-admin@example.com",
            "hub_domain": "sandbox.example.com",
            "scopes": sorted(grant.scopes),
            "hub_id": self.portal_id,
            "client_id": grant.client_id,
            "user_id": 9001,
            "token_type": "refresh",
        }

    def access_token_info(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            grant = self.grants.get(token)
        if grant is None or grant.kind != "oauth":
            return None
        remaining = max(0, int((grant.expires_at or 0) - self.clock()))
        return {
            "token": token,
            "user": "sandbox-admin@example.com",
            "hub_domain": "sandbox.example.com",
            "scopes": sorted(grant.scopes),
            "hub_id": self.portal_id,
            "app_id": grant.app_id,
            "expires_in": remaining,
            "user_id": 9001,
            "token_type": "access",
        }

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        """``POST /oauth/v1/token``; raises ``SimError`` with the RFC 6749 body on refusal."""
        grant_type = form.get("grant_type", "")
        with self._lock:
            self.token_calls.by_grant_type[grant_type] = self.token_calls.by_grant_type.get(grant_type, 0) + 1
        client = self.clients.get(form.get("client_id", ""))
        if client is None or not secrets.compare_digest(client.client_secret, form.get("client_secret", "")):
            raise _oauth_error(400, "invalid_client", "BAD_CLIENT_ID", "missing or unknown client id or secret")
        if grant_type == "authorization_code":
            with self._lock:
                code = self.codes.pop(form.get("code", ""), None)
            if code is None or code.client_id != client.client_id or code.expires_at < self.clock():
                raise _oauth_error(400, "invalid_grant", "BAD_AUTH_CODE", "missing or unknown auth code")
            if code.redirect_uri != form.get("redirect_uri"):
                raise _oauth_error(
                    400, "invalid_grant", "BAD_REDIRECT_URI", "redirect_uri does not match the one authorized"
                )
            refresh = RefreshGrant(f"na1-{secrets.token_hex(16)}", client.client_id, code.scopes, client.app_id)
            with self._lock:
                self.refresh_grants[refresh.token] = refresh
            return self._access(refresh)
        if grant_type == "refresh_token":
            with self._lock:
                refresh_grant = self.refresh_grants.get(form.get("refresh_token", ""))
            if refresh_grant is None or refresh_grant.client_id != client.client_id:
                raise _oauth_error(
                    400, "invalid_grant", "BAD_REFRESH_TOKEN", "refresh token is invalid, expired or revoked"
                )
            return self._access(refresh_grant)
        raise _oauth_error(400, "unsupported_grant_type", "BAD_GRANT_TYPE", f"unsupported grant_type {grant_type!r}")

    def _access(self, refresh: RefreshGrant) -> dict[str, Any]:
        token = f"sim-oauth-{secrets.token_hex(24)}"
        with self._lock:
            self.grants[token] = Grant(
                token=token,
                app_id=refresh.app_id,
                scopes=refresh.scopes,
                kind="oauth",
                expires_at=self.clock() + self.access_token_ttl,
                refresh_token=refresh.token,
            )
        return {
            "token_type": "bearer",
            "refresh_token": refresh.token,
            "access_token": token,
            "expires_in": self.access_token_ttl,
            "hub_id": self.portal_id,
            "scopes": sorted(refresh.scopes),
        }


def _oauth_error(status: int, error: str, legacy: str, description: str) -> SimError:
    return SimError(
        status, None, description, extra={"error": error, "error_description": description, "status": legacy}
    )
