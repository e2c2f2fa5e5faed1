"""The mappings API is workspace-scoped: a token sees and changes only its own workspace's field mappings,
status mappings and sync rules. Another workspace's rows answer 404 by id (never 403: their existence is not
revealed), and lists hold only one's own."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from interlink.connections.registry import connectors_for
from interlink.kit.asgi import in_process_client
from interlink.mappings.repository import FieldMappingRepo, StatusMappingRepo, SyncRuleRepo
from interlink.models import SyncRule
from interlink.simulators import accelo as accelo_simulator
from interlink.simulators import hubspot as hubspot_simulator
from interlink.simulators.accelo.simulator import DEFAULT_ACCESS_TOKEN, AcceloSimulator
from interlink.simulators.hubspot.oauth import DEFAULT_PRIVATE_APP_TOKEN
from interlink.simulators.hubspot.simulator import HubSpotSimulator
from tests.fixtures.factories import Tenant, create_tenant
from tests.fixtures.world import World
from tests.mappings.helpers import add_hubspot_property, call, created, refused, vendor_calls


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


# -- live reads: schema, evaluate by record id, status summary ------------------------------------------------
# A token must only ever read through its own workspace's connections, never workspace A's.

OTHER_HUBSPOT_URL = "http://hubspot-b.sim"
OTHER_ACCELO_URL = "http://accelo-b.sim"


@dataclass(frozen=True)
class Connected:
    """Workspace C, connected to its own HubSpot portal and Accelo deployment."""

    tenant: Tenant
    hubspot: HubSpotSimulator
    accelo: AcceloSimulator


@pytest.fixture
def connected(world: World) -> Iterator[Connected]:
    tenant = create_tenant(world.db, "Workspace C")
    hubspot_app = hubspot_simulator.create_app(portal_id=7_654_321)
    accelo_app = accelo_simulator.create_app(deployment="bravo")
    hubspot_http = in_process_client(hubspot_app, base_url=OTHER_HUBSPOT_URL)
    accelo_http = in_process_client(accelo_app, base_url=OTHER_ACCELO_URL)
    connectors = connectors_for(world.db)
    connectors.route(OTHER_HUBSPOT_URL, hubspot_http)
    connectors.route(OTHER_ACCELO_URL, accelo_http)
    bodies = {
        "hubspot": {
            "system": "hubspot",
            "portal_id": 7_654_321,
            "access_token": DEFAULT_PRIVATE_APP_TOKEN,
            "base_url": OTHER_HUBSPOT_URL,
        },
        "accelo": {
            "system": "accelo",
            "deployment": "bravo",
            "client_id": "interlink-service@simulator.accelo.com",
            "access_token": DEFAULT_ACCESS_TOKEN,
            "access_token_expires_at": time.time() + 86400,
            "base_url": OTHER_ACCELO_URL,
        },
    }
    for system, body in bodies.items():
        response = call(world, "PUT", f"/connections/{system}", body, headers=tenant.headers)
        assert response.status_code == 200, response.text
    try:
        yield Connected(tenant, hubspot_app.state.simulator, accelo_app.simulator)
    finally:
        hubspot_app.state.simulator.close()
        accelo_app.close()
        hubspot_http.close()
        accelo_http.close()


def names(world: World, system: str, tenant: Tenant) -> set[str]:
    response = call(world, "GET", f"/schema/{system}/contact", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {field["name"] for field in response.json()}


def test_the_schema_is_read_through_the_tokens_own_connections(world: World, connected: Connected) -> None:
    add_hubspot_property(world, "contact", "alpha_only")
    alpha_field = f"profile:{world.accelo.add_profile_field('contact', 'Alpha only')}"
    assert "alpha_only" in names(world, "hubspot", world.tenant)  # A's schemas, cached now
    assert alpha_field in names(world, "accelo", world.tenant)
    before = vendor_calls(world)

    assert "alpha_only" not in names(world, "hubspot", connected.tenant)
    assert alpha_field not in names(world, "accelo", connected.tenant)

    assert vendor_calls(world) == before  # A's accounts were neither called nor served from A's cache
    assert connected.hubspot.calls.count() > 0
    assert connected.accelo.calls.count() > 0


def test_an_unconnected_workspace_gets_no_schema_and_calls_nobody(world: World, other: Other) -> None:
    names(world, "hubspot", world.tenant)
    names(world, "accelo", world.tenant)
    before = vendor_calls(world)
    for system in ("hubspot", "accelo"):
        error = refused(call(world, "GET", f"/schema/{system}/contact", headers=other.tenant.headers))
        assert error["message"] == f"this workspace has no {system} connection, so its contact fields are unknown"
    assert vendor_calls(world) == before


def test_evaluating_by_record_id_fetches_from_the_tokens_own_account(world: World, connected: Connected) -> None:
    ada = world.hubspot.create_as_user("contacts", {"email": "ada@alpha.example", "firstname": "Ada"})["id"]
    alpha_only = world.hubspot.create_as_user("contacts", {"email": "grace@alpha.example"})["id"]
    bob = connected.hubspot.create_as_user("contacts", {"email": "bob@bravo.example", "firstname": "Bob"})["id"]
    assert bob == ada  # the same id in two portals: only the connection tells them apart
    body = {"object_type": "contact", "direction": "pull", "record_id": str(ada)}
    before = vendor_calls(world)

    theirs = call(world, "POST", "/sync-rules/evaluate", body, headers=connected.tenant.headers)
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["values"]["email"] == "bob@bravo.example"
    missing = {**body, "record_id": str(alpha_only)}
    error = refused(call(world, "POST", "/sync-rules/evaluate", missing, headers=connected.tenant.headers), 404)
    assert str(alpha_only) in error["message"]
    assert "grace" not in str(error)

    assert vendor_calls(world) == before
    assert call(world, "POST", "/sync-rules/evaluate", body).json()["values"]["email"] == "ada@alpha.example"


def test_evaluating_by_record_id_without_a_connection_is_refused_and_reads_nothing(world: World, other: Other) -> None:
    contact = world.hubspot.create_as_user("contacts", {"email": "ada@alpha.example"})["id"]
    company = world.accelo.user_create_company("Alpha Ltd")
    before = vendor_calls(world)
    for direction, record_id, system in (("pull", contact, "hubspot"), ("push", company, "accelo")):
        body = {"object_type": "contact", "direction": direction, "record_id": str(record_id)}
        response = call(world, "POST", "/sync-rules/evaluate", body, headers=other.tenant.headers)
        error = refused(response)
        assert f"no {system} connection" in error["message"]
        assert "alpha" not in response.text.lower()
    assert vendor_calls(world) == before


def test_the_status_summary_is_the_tokens_own_maps_checked_against_its_own_accounts(
    world: World, connected: Connected, other: Other
) -> None:
    # A adds an Accelo status of its own and maps it to HubSpot 'customer'.
    world.accelo.add_status("contact", "Key Account", "active")
    created(
        call(
            world,
            "POST",
            "/status-mappings",
            {"object_type": "contact", "direction": "a2h", "source_value": "Key Account", "target_value": "customer"},
        )
    )
    connected.accelo.add_status("contact", "Dormant", "inactive")
    mine = call(world, "GET", "/status-mappings/contact/summary").json()
    assert mine["a2h"]["Key Account"] == "customer"
    before = vendor_calls(world)

    theirs = call(world, "GET", "/status-mappings/contact/summary", headers=connected.tenant.headers).json()
    assert "Key Account" not in theirs["a2h"]
    assert "Accelo 'Dormant' is not mapped and no HubSpot value maps to it: never consistent" in theirs["warnings"]
    assert not any("Dormant" in warning for warning in mine["warnings"])
    unconnected = call(world, "GET", "/status-mappings/contact/summary", headers=other.tenant.headers).json()
    assert "Key Account" not in unconnected["a2h"]
    assert unconnected["warnings"] == []  # nothing to check against, and A's accounts are not borrowed

    assert vendor_calls(world) == before
