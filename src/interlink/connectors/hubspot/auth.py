"""Who we are to HubSpot: a private-app token, or OAuth 2 tokens that we refresh before they expire.

Private-app tokens are static (``Authorization: Bearer pat-...``). OAuth access tokens live 30 minutes
(reference/hubspot-api.md §7.2); HubSpot says to refresh on ``expires_in``, not on a 401 (§2.8), so
``OAuthTokens`` refreshes ``refresh_margin`` seconds before expiry.

Many worker processes share one connection, so a refresh is single-flight: it happens under a lock that all
processes see (Redis in production, an in-process lock in the embedded default), and whoever gets the lock
first re-reads the token store, because another process may have refreshed while it waited. The connector
never touches the database: the tokens come from and go to an injected ``TokenStore`` (the database-backed
one is ``interlink.connections.tokens``).

A refused refresh (``invalid_grant``) is re-checked before anyone marks the connection broken: the store is
re-read (another process may hold newer tokens), and HubSpot is asked whether it still knows the refresh
token. Only when it does not is ``HubSpotAuthorizationRevoked`` raised.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import httpx
import redis

from interlink.connectors.errors import ConnectorError, TransportFailure
from interlink.connectors.http import CallObserver, RetryPolicy, VendorHttp, ignore_call, json_body
from interlink.connectors.hubspot.credentials import HUBSPOT_API_BASE_URL
from interlink.connectors.hubspot.errors import (
    HubSpotAuthenticationFailed,
    HubSpotAuthorizationRevoked,
    HubSpotError,
    HubSpotInvalidGrant,
    HubSpotMalformedResponse,
    HubSpotOAuthError,
    HubSpotRateLimited,
    HubSpotServerError,
    HubSpotTransportFailure,
)
from interlink.connectors.hubspot.schemas import TokenResponse, parse_model
from interlink.connectors.ratelimit import Limit, RateBudget

HUBSPOT_APP_BASE_URL = "https://app.hubspot.com"
DEFAULT_RETRY = RetryPolicy()


class TokenProvider(Protocol):
    """Gives the bearer token for the next request (refreshing it first if it is about to expire)."""

    def bearer_token(self) -> str: ...


class PrivateAppToken:
    def __init__(self, token: str) -> None:
        if not token:
            raise HubSpotAuthenticationFailed("no private-app access token is configured")
        self._token = token

    def bearer_token(self) -> str:
        return self._token


@dataclass(frozen=True)
class OAuthTokenSet:
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds

    def expires_within(self, seconds: float, now: float) -> bool:
        return self.expires_at - now <= seconds


@dataclass(frozen=True)
class OAuthGrant:
    """What an authorization-code exchange gives: the tokens, and which account and scopes they are for."""

    tokens: OAuthTokenSet
    hub_id: int | None
    scopes: list[str]


class TokenStore(Protocol):
    """Where a connection's OAuth tokens live. ``save`` must be durable when it returns: other processes
    read the store as soon as the refresh lock is released."""

    def load(self) -> OAuthTokenSet: ...

    def save(self, tokens: OAuthTokenSet) -> None: ...


class MemoryTokenStore:
    """Tokens kept in memory (tests, the embedded sandbox, and one-off scripts)."""

    def __init__(self, tokens: OAuthTokenSet) -> None:
        self._tokens = tokens
        self._lock = threading.Lock()
        self.saves = 0

    def load(self) -> OAuthTokenSet:
        with self._lock:
            return self._tokens

    def save(self, tokens: OAuthTokenSet) -> None:
        with self._lock:
            self._tokens = tokens
            self.saves += 1


# -- the refresh lock ----------------------------------------------------------------------------------------


class RefreshLock(Protocol):
    def hold(self, name: str) -> AbstractContextManager[None]: ...


class LocalRefreshLock:
    """One refresh at a time within this process (the embedded default: one process does everything)."""

    _locks: dict[str, threading.Lock] = {}
    _registry_lock = threading.Lock()

    def __init__(self, *, wait_seconds: float = 60.0) -> None:
        self.wait_seconds = wait_seconds

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._registry_lock:
            lock = self._locks.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=self.wait_seconds):
            raise HubSpotTransportFailure(f"waited {self.wait_seconds:.0f}s for another token refresh")
        try:
            yield
        finally:
            lock.release()


class RedisRefreshLock:
    """One refresh at a time across every process that uses this Redis (redis-py's lease-based lock).

    The lease (``lease_seconds``) frees the lock if its holder dies mid-refresh.
    """

    def __init__(self, redis_url: str, *, lease_seconds: float = 60.0, wait_seconds: float = 60.0) -> None:
        self._redis = redis.Redis.from_url(redis_url)
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        lock = self._redis.lock(
            f"interlink:lock:{name}", timeout=self.lease_seconds, blocking_timeout=self.wait_seconds
        )
        try:
            acquired = lock.acquire()
        except redis.RedisError as exc:
            raise HubSpotTransportFailure(f"cannot reach Redis for the token-refresh lock: {exc}") from exc
        if not acquired:
            raise HubSpotTransportFailure(f"waited {self.wait_seconds:.0f}s for another token refresh")
        try:
            yield
        finally:
            # If the lease expired or Redis went away, the lease frees the lock either way.
            with suppress(redis.RedisError):
                lock.release()


def refresh_lock_for(redis_url: str | None) -> RefreshLock:
    """The Redis lock when the deployment has Redis, the in-process lock otherwise."""
    if redis_url and redis_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisRefreshLock(redis_url)
    return LocalRefreshLock()


# -- the token endpoint --------------------------------------------------------------------------------------


def classify_oauth(response: httpx.Response) -> ConnectorError | None:
    """Errors of ``/oauth/v1/token``: RFC 6749 ``error`` plus HubSpot's legacy ``status`` and ``message``."""
    status = response.status_code
    if status < 400:
        return None
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    error = str(body.get("error") or "")
    legacy = str(body.get("status") or "")
    message = str(
        body.get("error_description") or body.get("message") or error or f"HTTP {status} from the token endpoint"
    )
    common: dict[str, Any] = {
        "status_code": status,
        "category": error or legacy or None,
        "correlation_id": body.get("correlationId"),
        "details": body or None,
    }
    if status == 429:
        retry_after = response.headers.get("retry-after")
        wait = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else 1.0
        return HubSpotRateLimited(message, retry_after=wait, policy=body.get("policyName"), **common)
    if status >= 500:
        return HubSpotServerError(message, **common)
    if error == "invalid_grant" or legacy in {"BAD_REFRESH_TOKEN", "BAD_AUTH_CODE", "EXPIRED_AUTH_CODE"}:
        return HubSpotInvalidGrant(message, **common)
    return HubSpotOAuthError(message, **common)


class OAuthApp:
    """Our public app as HubSpot's OAuth endpoints know it: authorize URL, code exchange, refresh.

    Token calls go through their own small budget and ``VendorHttp``, so a 429 or a 5xx on a refresh is
    waited out and retried like any other call, without touching the portal's API budget.
    """

    def __init__(
        self,
        http_client: httpx.Client,
        *,
        client_id: str,
        client_secret: str,
        base_url: str = HUBSPOT_API_BASE_URL,
        budget_storage_uri: str = "memory://",
        retry: RetryPolicy = DEFAULT_RETRY,
        observer: CallObserver = ignore_call,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not client_id or not client_secret:
            raise HubSpotOAuthError("OAuth needs the app's client id and client secret")
        self.client_id = client_id
        self._client_secret = client_secret
        self.base_url = base_url.rstrip("/")
        self._clock = clock
        budget = RateBudget(f"hubspot-oauth:{client_id}", [Limit("token_calls", 10, 1)], storage_uri=budget_storage_uri)
        self._http = VendorHttp(
            http_client, vendor="hubspot", budget=budget, classify=classify_oauth, retry=retry, observer=observer
        )

    def authorize_url(
        self,
        redirect_uri: str,
        scopes: Sequence[str],
        *,
        optional_scopes: Sequence[str] = (),
        state: str | None = None,
        app_base_url: str = HUBSPOT_APP_BASE_URL,
    ) -> str:
        """Where to send an admin to install the app (§7.1): scopes space-separated, ``%20``-encoded."""
        params = {"client_id": self.client_id, "redirect_uri": redirect_uri, "scope": " ".join(scopes)}
        if optional_scopes:
            params["optional_scope"] = " ".join(optional_scopes)
        if state is not None:
            params["state"] = state
        return f"{app_base_url.rstrip('/')}/oauth/authorize?{urlencode(params, quote_via=quote)}"

    def exchange_code(self, code: str, redirect_uri: str) -> OAuthGrant:
        """Trade the ``code`` from the install redirect for tokens."""
        response = self._token_call({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        if not response.refresh_token:
            raise HubSpotMalformedResponse("the token endpoint answered a code exchange without a refresh token")
        tokens = OAuthTokenSet(
            access_token=response.access_token,
            refresh_token=response.refresh_token,
            expires_at=self._clock() + response.expires_in,
        )
        return OAuthGrant(tokens=tokens, hub_id=response.hub_id, scopes=list(response.scopes or []))

    def refresh(self, refresh_token: str) -> OAuthTokenSet:
        response = self._token_call({"grant_type": "refresh_token", "refresh_token": refresh_token})
        return OAuthTokenSet(
            access_token=response.access_token,
            # HubSpot keeps the refresh token on a refresh; accept a new one if it ever rotates them.
            refresh_token=response.refresh_token or refresh_token,
            expires_at=self._clock() + response.expires_in,
        )

    def refresh_token_is_known(self, refresh_token: str) -> bool:
        """Whether HubSpot still knows this refresh token (``GET /oauth/v1/refresh-tokens/{token}``)."""
        try:
            self._send("GET", f"/oauth/v1/refresh-tokens/{quote(refresh_token, safe='')}", route="refresh-token")
        except (HubSpotInvalidGrant, HubSpotOAuthError):
            return False
        except HubSpotError as exc:
            if exc.status_code == 404:
                return False
            raise
        return True

    def _token_call(self, form: dict[str, str]) -> TokenResponse:
        form = {**form, "client_id": self.client_id, "client_secret": self._client_secret}
        # Asking again is harmless: a refresh token stays valid, and a spent authorization code is refused.
        response = self._send("POST", "/oauth/v1/token", route="/oauth/v1/token", data=form, idempotent=True)
        return parse_model(TokenResponse, json_body(response, HubSpotMalformedResponse), what="token response")

    def _send(self, method: str, path: str, *, route: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.send(method, self.base_url + path, route=route, **kwargs)
        except HubSpotError:
            raise
        except TransportFailure as exc:
            raise HubSpotTransportFailure(exc.message, request_sent=exc.request_sent) from exc


class OAuthTokens:
    """The bearer token of an OAuth connection, refreshed before expiry, one refresh at a time."""

    def __init__(
        self,
        app: OAuthApp,
        store: TokenStore,
        lock: RefreshLock,
        *,
        lock_name: str,
        refresh_margin: float = 300.0,
        recheck_delay: float = 2.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.app = app
        self.store = store
        self.lock = lock
        self.lock_name = lock_name
        self.refresh_margin = refresh_margin
        self.recheck_delay = recheck_delay
        self._clock = clock
        self._sleep = sleep
        self._cached: OAuthTokenSet | None = None
        self._cache_lock = threading.Lock()
        self.refreshes = 0  # refreshes this instance made (not those it found done by others)

    def bearer_token(self) -> str:
        with self._cache_lock:
            cached = self._cached
        if cached is None or cached.expires_within(self.refresh_margin, self._clock()):
            cached = self._current()
        return cached.access_token

    def _current(self) -> OAuthTokenSet:
        tokens = self.store.load()
        if not tokens.expires_within(self.refresh_margin, self._clock()):
            return self._remember(tokens)
        with self.lock.hold(self.lock_name):
            tokens = self.store.load()  # someone may have refreshed while we waited for the lock
            if not tokens.expires_within(self.refresh_margin, self._clock()):
                return self._remember(tokens)
            fresh = self._refresh(tokens)
            self.store.save(fresh)
            self.refreshes += 1
            return self._remember(fresh)

    def _remember(self, tokens: OAuthTokenSet) -> OAuthTokenSet:
        with self._cache_lock:
            self._cached = tokens
        return tokens

    def _refresh(self, tokens: OAuthTokenSet) -> OAuthTokenSet:
        try:
            return self.app.refresh(tokens.refresh_token)
        except HubSpotInvalidGrant as refused:
            return self._recheck(tokens, refused)

    def _recheck(self, tokens: OAuthTokenSet, refused: HubSpotInvalidGrant) -> OAuthTokenSet:
        """A refused refresh is not yet a revoked app: HubSpot has answered ``invalid_grant`` transiently."""
        stored = self.store.load()
        if stored.refresh_token != tokens.refresh_token:
            # Someone stored newer tokens (a reconnect, or a refresh that rotated the refresh token).
            if not stored.expires_within(self.refresh_margin, self._clock()):
                return stored
            return self.app.refresh(stored.refresh_token)
        if self.app.refresh_token_is_known(tokens.refresh_token):
            self._sleep(self.recheck_delay)
            try:
                return self.app.refresh(tokens.refresh_token)
            except HubSpotInvalidGrant as again:
                raise HubSpotAuthenticationFailed(
                    "HubSpot refused the refresh token twice but still lists it; not marking the "
                    f"connection broken yet ({again.message})",
                    status_code=again.status_code,
                    category=again.category,
                ) from again
        raise HubSpotAuthorizationRevoked(
            "HubSpot no longer accepts this connection's refresh token (the app was uninstalled or its "
            f"access revoked); an admin must reconnect HubSpot. HubSpot said: {refused.message}",
            status_code=refused.status_code,
            category=refused.category,
        ) from refused


def refresh_lock_name(portal_id: int, client_id: str) -> str:
    digest = hashlib.sha256(client_id.encode()).hexdigest()[:12]
    return f"hubspot-oauth-refresh:{portal_id}:{digest}"
