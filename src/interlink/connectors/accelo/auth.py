"""Accelo OAuth 2: service applications (client credentials) and web applications (authorization code).

- **Service application**: ``POST /oauth2/v0/token`` with ``grant_type=client_credentials``, the client
  authenticated by HTTP Basic. There is no refresh token: a new access token is requested before the old one
  expires (Accelo's default lifetime is 30 days).
- **Web application**: the admin approves at ``/oauth2/v0/authorize`` and Accelo redirects back with a
  ``code``, exchanged at the token endpoint (``grant_type=authorization_code``) for an access token and a
  refresh token; ``grant_type=refresh_token`` renews it.

Tokens are sent only as ``Authorization: Bearer …`` (Accelo refuses a request that also carries
``_bearer_token``). ``/oauth2`` calls do not count against the deployment's rate limit, so they bypass the
rate budget.

A connector never writes to the database: ``TokenManager`` keeps the current token in a ``TokenStore`` that
the product implements (``interlink.connections.accelo_tokens``); ``MemoryTokenStore`` serves tests and
one-off scripts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlencode

import httpx

from interlink.connectors.accelo.errors import (
    AcceloError,
    AcceloMalformedResponse,
    AcceloReconnectRequired,
    AcceloTransportFailure,
    classify,
)

DEFAULT_SCOPE = "write(all)"  # write implies read; Accelo's default, read(all), could not sync anything


@dataclass(frozen=True)
class AcceloToken:
    access_token: str
    expires_at: float | None = None  # epoch seconds; None when unknown
    refresh_token: str | None = None

    def expires_within(self, seconds: float, *, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return self.expires_at - (time.time() if now is None else now) <= seconds


class TokenStore(Protocol):
    """Where the current token lives between processes (the connection's encrypted credentials)."""

    def load(self) -> AcceloToken | None: ...

    def save(self, token: AcceloToken) -> None: ...


class MemoryTokenStore:
    def __init__(self, token: AcceloToken | None = None) -> None:
        self.token = token
        self.saves = 0

    def load(self) -> AcceloToken | None:
        return self.token

    def save(self, token: AcceloToken) -> None:
        self.token = token
        self.saves += 1


class AcceloOAuth:
    """The OAuth endpoints of one deployment, for one registered application."""

    def __init__(
        self,
        http_client: httpx.Client,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http_client = http_client
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock

    def authorization_url(self, *, redirect_uri: str, state: str, scope: str = DEFAULT_SCOPE) -> str:
        """Where to send an admin to approve a web application."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "state": state,
            }
        )
        return f"{self.base_url}/oauth2/v0/authorize?{query}"

    def client_credentials(self, *, scope: str | None = DEFAULT_SCOPE, expires_in: int | None = None) -> AcceloToken:
        """A service application's token (no refresh token)."""
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        return self._token(form, expires_in)

    def exchange_code(self, code: str, *, redirect_uri: str, expires_in: int | None = None) -> AcceloToken:
        """A web application's first token, from the code Accelo redirected back with."""
        return self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}, expires_in)

    def refresh(self, refresh_token: str, *, expires_in: int | None = None) -> AcceloToken:
        token = self._token({"grant_type": "refresh_token", "refresh_token": refresh_token}, expires_in)
        if token.refresh_token is None:  # Accelo may keep the refresh token unchanged
            token = AcceloToken(token.access_token, token.expires_at, refresh_token)
        return token

    def revoke(self, token: str) -> None:
        self._post("/oauth2/v0/revoke", {"token": token})

    def _token(self, form: dict[str, str], expires_in: int | None) -> AcceloToken:
        if expires_in is not None:
            form["expires_in"] = str(expires_in)
        body = self._post("/oauth2/v0/token", form)
        access_token = body.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise AcceloMalformedResponse("the token endpoint answered without an access_token")
        lifetime = body.get("expires_in")  # a number or a string, depending on the grant
        try:
            expires_at = self.clock() + float(lifetime) if lifetime not in (None, "") else None
        except (TypeError, ValueError):
            raise AcceloMalformedResponse(f"expires_in is not a number: {lifetime!r}") from None
        refresh_token = body.get("refresh_token")
        return AcceloToken(
            access_token=access_token,
            expires_at=expires_at,
            refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        )

    def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            response = self.http_client.post(self.base_url + path, data=form, auth=(self.client_id, self.client_secret))
        except httpx.TransportError as exc:
            raise AcceloTransportFailure(f"{type(exc).__name__} calling {path}: {exc}") from exc
        if response.status_code >= 400:
            raise classify(response) or AcceloMalformedResponse(f"HTTP {response.status_code} from {path}")
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise AcceloMalformedResponse(f"{path} did not answer JSON ({kind})") from None
        if not isinstance(body, dict):
            raise AcceloMalformedResponse(f"{path} did not answer a JSON object")
        meta = body.get("meta")
        if isinstance(meta, dict) and meta.get("status") not in (None, "ok"):
            raise classify(response) or AcceloMalformedResponse(f"unexpected answer from {path}")
        payload = body.get("response")
        return payload if isinstance(payload, dict) else body


class TokenManager:
    """Hands out a valid access token, renewing it before it expires, and after Accelo rejects it.

    Safe to share between threads. Across processes the ``TokenStore`` is the meeting point: a process that
    finds its token stale first re-reads the store (another process may have renewed it already).
    """

    def __init__(
        self,
        *,
        auth_type: Literal["service", "web"],
        store: TokenStore,
        oauth: AcceloOAuth | None = None,
        scope: str | None = DEFAULT_SCOPE,
        expires_in: int | None = None,
        renew_before: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.auth_type = auth_type
        self.store = store
        self.oauth = oauth
        self.scope = scope
        self.expires_in = expires_in
        self.renew_before = renew_before
        self.clock = clock
        self._token: AcceloToken | None = None
        self._rejected: set[str] = set()
        self._lock = threading.Lock()

    @property
    def can_renew(self) -> bool:
        return self.oauth is not None

    def access_token(self) -> str:
        with self._lock:
            token = self._token
            if self._usable(token):
                assert token is not None
                return token.access_token
            stored = self.store.load()
            if self._usable(stored):
                assert stored is not None
                self._token = stored
                return stored.access_token
            renewed = self._renew(stored or token)
            self.store.save(renewed)
            self._token = renewed
            return renewed.access_token

    def invalidate(self, access_token: str) -> None:
        """Accelo said this token is no good (401): never hand it out again."""
        with self._lock:
            self._rejected.add(access_token)
            if self._token is not None and self._token.access_token == access_token:
                self._token = None

    def _usable(self, token: AcceloToken | None) -> bool:
        if token is None or not token.access_token or token.access_token in self._rejected:
            return False
        # Without a way to renew, an old token is still worth a try; Accelo will say if it is not.
        return not (self.can_renew and token.expires_within(self.renew_before, now=self.clock()))

    def _renew(self, previous: AcceloToken | None) -> AcceloToken:
        if self.oauth is None:
            raise AcceloReconnectRequired(
                "the Accelo access token is missing or was rejected, and no client secret is stored to get a new one"
            )
        if self.auth_type == "service":
            return self.oauth.client_credentials(scope=self.scope, expires_in=self.expires_in)
        if previous is None or previous.refresh_token is None:
            raise AcceloReconnectRequired(
                "the Accelo web application has no refresh token; an admin has to connect it again"
            )
        try:
            return self.oauth.refresh(previous.refresh_token, expires_in=self.expires_in)
        except AcceloError as exc:
            if exc.retryable:
                raise
            raise AcceloReconnectRequired(
                f"Accelo refused the refresh token ({exc.message}); an admin has to connect it again",
                status_code=exc.status_code,
                category=exc.category,
            ) from exc
