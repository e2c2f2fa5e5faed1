"""OAuth: code exchange, refresh before expiry, one refresh at a time, a 429 on refresh, and the re-check
before a refused refresh token is declared revoked."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from interlink.connectors.hubspot.auth import (
    LocalRefreshLock,
    MemoryTokenStore,
    OAuthApp,
    OAuthTokens,
    OAuthTokenSet,
    RedisRefreshLock,
    RefreshLock,
)
from interlink.connectors.hubspot.errors import (
    HubSpotAuthorizationRevoked,
    HubSpotInvalidGrant,
    HubSpotOAuthError,
    HubSpotTokenExpired,
)
from interlink.simulators.hubspot import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, HubSpotSimulator
from tests.connectors.hubspot.support import FAST_RETRY, client_for, credentials, served
from tests.fixtures.services import require_redis

REDIRECT = "https://interlink.example/oauth/hubspot/callback"
TOKEN_ROUTE = "/oauth/v1/token"


@pytest.fixture
def oauth(simulator: HubSpotSimulator) -> Iterator[tuple[str, httpx.Client]]:
    with served(simulator, "in_process") as served_:
        yield served_


def app_for(base_url: str, http: httpx.Client) -> OAuthApp:
    return OAuthApp(
        http, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, base_url=base_url, retry=FAST_RETRY
    )


def refreshes(simulator: HubSpotSimulator) -> int:
    return simulator.auth.token_calls.by_grant_type.get("refresh_token", 0)


def expiring(tokens: OAuthTokenSet, seconds: float = 60) -> OAuthTokenSet:
    """The same tokens, due to expire soon (inside the refresh margin)."""
    return OAuthTokenSet(tokens.access_token, tokens.refresh_token, time.time() + seconds)


def test_the_authorize_url_and_the_code_exchange(simulator: HubSpotSimulator, oauth: tuple[str, httpx.Client]) -> None:
    app = app_for(*oauth)
    url = app.authorize_url(REDIRECT, ["crm.objects.contacts.read", "oauth"], state="s-1", app_base_url=oauth[0])
    assert "scope=crm.objects.contacts.read%20oauth" in url
    assert "state=s-1" in url
    redirected = oauth[1].get(url, follow_redirects=False)
    assert redirected.status_code == 302
    assert redirected.headers["location"].startswith(REDIRECT + "?code=")
    code = httpx.URL(redirected.headers["location"]).params["code"]

    grant = app.exchange_code(code, REDIRECT)
    assert grant.hub_id == simulator.portal_id
    assert "crm.objects.contacts.read" in grant.scopes
    assert 1700 < grant.tokens.expires_at - time.time() <= 1800
    with pytest.raises(HubSpotInvalidGrant):
        app.exchange_code(code, REDIRECT)  # a code works once
    with pytest.raises(HubSpotInvalidGrant):
        app.exchange_code(simulator.issue_authorization_code(REDIRECT), "https://elsewhere.example/cb")
    wrong_secret = OAuthApp(oauth[1], client_id=DEFAULT_CLIENT_ID, client_secret="nope", base_url=oauth[0])
    with pytest.raises(HubSpotOAuthError):
        wrong_secret.exchange_code(simulator.issue_authorization_code(REDIRECT), REDIRECT)


def oauth_client(base_url: str, http: httpx.Client, store: MemoryTokenStore, **kwargs: Any) -> Any:
    creds = credentials(
        base_url, auth_type="oauth", access_token=None, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET
    )
    return client_for(base_url, http, credentials=creds, token_store=store, **kwargs)


def test_the_client_refreshes_before_expiry_not_after(
    simulator: HubSpotSimulator, oauth: tuple[str, httpx.Client]
) -> None:
    grant = app_for(*oauth).exchange_code(simulator.issue_authorization_code(REDIRECT), REDIRECT)
    store = MemoryTokenStore(grant.tokens)
    client = oauth_client(*oauth, store)

    client.contacts.create({"email": "o@example.com"})
    assert refreshes(simulator) == 0  # 30 minutes left: nothing to do

    store.save(expiring(grant.tokens, 120))  # still valid for two minutes, but inside the margin
    client = oauth_client(*oauth, store)
    assert len(list(client.contacts.iterate())) == 1
    assert refreshes(simulator) == 1
    assert store.load().access_token != grant.tokens.access_token
    assert store.load().refresh_token == grant.tokens.refresh_token
    list(client.contacts.iterate())
    assert refreshes(simulator) == 1  # the new token is cached


def test_a_token_expired_at_hubspot_is_a_typed_401(
    simulator: HubSpotSimulator, oauth: tuple[str, httpx.Client]
) -> None:
    grant = app_for(*oauth).exchange_code(simulator.issue_authorization_code(REDIRECT), REDIRECT)
    client = oauth_client(*oauth, MemoryTokenStore(grant.tokens))
    simulator.expire_access_token(grant.tokens.access_token)
    with pytest.raises(HubSpotTokenExpired):
        client.contacts.get("1")


def single_flight(simulator: HubSpotSimulator, oauth: tuple[str, httpx.Client], lock_for: Any) -> None:
    """Eight workers, each with its own provider and lock object (as separate processes would have), find
    the token about to expire at the same moment: HubSpot sees one refresh, and every worker uses its result."""
    grant = app_for(*oauth).exchange_code(simulator.issue_authorization_code(REDIRECT), REDIRECT)
    store = MemoryTokenStore(expiring(grant.tokens))
    name = f"hubspot-oauth-refresh:test:{uuid.uuid4().hex}"
    barrier = threading.Barrier(8)
    seen: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        provider = OAuthTokens(app_for(*oauth), store, lock_for(), lock_name=name)
        barrier.wait()
        try:
            seen.append(provider.bearer_token())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert refreshes(simulator) == 1
    assert len(set(seen)) == 1
    assert seen[0] == store.load().access_token != grant.tokens.access_token
    assert store.saves == 1


def test_one_refresh_at_a_time_within_a_process(simulator: HubSpotSimulator, oauth: tuple[str, httpx.Client]) -> None:
    single_flight(simulator, oauth, LocalRefreshLock)


@pytest.mark.redis
def test_one_refresh_at_a_time_across_processes_with_redis(
    simulator: HubSpotSimulator, oauth: tuple[str, httpx.Client]
) -> None:
    url = require_redis()
    single_flight(simulator, oauth, lambda: RedisRefreshLock(url))


def test_a_429_on_refresh_is_waited_out_and_retried(
    simulator: HubSpotSimulator, oauth: tuple[str, httpx.Client]
) -> None:
    grant = app_for(*oauth).exchange_code(simulator.issue_authorization_code(REDIRECT), REDIRECT)
    store = MemoryTokenStore(expiring(grant.tokens))
    body = json.dumps(
        {"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT"}
    )
    simulator.inject_fault(TOKEN_ROUTE, status=429, body=body, headers={"Retry-After": "0.2"})
    simulator.calls.reset()
    provider = OAuthTokens(app_for(*oauth), store, LocalRefreshLock(), lock_name=uuid.uuid4().hex)
    token = provider.bearer_token()
    assert token == store.load().access_token != grant.tokens.access_token
    assert simulator.calls.count(route=TOKEN_ROUTE, status=429) == 1
    assert simulator.calls.count(route=TOKEN_ROUTE, status=200) == 1


class ReconnectedMeanwhile(MemoryTokenStore):
    """A store that hands out the old tokens twice, then the tokens an admin's reconnect stored."""

    def __init__(self, old: OAuthTokenSet, new: OAuthTokenSet) -> None:
        super().__init__(old)
        self.new = new
        self.loads = 0

    def load(self) -> OAuthTokenSet:
        self.loads += 1
        return super().load() if self.loads <= 2 else self.new


class TestInvalidGrantIsReChecked:
    def provider(
        self, oauth: tuple[str, httpx.Client], store: MemoryTokenStore, lock: RefreshLock | None = None
    ) -> OAuthTokens:
        return OAuthTokens(
            app_for(*oauth), store, lock or LocalRefreshLock(), lock_name=uuid.uuid4().hex, recheck_delay=0.01
        )

    def test_newer_tokens_in_the_store_win(self, simulator: HubSpotSimulator, oauth: tuple[str, httpx.Client]) -> None:
        app = app_for(*oauth)
        old = app.exchange_code(simulator.issue_authorization_code(REDIRECT), REDIRECT).tokens
        new = app.exchange_code(simulator.issue_authorization_code(REDIRECT), REDIRECT).tokens
        simulator.revoke_refresh_token(old.refresh_token)
        store = ReconnectedMeanwhile(expiring(old), new)
        assert self.provider(oauth, store).bearer_token() == new.access_token

    def test_a_transient_refusal_is_retried(self, simulator: HubSpotSimulator, oauth: tuple[str, httpx.Client]) -> None:
        tokens = app_for(*oauth).exchange_code(simulator.issue_authorization_code(REDIRECT), REDIRECT).tokens
        refusal = json.dumps(
            {"error": "invalid_grant", "error_description": "try again", "status": "BAD_REFRESH_TOKEN"}
        )
        simulator.inject_fault(TOKEN_ROUTE, status=400, body=refusal)
        store = MemoryTokenStore(expiring(tokens))
        token = self.provider(oauth, store).bearer_token()
        assert token == store.load().access_token != tokens.access_token
        assert simulator.calls.count(route="/oauth/v1/refresh-tokens/{token}", status=200) == 1  # asked HubSpot

    def test_a_revoked_app_is_reported_as_revoked(
        self, simulator: HubSpotSimulator, oauth: tuple[str, httpx.Client]
    ) -> None:
        tokens = app_for(*oauth).exchange_code(simulator.issue_authorization_code(REDIRECT), REDIRECT).tokens
        simulator.revoke_refresh_token(tokens.refresh_token)  # the app was uninstalled
        store = MemoryTokenStore(expiring(tokens))
        with pytest.raises(HubSpotAuthorizationRevoked, match="reconnect"):
            self.provider(oauth, store).bearer_token()
        assert simulator.calls.count(route="/oauth/v1/refresh-tokens/{token}", status=404) == 1
        assert store.saves == 0
