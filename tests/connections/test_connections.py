from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from interlink.config import Settings
from interlink.connections import service
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.db import Database
from interlink.kit.crypto import CredentialCipher, DecryptionError
from tests.fixtures.factories import Tenant

SECRET_TOKEN = "pat-na1-11111111-2222-3333-4444-SECRETSECRET"
CLIENT_SECRET = "client-secret-abcdef-0123456789"


def _connect_hubspot(client: TestClient, tenant: Tenant, **extra: object) -> dict[str, object]:
    body = {
        "system": "hubspot",
        "portal_id": 777,
        "access_token": SECRET_TOKEN,
        "client_secret": CLIENT_SECRET,
    }
    response = client.put("/api/v1/connections/hubspot", json={**body, **extra}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _dump(settings: Settings) -> str:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database)) as connection:
            return "\n".join(connection.iterdump())
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to check what a PostgreSQL dump contains"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run([pg_dump, "--data-only", dsn], capture_output=True, text=True, check=True).stdout


def test_credentials_are_not_readable_in_a_database_dump(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    _connect_hubspot(client, tenant)
    dump = _dump(settings)
    assert "777" in dump  # the public part is there...
    assert SECRET_TOKEN not in dump  # ...the secrets are not
    assert CLIENT_SECRET not in dump
    assert "SECRETSECRET" not in dump


def test_responses_mask_secrets_and_name_the_webhook_url(client: TestClient, tenant: Tenant) -> None:
    connection = _connect_hubspot(client, tenant)
    assert connection["settings"]["portal_id"] == 777
    assert connection["secrets"] == {"access_token": "••••CRET", "client_secret": "••••6789"}
    assert connection["webhook_url"] == "http://interlink.test/webhooks/hubspot"
    assert SECRET_TOKEN not in str(connection)


def test_secrets_left_out_keep_their_stored_value(
    client: TestClient, tenant: Tenant, db: Database, settings: Settings
) -> None:
    _connect_hubspot(client, tenant)
    updated = client.put(
        "/api/v1/connections/hubspot",
        json={"system": "hubspot", "portal_id": 777, "app_id": 99},
        headers=tenant.headers,
    )
    assert updated.status_code == 200
    cipher = CredentialCipher(settings.secret_keys())
    with db.transaction() as session:
        credentials = service.load_credentials(session, tenant.workspace.id, "hubspot", cipher)
    assert isinstance(credentials, HubSpotCredentials)
    assert credentials.app_id == 99
    assert credentials.access_token is not None
    assert credentials.access_token.get_secret_value() == SECRET_TOKEN


def test_bad_connection_input_is_rejected_with_the_field(client: TestClient, tenant: Tenant) -> None:
    response = client.put(
        "/api/v1/connections/accelo",
        json={"system": "accelo", "deployment": "Not Valid!"},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    fields = {problem["field"] for problem in response.json()["error"]["details"]}
    assert {"accelo.deployment", "accelo.client_id"} <= fields
    mismatch = client.put(
        "/api/v1/connections/accelo", json={"system": "accord", "signing_secret": "x"}, headers=tenant.headers
    )
    assert mismatch.status_code == 422
    assert "URL says accelo" in mismatch.json()["error"]["message"]


def test_rotating_the_secret_key_keeps_old_credentials_readable() -> None:
    old = CredentialCipher(["old-key-" + "a" * 32])
    token = old.encrypt({"access_token": "t0k3n"})
    rotated = CredentialCipher(["new-key-" + "b" * 32, "old-key-" + "a" * 32])
    assert rotated.decrypt(token) == {"access_token": "t0k3n"}
    assert CredentialCipher(["new-key-" + "b" * 32]).decrypt(rotated.rotate(token)) == {"access_token": "t0k3n"}
    with pytest.raises(DecryptionError, match="cannot be decrypted"):
        CredentialCipher(["unrelated-" + "c" * 32]).decrypt(token)


def test_disconnecting_removes_the_connection(client: TestClient, tenant: Tenant) -> None:
    connection = _connect_hubspot(client, tenant)
    assert client.delete(f"/api/v1/connections/{connection['id']}", headers=tenant.headers).status_code == 204
    assert client.get("/api/v1/connections", headers=tenant.headers).json() == []
