"""The product's token store: renewed Accelo tokens live in the connection's encrypted credentials."""

from __future__ import annotations

import time

import pytest

from interlink.config import Settings
from interlink.connections import service
from interlink.connections.accelo_tokens import ConnectionTokenStore
from interlink.connectors.accelo import AcceloCredentials, AcceloToken
from interlink.db import Database
from interlink.kit.crypto import CredentialCipher
from interlink.models import Connection
from interlink.simulators.accelo import SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET
from tests.connectors.accelo.harness import BASE_URL, harness
from tests.fixtures.factories import Tenant


def _connect(db: Database, tenant: Tenant, cipher: CredentialCipher, **extra: object) -> Connection:
    with db.transaction() as session:
        workspace = session.merge(tenant.workspace)
        return service.save_connection(
            session,
            workspace,
            AcceloCredentials(
                deployment="planet-express",
                client_id=SERVICE_CLIENT_ID,
                client_secret=SERVICE_CLIENT_SECRET,
                base_url=BASE_URL,
                **extra,  # type: ignore[arg-type]
            ),
            cipher,
        )


@pytest.fixture
def cipher(settings: Settings) -> CredentialCipher:
    return CredentialCipher(settings.secret_keys())


def test_a_renewed_token_is_stored_encrypted_and_reused(db: Database, tenant: Tenant, cipher: CredentialCipher) -> None:
    connection = _connect(db, tenant, cipher)
    store = ConnectionTokenStore(db, cipher, connection.id)
    assert store.load() is None

    with harness(client_options={"token_store": store}) as wired:
        wired.client.companies.count()
        with db.transaction() as session:
            stored = service.credentials_of(session.get(Connection, connection.id), cipher, AcceloCredentials)  # type: ignore[arg-type]
            raw = session.get(Connection, connection.id).credentials_ciphertext  # type: ignore[union-attr]
        assert stored.access_token is not None
        assert stored.access_token_expires_at is not None
        assert stored.access_token_expires_at > time.time() + 86400
        assert stored.access_token.get_secret_value() not in raw  # encrypted at rest

        # Another process (a fresh client over the same store) uses it without asking for another.
        with harness(client_options={"token_store": ConnectionTokenStore(db, cipher, connection.id)}) as other:
            other.sim.oauth.add_static_token(stored.access_token.get_secret_value())
            other.client.companies.count()
            assert other.sim.calls.count(route="/oauth2/v0/token") == 0


def test_a_renewed_token_survives_the_callers_rollback(db: Database, tenant: Tenant, cipher: CredentialCipher) -> None:
    connection = _connect(db, tenant, cipher)
    store = ConnectionTokenStore(db, cipher, connection.id)
    with harness(client_options={"token_store": store}) as wired:

        def failing_work() -> None:
            with db.transaction():
                wired.client.companies.count()
                raise RuntimeError("the sync work failed")

        with pytest.raises(RuntimeError):
            failing_work()
    token = store.load()
    assert token is not None
    assert token.access_token


def test_a_refresh_token_is_kept_with_the_access_token(db: Database, tenant: Tenant, cipher: CredentialCipher) -> None:
    connection = _connect(db, tenant, cipher)
    store = ConnectionTokenStore(db, cipher, connection.id)
    store.save(AcceloToken("access-1", expires_at=1_900_000_000.0, refresh_token="refresh-1"))
    store.save(AcceloToken("access-2", expires_at=1_900_000_100.0))  # a renewal that kept the refresh token
    assert store.load() == AcceloToken("access-2", expires_at=1_900_000_100.0, refresh_token="refresh-1")
