"""The database-backed token store: a refresh made by the client lands in the stored connection."""

from __future__ import annotations

import time

from interlink.config import Settings
from interlink.connections import service
from interlink.connections.tokens import ConnectionTokenStore
from interlink.connectors.hubspot.auth import OAuthApp
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.db import Database
from interlink.kit.crypto import CredentialCipher
from interlink.simulators.hubspot import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, HubSpotSimulator
from tests.connectors.hubspot.support import FAST_RETRY, client_for, served
from tests.fixtures.factories import Tenant

REDIRECT = "https://interlink.example/oauth/hubspot/callback"


def test_refreshed_tokens_are_stored_and_a_broken_connection_is_marked(
    db: Database, settings: Settings, tenant: Tenant, simulator: HubSpotSimulator
) -> None:
    cipher = CredentialCipher(settings.secret_keys())
    with served(simulator, "in_process") as (base_url, http):
        app = OAuthApp(
            http, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, base_url=base_url, retry=FAST_RETRY
        )
        grant = app.exchange_code(simulator.issue_authorization_code(REDIRECT), REDIRECT)
        credentials = HubSpotCredentials(
            portal_id=simulator.portal_id,
            auth_type="oauth",
            access_token=grant.tokens.access_token,
            refresh_token=grant.tokens.refresh_token,
            access_token_expires_at=time.time() + 60,  # inside the refresh margin
            client_id=DEFAULT_CLIENT_ID,
            client_secret=DEFAULT_CLIENT_SECRET,
            base_url=base_url,
        )
        with db.transaction() as session:
            service.save_connection(session, tenant.workspace, credentials, cipher)
        store = ConnectionTokenStore(db, tenant.workspace.id, cipher)
        assert store.load().refresh_token == grant.tokens.refresh_token

        client = client_for(base_url, http, credentials=credentials, token_store=store)
        client.contacts.create({"email": "stored@example.com"})

    with db.transaction() as session:
        stored = service.load_credentials(session, tenant.workspace.id, "hubspot", cipher)
        connection = service.get_by_system(session, tenant.workspace.id, "hubspot")
        assert connection.settings["access_token_expires_at"] == stored.access_token_expires_at  # type: ignore[union-attr]
    assert isinstance(stored, HubSpotCredentials)
    assert stored.access_token is not None
    assert stored.access_token.get_secret_value() != grant.tokens.access_token
    assert stored.access_token_expires_at is not None
    assert stored.access_token_expires_at > time.time() + 1700

    store.mark_broken("HubSpot no longer accepts the refresh token")
    with db.transaction() as session:
        connection = service.get_by_system(session, tenant.workspace.id, "hubspot")
        assert (connection.status, connection.status_detail) == (
            "broken",
            "HubSpot no longer accepts the refresh token",
        )
