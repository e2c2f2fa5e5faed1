"""The Accelo client: one deployment's records, statuses, custom fields, webhooks and change feeds.

Build one with ``accelo_client(credentials, http_client=…)``. Every request spends from the deployment's
rate budget (5,000 requests an hour, shared by every process that uses the same budget storage, less a small
safety margin because Accelo counts requests when they arrive and ours are counted when they leave), is
retried with backoff on 429 and 5xx, and raises the typed errors of ``interlink.connectors.accelo.errors``.

    client = accelo_client(credentials, http_client=httpx.Client(timeout=30),
                           budget_storage_uri=settings.broker_url, token_store=store)
    companies = client.companies.get_many(ids)            # 100 ids per call
    client.affiliated_contacts.update(contact_id, {"email": "x@example.com", "surname": "Wong"})
    batch = client.feeds.affiliations().poll(cursor)       # records + the next cursor
"""

from __future__ import annotations

import logging
import math
from typing import Literal, overload

import httpx

from interlink.connectors.accelo.addresses import Addresses
from interlink.connectors.accelo.api import AcceloApi
from interlink.connectors.accelo.auth import (
    DEFAULT_SCOPE,
    AcceloOAuth,
    AcceloToken,
    MemoryTokenStore,
    TokenManager,
    TokenStore,
)
from interlink.connectors.accelo.credentials import AcceloCredentials
from interlink.connectors.accelo.custom_fields import Profiles, Segmentations
from interlink.connectors.accelo.errors import classify, seconds_until_reset
from interlink.connectors.accelo.feeds import DEFAULT_OVERLAP_SECONDS, Feeds
from interlink.connectors.accelo.query import Query
from interlink.connectors.accelo.records import (
    AffiliatedContacts,
    Affiliations,
    Companies,
    Contacts,
    RecordResource,
)
from interlink.connectors.accelo.schemas import Affiliation, Company, Contact, ObjectType, TokenInfo
from interlink.connectors.accelo.subscriptions import WebhookSubscriptions
from interlink.connectors.accelo.workflow import Progressions, Statuses
from interlink.connectors.http import CallObserver, HeaderObserver, RetryPolicy, VendorHttp, ignore_call
from interlink.connectors.ratelimit import Limit, RateBudget

log = logging.getLogger(__name__)

REQUESTS_PER_HOUR = 5000
SAFETY_MARGIN = 0.02  # spend at most 98% of the window: requests leave early and arrive late
RATE_LIMIT_NAME = "deployment"


def rate_budget(
    deployment: str,
    *,
    storage_uri: str = "memory://",
    requests_per_window: int = REQUESTS_PER_HOUR,
    window_seconds: int = 3600,
    safety_margin: float = SAFETY_MARGIN,
) -> RateBudget:
    """The deployment's budget, shared by every process using ``storage_uri`` (Redis in production)."""
    amount = max(1, math.floor(requests_per_window * (1.0 - safety_margin)))
    return RateBudget(f"accelo:{deployment}", [Limit(RATE_LIMIT_NAME, amount, window_seconds)], storage_uri=storage_uri)


def rate_limit_headers(*, window_seconds: int) -> HeaderObserver:
    """Feed the budget from ``X-RateLimit-Remaining``/``-Reset``: when Accelo says the window is spent
    (another integration on the same deployment may be spending it too), every process waits for the reset.
    """

    def observe(response: httpx.Response, budget: RateBudget) -> None:
        raw = response.headers.get("x-ratelimit-remaining")
        if raw is None:
            return
        try:
            remaining = int(raw)
        except ValueError:
            return
        if remaining > 0:
            return
        wait = seconds_until_reset(response)
        budget.pause(
            min(float(window_seconds), max(wait if wait is not None else 1.0, 0.5)),
            reason="Accelo reports no requests left in this window",
        )

    return observe


class AcceloClient:
    """One Accelo deployment. The resources are attributes: ``companies``, ``contacts``, ``affiliations``,
    ``affiliated_contacts``, ``statuses``, ``progressions``, ``profiles``, ``segmentations``,
    ``addresses``, ``webhooks`` and ``feeds``."""

    def __init__(self, api: AcceloApi, *, feed_overlap: int = DEFAULT_OVERLAP_SECONDS) -> None:
        self.api = api
        self.feed_overlap = feed_overlap
        self.companies = Companies(api)
        self.contacts = Contacts(api)
        self.affiliations = Affiliations(api)
        self.affiliated_contacts = AffiliatedContacts(self.contacts, self.affiliations)
        self.statuses = Statuses(api)
        self.progressions = Progressions(api)
        self.profiles = Profiles(api)
        self.segmentations = Segmentations(api)
        self.addresses = Addresses(api)
        self.webhooks = WebhookSubscriptions(api)
        self.feeds = Feeds(api, overlap=feed_overlap)

    @property
    def budget(self) -> RateBudget:
        return self.api.http.budget

    def for_bulk(self, share: float = 0.7) -> AcceloClient:
        """The same client, allowed only ``share`` of each rate window, so live syncing keeps the rest."""
        return AcceloClient(self.api.with_share(share), feed_overlap=self.feed_overlap)

    @overload
    def records(self, object_type: Literal["company"]) -> Companies: ...
    @overload
    def records(self, object_type: Literal["contact"]) -> Contacts: ...
    @overload
    def records(self, object_type: Literal["affiliation"]) -> Affiliations: ...
    def records(
        self, object_type: ObjectType
    ) -> RecordResource[Company] | RecordResource[Contact] | RecordResource[Affiliation]:
        resources: dict[str, RecordResource[Company] | RecordResource[Contact] | RecordResource[Affiliation]] = {
            "company": self.companies,
            "contact": self.contacts,
            "affiliation": self.affiliations,
        }
        return resources[object_type]

    def find_missing(self, object_type: ObjectType, record_ids: set[int] | list[int]) -> set[int]:
        """Which known ids no longer resolve (deleted in Accelo), one call per 100 ids."""
        return self.records(object_type).find_missing(record_ids)

    def token_info(self) -> TokenInfo:
        """Whose token this is (a cheap connection check)."""
        return self.api.one(TokenInfo, "/tokeninfo", route="/tokeninfo", query=Query())


def accelo_client(
    credentials: AcceloCredentials,
    *,
    http_client: httpx.Client,
    budget_storage_uri: str = "memory://",
    observer: CallObserver = ignore_call,
    token_store: TokenStore | None = None,
    requests_per_window: int = REQUESTS_PER_HOUR,
    window_seconds: int = 3600,
    safety_margin: float = SAFETY_MARGIN,
    retry: RetryPolicy | None = None,
    feed_overlap: int = DEFAULT_OVERLAP_SECONDS,
    renew_before: float = 3600.0,
) -> AcceloClient:
    """The client for one deployment, over an injected ``httpx.Client`` (the simulator's in tests).

    ``token_store`` keeps renewed tokens (the product's is DB-backed); without one, tokens live in memory,
    starting from the credentials' ``access_token``. ``requests_per_window``/``window_seconds`` are Accelo's
    limit (tests compress the hour).
    """
    base_url = credentials.api_base_url
    if token_store is None:
        seed = None
        if credentials.access_token is not None:
            seed = AcceloToken(
                credentials.access_token.get_secret_value(),
                credentials.access_token_expires_at,
                credentials.refresh_token.get_secret_value() if credentials.refresh_token else None,
            )
        elif credentials.refresh_token is not None:
            seed = AcceloToken("", 0.0, credentials.refresh_token.get_secret_value())
        token_store = MemoryTokenStore(seed)
    oauth = None
    if credentials.client_secret is not None:
        oauth = AcceloOAuth(
            http_client,
            base_url=base_url,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret.get_secret_value(),
        )
    tokens = TokenManager(
        auth_type=credentials.auth_type,
        store=token_store,
        oauth=oauth,
        scope=credentials.scope or DEFAULT_SCOPE,
        renew_before=renew_before,
    )
    budget = rate_budget(
        credentials.deployment,
        storage_uri=budget_storage_uri,
        requests_per_window=requests_per_window,
        window_seconds=window_seconds,
        safety_margin=safety_margin,
    )
    http = VendorHttp(
        http_client,
        vendor="accelo",
        budget=budget,
        classify=classify,
        observe_headers=rate_limit_headers(window_seconds=window_seconds),
        retry=retry or RetryPolicy(),
        observer=observer,
    )
    return AcceloClient(AcceloApi(http, base_url=base_url, tokens=tokens), feed_overlap=feed_overlap)
