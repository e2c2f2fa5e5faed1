"""The HubSpot client: one object per connected account, over an injected ``httpx.Client``.

    client = hubspot_client(credentials, http_client=httpx.Client(timeout=30), budget_storage_uri=redis_url)
    found = client.contacts.batch_read(ids, properties=["email", "firstname"])
    for company in client.companies.modified_since(watermark):
        ...

The client never writes to the database and never schedules anything: OAuth tokens come from and go to the
injected ``token_store``; rate budgets live in ``budget_storage_uri`` (Redis in production, so every
process shares them).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from interlink.connectors.http import CallObserver, RetryPolicy, ignore_call
from interlink.connectors.hubspot.associations import AssociationsApi
from interlink.connectors.hubspot.auth import (
    DEFAULT_RETRY,
    MemoryTokenStore,
    OAuthApp,
    OAuthTokens,
    OAuthTokenSet,
    PrivateAppToken,
    RefreshLock,
    TokenProvider,
    TokenStore,
    refresh_lock_for,
    refresh_lock_name,
)
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.connectors.hubspot.errors import HubSpotAuthenticationFailed, HubSpotOAuthError
from interlink.connectors.hubspot.limits import HubSpotRateLimits, RateLimitSnapshot, hubspot_budgets
from interlink.connectors.hubspot.objects import ObjectsApi
from interlink.connectors.hubspot.pipelines import OwnersApi, PipelinesApi
from interlink.connectors.hubspot.properties import PropertiesApi
from interlink.connectors.hubspot.schemas import object_type_name
from interlink.connectors.hubspot.transport import HubSpotTransport


class HubSpotClient:
    """Typed access to one HubSpot account: ``contacts``, ``companies``, ``deals`` (or ``objects(type)``),
    ``properties``, ``associations``, ``pipelines`` and ``owners``."""

    def __init__(self, transport: HubSpotTransport, *, portal_id: int | None = None) -> None:
        self.transport = transport
        self.portal_id = portal_id
        self.contacts = ObjectsApi(transport, "contacts")
        self.companies = ObjectsApi(transport, "companies")
        self.deals = ObjectsApi(transport, "deals")
        self.properties = PropertiesApi(transport)
        self.associations = AssociationsApi(transport)
        self.pipelines = PipelinesApi(transport)
        self.owners = OwnersApi(transport)
        self._objects = {"contacts": self.contacts, "companies": self.companies, "deals": self.deals}

    def objects(self, object_type: str) -> ObjectsApi:
        """The objects API for any type name HubSpot accepts (``contact``, ``0-1``, ``p_custom``...)."""
        name = object_type_name(object_type)
        if name not in self._objects:
            self._objects[name] = ObjectsApi(self.transport, name)
        return self._objects[name]

    def bulk(self, share: float = 0.7) -> HubSpotClient:
        """A view of this client for bulk jobs: it uses at most ``share`` of each rate window, so live
        syncing through the full client always finds room (the budget is still the shared one)."""
        return HubSpotClient(self.transport.with_share(share), portal_id=self.portal_id)

    @property
    def rate_limits(self) -> RateLimitSnapshot | None:
        """What HubSpot's rate-limit headers said on the last call."""
        return self.transport.rate_limits


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _oauth_tokens(
    credentials: HubSpotCredentials,
    *,
    http_client: httpx.Client,
    budget_storage_uri: str,
    token_store: TokenStore | None,
    refresh_lock: RefreshLock | None,
    retry: RetryPolicy,
    observer: CallObserver,
) -> OAuthTokens:
    if not credentials.client_id or credentials.client_secret is None:
        raise HubSpotOAuthError("an OAuth connection needs the app's client id and client secret")
    if token_store is None:
        if credentials.refresh_token is None:
            raise HubSpotAuthenticationFailed("this OAuth connection has no refresh token; reconnect HubSpot")
        token_store = MemoryTokenStore(
            OAuthTokenSet(
                access_token=credentials.access_token.get_secret_value() if credentials.access_token else "",
                refresh_token=credentials.refresh_token.get_secret_value(),
                expires_at=credentials.access_token_expires_at or 0.0,
            )
        )
    app = OAuthApp(
        http_client,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret.get_secret_value(),
        base_url=credentials.base_url,
        budget_storage_uri=budget_storage_uri,
        retry=retry,
        observer=observer,
    )
    return OAuthTokens(
        app,
        token_store,
        refresh_lock or refresh_lock_for(budget_storage_uri),
        lock_name=refresh_lock_name(credentials.portal_id, credentials.client_id),
    )


def hubspot_client(
    credentials: HubSpotCredentials,
    *,
    http_client: httpx.Client,
    budget_storage_uri: str = "memory://",
    observer: CallObserver = ignore_call,
    token_store: TokenStore | None = None,
    refresh_lock: RefreshLock | None = None,
    limits: HubSpotRateLimits | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    max_budget_wait: float = 120.0,
) -> HubSpotClient:
    """A client for one connected HubSpot account.

    ``budget_storage_uri`` is where the rate budgets live (``redis://...`` shares them across processes and
    also makes OAuth refreshes single-flight across processes, unless ``refresh_lock`` says otherwise).
    ``token_store`` holds OAuth tokens (default: in memory, seeded from ``credentials``). ``limits`` default
    to the account's tier and auth type. A call that would wait longer than ``max_budget_wait`` for the
    budget raises ``HubSpotRateLimited`` (``HubSpotDailyLimitReached`` for the daily allowance).
    """
    tokens: TokenProvider
    if credentials.auth_type == "oauth":
        tokens = _oauth_tokens(
            credentials,
            http_client=http_client,
            budget_storage_uri=budget_storage_uri,
            token_store=token_store,
            refresh_lock=refresh_lock,
            retry=retry,
            observer=observer,
        )
    else:
        token = credentials.access_token.get_secret_value() if credentials.access_token else ""
        tokens = PrivateAppToken(token)
    limits = limits or HubSpotRateLimits.for_account(
        auth_type=credentials.auth_type,
        tier=credentials.rate_limit_tier,
        limit_increases=credentials.api_limit_increases,
    )
    budget, search_budget = hubspot_budgets(
        credentials.portal_id, limits, storage_uri=budget_storage_uri, max_wait=max_budget_wait
    )
    transport = HubSpotTransport(
        http_client,
        base_url=credentials.base_url,
        tokens=tokens,
        budget=budget,
        search_budget=search_budget,
        limits=limits,
        retry=retry,
        observer=observer,
        daily_reset_zone=_zone(credentials.time_zone),
    )
    return HubSpotClient(transport, portal_id=credentials.portal_id)
