from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from interlink.db import Database
from interlink.worker.enqueue import RecordingDispatcher
from tests.fixtures.factories import Tenant, accept_probes, create_tenant, probe_event

HUBSPOT = {"system": "hubspot", "portal_id": 4242, "access_token": "pat-na1-0000-secret-token-b"}


class TestAuthentication:
    def test_missing_token_is_401_with_a_bearer_challenge(self, client: TestClient) -> None:
        response = client.get("/api/v1/workspace")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in response.json()["error"]["message"]

    def test_wrong_token_is_401(self, client: TestClient, tenant: Tenant) -> None:
        response = client.get("/api/v1/workspace", headers={"Authorization": "Bearer il_wrong"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"

    def test_a_valid_token_sees_its_workspace(self, client: TestClient, tenant: Tenant) -> None:
        response = client.get("/api/v1/workspace", headers=tenant.headers)
        assert response.status_code == 200
        assert response.json()["id"] == str(tenant.workspace.id)

    def test_a_revoked_token_stops_working(self, client: TestClient, tenant: Tenant) -> None:
        created = client.post("/api/v1/tokens", json={"name": "ci"}, headers=tenant.headers)
        assert created.status_code == 201
        second = {"Authorization": f"Bearer {created.json()['token']}"}
        assert client.get("/api/v1/workspace", headers=second).status_code == 200

        listed = client.get("/api/v1/tokens", headers=tenant.headers).json()
        assert {token["name"] for token in listed} == {"tests", "ci"}
        assert all("token" not in token for token in listed)  # never shown again

        assert client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=tenant.headers).status_code == 204
        assert client.get("/api/v1/workspace", headers=second).status_code == 401
        assert client.get("/api/v1/workspace", headers=tenant.headers).status_code == 200

    def test_tokens_are_stored_hashed(self, db: Database, tenant: Tenant) -> None:
        with db.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT token_hash, prefix FROM api_tokens").all()
        assert rows
        assert all(tenant.token not in (row[0] + row[1]) for row in rows)


class TestWorkspaceIsolation:
    """Workspace A's token can neither read nor change anything of workspace B: 404, never a hint."""

    @pytest.fixture
    def other(self, db: Database, client: TestClient, dispatcher: RecordingDispatcher) -> dict[str, str]:
        tenant_b = create_tenant(db, "Tenant B")
        connection = client.put("/api/v1/connections/hubspot", json=HUBSPOT, headers=tenant_b.headers).json()
        token_b = client.post("/api/v1/tokens", json={"name": "b2"}, headers=tenant_b.headers).json()
        event_id = accept_probes(db, tenant_b.workspace.id, probe_event()).event_ids[0]
        return {
            "workspace": str(tenant_b.workspace.id),
            "connection": connection["id"],
            "token": token_b["id"],
            "event": str(event_id),
            "token_b": tenant_b.token,
        }

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/api/v1/workspaces/{workspace}"),
            ("GET", "/api/v1/connections/{connection}"),
            ("DELETE", "/api/v1/connections/{connection}"),
            ("DELETE", "/api/v1/tokens/{token}"),
            ("GET", "/api/v1/events/{event}"),
            ("POST", "/api/v1/events/{event}/retry"),
        ],
    )
    def test_other_workspace_resources_are_404(
        self, client: TestClient, tenant: Tenant, other: dict[str, str], method: str, path: str
    ) -> None:
        response = client.request(method, path.format(**other), headers=tenant.headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        # ...and B still has everything
        b_headers = {"Authorization": f"Bearer {other['token_b']}"}
        assert client.get(f"/api/v1/connections/{other['connection']}", headers=b_headers).status_code == 200
        assert client.get(f"/api/v1/events/{other['event']}", headers=b_headers).status_code == 200
        assert len(client.get("/api/v1/tokens", headers=b_headers).json()) == 2

    def test_lists_show_only_your_own(self, client: TestClient, tenant: Tenant, other: dict[str, str]) -> None:
        assert client.get("/api/v1/connections", headers=tenant.headers).json() == []
        assert client.get("/api/v1/events", headers=tenant.headers).json()["items"] == []
        assert [token["name"] for token in client.get("/api/v1/tokens", headers=tenant.headers).json()] == ["tests"]

    def test_connecting_the_same_account_twice_is_refused(
        self, client: TestClient, tenant: Tenant, other: dict[str, str]
    ) -> None:
        response = client.put("/api/v1/connections/hubspot", json=HUBSPOT, headers=tenant.headers)
        assert response.status_code == 409
        assert "already connected to another workspace" in response.json()["error"]["message"]
        assert other["workspace"] not in response.text


def test_workspace_options_can_be_changed(client: TestClient, tenant: Tenant) -> None:
    response = client.patch("/api/v1/workspace/options", json={"delete_twin_on_delete": True}, headers=tenant.headers)
    assert response.status_code == 200
    assert response.json()["options"]["delete_twin_on_delete"] is True
    assert response.json()["options"]["allow_lifecycle_backward"] is False
    unknown = client.patch("/api/v1/workspace/options", json={"auto_merge": True}, headers=tenant.headers)
    assert unknown.status_code == 422
