"""The mappings API is workspace-scoped: a token sees and changes only its own workspace's field mappings,
status mappings and sync rules. Another workspace's rows answer 404 by id (never 403: their existence is not
revealed), and lists hold only one's own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from interlink.mappings.repository import FieldMappingRepo, StatusMappingRepo, SyncRuleRepo
from interlink.models import SyncRule
from tests.fixtures.factories import Tenant, create_tenant
from tests.fixtures.world import World
from tests.mappings.helpers import call, created, refused


@dataclass(frozen=True)
class Other:
    """Workspace B, not connected to anything, with a rule and one mapping and arrow of each kind."""

    tenant: Tenant
    field_mapping: uuid.UUID
    status_mapping: uuid.UUID
    rule: uuid.UUID


@pytest.fixture
def other(world: World) -> Other:
    tenant = create_tenant(world.db, "Workspace B")
    workspace_id = tenant.workspace.id
    with world.db.transaction() as session:
        (field_mapping, *_) = FieldMappingRepo(session, workspace_id).for_type("contact")
        (status_mapping, *_) = StatusMappingRepo(session, workspace_id).for_type("contact")
        # B has no connection to validate against, so its rule is stored as an earlier save left it.
        rule = SyncRuleRepo(session, workspace_id).add(
            SyncRule(
                workspace_id=workspace_id,
                object_type="contact",
                direction="pull",
                condition={"field": "email", "op": "is_set"},
            )
        )
        return Other(tenant, field_mapping.id, status_mapping.id, rule.id)


def ids(world: World, path: str, tenant: Tenant | None = None) -> set[str]:
    response = call(world, "GET", path, headers=(tenant or world.tenant).headers)
    assert response.status_code == 200, response.text
    return {row["id"] for row in response.json()}


def test_lists_hold_only_the_tokens_own_workspace(world: World, other: Other) -> None:
    created(
        call(
            world,
            "POST",
            "/sync-rules",
            {"object_type": "contact", "direction": "pull", "condition": {"field": "email", "op": "is_set"}},
        )
    )
    mine = ids(world, "/field-mappings"), ids(world, "/status-mappings")
    theirs = ids(world, "/field-mappings", other.tenant), ids(world, "/status-mappings", other.tenant)
    assert len(mine[0]) == len(theirs[0]) == 15  # both got the built-ins, as separate rows
    assert not mine[0] & theirs[0]
    assert not mine[1] & theirs[1]
    assert str(other.field_mapping) in theirs[0]
    assert str(other.status_mapping) in theirs[1]

    rules = call(world, "GET", "/sync-rules").json()
    assert str(other.rule) not in {slot["rule"]["id"] for slot in rules if slot["rule"]}
    their_rules = call(world, "GET", "/sync-rules", headers=other.tenant.headers).json()
    assert [slot["rule"]["id"] for slot in their_rules if slot["rule"]] == [str(other.rule)]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/field-mappings/{field_mapping}", None),
        ("PATCH", "/field-mappings/{field_mapping}", {"enabled": False}),
        ("DELETE", "/field-mappings/{field_mapping}", None),
        ("GET", "/status-mappings/{status_mapping}", None),
        ("PATCH", "/status-mappings/{status_mapping}", {"target_value": "Active"}),
        ("DELETE", "/status-mappings/{status_mapping}", None),
        ("GET", "/sync-rules/{rule}", None),
        ("PATCH", "/sync-rules/{rule}", {"enabled": False}),
        ("DELETE", "/sync-rules/{rule}", None),
    ],
)
def test_another_workspaces_rows_are_not_found_by_id(
    world: World, other: Other, method: str, path: str, body: dict[str, object] | None
) -> None:
    target = path.format(field_mapping=other.field_mapping, status_mapping=other.status_mapping, rule=other.rule)
    before = call(world, "GET", target, headers=other.tenant.headers)
    assert before.status_code == 200, before.text

    error = refused(call(world, method, target, body), 404)
    assert error["code"] == "not_found"
    assert "workspace" not in error["message"]  # says nothing about whose it is
    assert call(world, "GET", target, headers=other.tenant.headers).json() == before.json()  # untouched


def test_a_rule_slot_taken_in_another_workspace_is_free_in_this_one(world: World, other: Other) -> None:
    response = call(
        world,
        "POST",
        "/sync-rules",
        {"object_type": "contact", "direction": "pull", "condition": {"field": "email", "op": "is_set"}},
    )
    assert created(response)["id"] != str(other.rule)


def test_every_endpoint_needs_a_token(client: TestClient) -> None:
    probe = str(uuid.uuid4())
    for method, path in [
        ("GET", "/api/v1/schema/hubspot/contact"),
        ("GET", "/api/v1/field-mappings"),
        ("POST", "/api/v1/field-mappings"),
        ("GET", f"/api/v1/field-mappings/{probe}"),
        ("PATCH", f"/api/v1/field-mappings/{probe}"),
        ("DELETE", f"/api/v1/field-mappings/{probe}"),
        ("GET", "/api/v1/status-mappings"),
        ("POST", "/api/v1/status-mappings"),
        ("GET", "/api/v1/status-mappings/contact/summary"),
        ("GET", f"/api/v1/status-mappings/{probe}"),
        ("PATCH", f"/api/v1/status-mappings/{probe}"),
        ("DELETE", f"/api/v1/status-mappings/{probe}"),
        ("GET", "/api/v1/sync-rules"),
        ("POST", "/api/v1/sync-rules"),
        ("POST", "/api/v1/sync-rules/evaluate"),
        ("GET", f"/api/v1/sync-rules/{probe}"),
        ("PATCH", f"/api/v1/sync-rules/{probe}"),
        ("DELETE", f"/api/v1/sync-rules/{probe}"),
    ]:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = client.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path, response.text)
