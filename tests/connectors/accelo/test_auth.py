"""Service and web applications: getting, renewing and sending tokens."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from interlink.connectors.accelo import AcceloToken, MemoryTokenStore, accelo_client
from interlink.connectors.accelo.auth import AcceloOAuth
from interlink.connectors.accelo.errors import AcceloInvalidClient, AcceloOAuthError, AcceloReconnectRequired
from interlink.connectors.errors import AuthenticationFailed
from interlink.simulators.accelo import (
    DEFAULT_ACCESS_TOKEN,
    SERVICE_CLIENT_ID,
    SERVICE_CLIENT_SECRET,
    WEB_CLIENT_ID,
    WEB_CLIENT_SECRET,
    WEB_REDIRECT_URIS,
)
from tests.connectors.accelo.harness import Transport, credentials, harness


def test_a_service_application_gets_a_token_with_basic_auth_and_keeps_it(transport: Transport) -> None:
    store = MemoryTokenStore()
    with harness(transport, client_options={"token_store": store}) as wired:
        wired.client.companies.count()
        wired.client.companies.count()
        assert store.saves == 1
        assert store.token is not None
        assert store.token.refresh_token is None  # service applications get none
        assert store.token.expires_at is not None
        assert store.token.expires_at > time.time() + 29 * 86400
        assert wired.sim.oauth.issued == 1  # one token for both calls
        assert wired.sim.calls.count(route="/oauth2/v0/token") == 1


def test_a_token_near_its_expiry_is_renewed_before_use(transport: Transport) -> None:
    store = MemoryTokenStore(AcceloToken("about-to-expire", expires_at=time.time() + 60))
    with harness(transport, client_options={"token_store": store}) as wired:
        wired.client.companies.count()
        assert store.token is not None
        assert store.token.access_token != "about-to-expire"
        assert wired.sim.calls.count(route="/api/v0/companies/count", status=401) == 0  # never sent the old one


def test_a_rejected_token_is_renewed_and_the_call_repeated_once(transport: Transport) -> None:
    store = MemoryTokenStore()
    with harness(transport, client_options={"token_store": store}) as wired:
        wired.client.companies.count()
        assert store.token is not None
        wired.sim.oauth.expire(store.token.access_token)  # e.g. revoked in Accelo

        assert wired.client.companies.count() == 0

        assert wired.sim.calls.count(route="/api/v0/companies/count", status=401) == 1
        assert wired.sim.oauth.issued == 2


def test_another_process_renewing_first_is_reused(transport: Transport) -> None:
    store = MemoryTokenStore(AcceloToken("stale", expires_at=time.time() + 10))
    with harness(transport, client_options={"token_store": store}) as wired:
        fresh = wired.sim.issue_token()
        store.token = AcceloToken(fresh, expires_at=time.time() + 86400)  # saved by another worker
        wired.client.companies.count()
        assert wired.sim.calls.count(route="/oauth2/v0/token") == 0


def test_without_a_client_secret_a_rejected_token_is_final(transport: Transport) -> None:
    creds = credentials(client_secret=None, access_token="not-a-real-token")
    with harness(transport, client_options={"credentials": creds}) as wired:
        with pytest.raises(AcceloInvalidClient) as raised:
            wired.client.companies.count()
        assert isinstance(raised.value, AuthenticationFailed)
        assert raised.value.status_code == 401


def test_a_static_token_works_without_any_oauth(transport: Transport) -> None:
    creds = credentials(client_secret=None, access_token=DEFAULT_ACCESS_TOKEN)
    with harness(transport, client_options={"credentials": creds}) as wired:
        assert wired.client.token_info().deployment == "simulator"


def test_wrong_client_credentials_are_authentication_failures(transport: Transport) -> None:
    creds = credentials(client_secret="wrong")
    with harness(transport, client_options={"credentials": creds}) as wired, pytest.raises(AcceloInvalidClient):
        wired.client.companies.count()


def test_the_token_travels_only_in_the_authorization_header(transport: Transport) -> None:
    seen: list[httpx.Request] = []
    with harness(transport) as wired:
        wired.http.event_hooks["request"].append(seen.append)
        wired.client.companies.count()
        api = [request for request in seen if request.url.path.startswith("/api/")]
        assert api
        assert all(request.headers["authorization"].startswith("Bearer ") for request in api)
        assert all("_bearer_token" not in str(request.url) for request in api)
        both = wired.http.get(
            f"{wired.base_url}/api/v0/companies",
            params={"_bearer_token": DEFAULT_ACCESS_TOKEN},
            headers={"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"},
        )
        assert both.status_code == 400
        assert both.json()["meta"]["status"] == "invalid_request"


class TestWebApplication:
    def test_authorization_code_then_refresh(self, transport: Transport) -> None:
        with harness(transport) as wired:
            oauth = AcceloOAuth(
                wired.http, base_url=wired.base_url, client_id=WEB_CLIENT_ID, client_secret=WEB_CLIENT_SECRET
            )
            url = oauth.authorization_url(redirect_uri=WEB_REDIRECT_URIS[0], state="xyz")
            assert "response_type=code" in url
            assert "scope=write%28all%29" in url
            redirect = wired.http.get(url)
            assert redirect.status_code == 302
            query = parse_qs(urlsplit(redirect.headers["location"]).query)
            assert query["state"] == ["xyz"]

            token = oauth.exchange_code(query["code"][0], redirect_uri=WEB_REDIRECT_URIS[0])
            assert token.refresh_token

            store = MemoryTokenStore(token)
            creds = credentials(
                auth_type="web", client_id=WEB_CLIENT_ID, client_secret=WEB_CLIENT_SECRET, base_url=wired.base_url
            )
            client = accelo_client(creds, http_client=wired.http, token_store=store)
            assert client.companies.count() == 0
            wired.sim.oauth.expire(token.access_token)
            assert client.companies.count() == 0  # refreshed after the 401
            assert store.token is not None
            assert store.token.access_token != token.access_token
            assert store.token.refresh_token == token.refresh_token

    def test_a_used_code_cannot_be_exchanged_twice(self, transport: Transport) -> None:
        with harness(transport) as wired:
            oauth = AcceloOAuth(
                wired.http, base_url=wired.base_url, client_id=WEB_CLIENT_ID, client_secret=WEB_CLIENT_SECRET
            )
            location = wired.http.get(oauth.authorization_url(redirect_uri=WEB_REDIRECT_URIS[0], state="s"))
            code = parse_qs(urlsplit(location.headers["location"]).query)["code"][0]
            oauth.exchange_code(code, redirect_uri=WEB_REDIRECT_URIS[0])
            with pytest.raises(AcceloOAuthError) as raised:
                oauth.exchange_code(code, redirect_uri=WEB_REDIRECT_URIS[0])
            assert raised.value.category == "invalid_grant"

    def test_a_refused_refresh_token_means_reconnecting(self, transport: Transport) -> None:
        store = MemoryTokenStore(AcceloToken("expired", expires_at=time.time() - 1, refresh_token="revoked"))
        creds = credentials(auth_type="web", client_id=WEB_CLIENT_ID, client_secret=WEB_CLIENT_SECRET)
        with harness(transport, client_options={"credentials": creds, "token_store": store}) as wired:
            with pytest.raises(AcceloReconnectRequired, match="connect it again"):
                wired.client.companies.count()
            assert wired.api_calls() == 0

    def test_a_service_application_cannot_use_a_web_grant(self, transport: Transport) -> None:
        with harness(transport) as wired:
            oauth = AcceloOAuth(
                wired.http, base_url=wired.base_url, client_id=SERVICE_CLIENT_ID, client_secret=SERVICE_CLIENT_SECRET
            )
            with pytest.raises(AcceloOAuthError):
                oauth.refresh("anything")
