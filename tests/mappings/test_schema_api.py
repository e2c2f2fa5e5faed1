"""GET /schema/{system}/{object_type}: both systems' live field lists, served from a cache per connection so
validating mappings and rules does not hammer the vendors (counted with the simulators' call logs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.factories import Tenant
from tests.fixtures.world import HUBSPOT_URL, World
from tests.mappings.helpers import add_hubspot_property, age_schema_cache, call, created, refused, vendor_calls

PROPERTIES = "/crm/v3/properties/{object_type}"


def fields(world: World, system: str, object_type: str, *, refresh: bool = False) -> dict[str, dict[str, Any]]:
    response = call(world, "GET", f"/schema/{system}/{object_type}" + ("?refresh=true" if refresh else ""))
    assert response.status_code == 200, response.text
    return {field["name"]: field for field in response.json()}


def test_hubspot_fields_come_with_types_options_and_read_only_flags(world: World) -> None:
    add_hubspot_property(world, "contact", "tier", "enumeration", "select", options=["gold", "silver"])
    add_hubspot_property(world, "contact", "regions", "enumeration", "checkbox", options=["emea", "apac"])
    add_hubspot_property(world, "contact", "renewal", "date", "date")
    contact = fields(world, "hubspot", "contact")

    assert contact["email"] == {
        "name": "email",
        "label": "Email",
        "type": "string",
        "options": None,
        "option_labels": None,
        "read_only": False,
        "source": "property",
        "description": None,
    }
    assert contact["lifecyclestage"]["type"] == "enumeration"
    assert contact["lifecyclestage"]["options"][:2] == ["subscriber", "lead"]
    assert contact["lifecyclestage"]["option_labels"]["marketingqualifiedlead"] == "Marketing Qualified Lead"
    assert (contact["tier"]["type"], contact["tier"]["options"]) == ("enumeration", ["gold", "silver"])
    assert (contact["regions"]["type"], contact["regions"]["options"]) == ("multi_select", ["emea", "apac"])
    assert contact["renewal"]["type"] == "date"
    assert (contact["createdate"]["type"], contact["createdate"]["read_only"]) == ("datetime", True)
    assert (contact["hs_object_id"]["type"], contact["hs_object_id"]["read_only"]) == ("number", True)
    assert contact["firstname"]["read_only"] is False

    company = fields(world, "hubspot", "company")
    assert company["numberofemployees"]["type"] == "number"
    assert "email" not in company


def test_accelo_fields_are_its_builtins_profile_fields_categories_and_statuses(world: World) -> None:
    tier = world.accelo.add_profile_field("contact", "Tier", field_type="select", options=["Gold", "Silver"])
    seats = world.accelo.add_profile_field("company", "Seats", field_type="integer")
    renewal = world.accelo.add_profile_field("company", "Renewal", field_type="date")
    industry = world.accelo.add_segmentation("Industry", "company")

    contact = fields(world, "accelo", "contact")
    assert (contact["affiliation.email"]["source"], contact["affiliation.email"]["type"]) == ("builtin", "string")
    assert (contact["date_modified"]["type"], contact["date_modified"]["read_only"]) == ("datetime", True)
    assert contact[f"profile:{tier}"] | {"description": None} == {
        "name": f"profile:{tier}",
        "label": "Tier",
        "type": "enumeration",
        "options": ["Gold", "Silver"],
        "option_labels": None,
        "read_only": False,
        "source": "profile",
        "description": None,
    }
    assert contact["status"]["options"] == ["Potential", "Active", "Inactive"]
    assert (contact["status"]["read_only"], contact["status"]["source"]) == (True, "status")
    assert f"segmentation:{industry}" not in contact  # a company category

    company = fields(world, "accelo", "company")
    assert company[f"profile:{seats}"]["type"] == "number"
    assert company[f"profile:{renewal}"]["type"] == "date"
    category = company[f"segmentation:{industry}"]
    assert (category["label"], category["type"], category["read_only"]) == ("Industry", "multi_select", True)
    assert category["source"] == "segmentation"
    assert company["status"]["options"] == ["Prospect", "Active", "Paused", "Inactive"]
    assert "postal_address.city" in company


def test_unknown_systems_and_types_are_refused(world: World) -> None:
    assert refused(call(world, "GET", "/schema/salesforce/contact"))["details"][0]["field"] == "path.system"
    assert refused(call(world, "GET", "/schema/hubspot/deal"))["details"][0]["field"] == "path.object_type"


def test_without_a_connection_the_schema_says_what_to_do(client: TestClient, tenant: Tenant) -> None:
    error = refused(client.get("/api/v1/schema/accelo/company", headers=tenant.headers))
    assert error["message"] == "this workspace has no accelo connection, so its company fields are unknown"
    assert error["details"] == {"field": "system", "fix": "connect accelo first (PUT /api/v1/connections/accelo)"}


# -- the cache ---------------------------------------------------------------------------------------------


def test_the_schema_is_read_from_the_vendor_once_then_from_the_cache(world: World) -> None:
    before = vendor_calls(world)
    fields(world, "hubspot", "contact")
    fields(world, "accelo", "contact")
    after_first = vendor_calls(world)
    assert after_first[0] - before[0] == 1  # one properties call
    assert world.hubspot.calls.count(route=PROPERTIES) == 1
    assert after_first[1] - before[1] == 3  # profile fields, categories, statuses

    for _ in range(5):
        fields(world, "hubspot", "contact")
        fields(world, "accelo", "contact")
    assert vendor_calls(world) == after_first


def test_saving_mappings_status_arrows_and_rules_costs_no_vendor_calls_once_cached(world: World) -> None:
    nickname = world.accelo.add_profile_field("contact", "Nickname")
    add_hubspot_property(world, "contact", "nickname")
    fields(world, "hubspot", "contact")
    fields(world, "accelo", "contact")
    before = vendor_calls(world)

    created(
        call(
            world,
            "POST",
            "/field-mappings",
            {"object_type": "contact", "hubspot_property": "nickname", "accelo_field": f"profile:{nickname}"},
        )
    )
    refused(
        call(
            world,
            "POST",
            "/field-mappings",
            {"object_type": "contact", "hubspot_property": "nope", "accelo_field": "comments"},
        )
    )
    jobtitle = next(
        row for row in call(world, "GET", "/field-mappings").json() if row["hubspot_property"] == "jobtitle"
    )
    call(world, "PATCH", f"/field-mappings/{jobtitle['id']}", {"conflict_policy": "hubspot_wins"})
    lead = next(
        row
        for row in call(world, "GET", "/status-mappings?object_type=contact").json()
        if row["source_value"] == "lead"
    )
    call(world, "PATCH", f"/status-mappings/{lead['id']}", {"target_value": "Active"})
    call(world, "GET", "/status-mappings/contact/summary")
    created(
        call(
            world,
            "POST",
            "/sync-rules",
            {"object_type": "contact", "direction": "pull", "condition": {"field": "email", "op": "is_set"}},
        )
    )
    call(
        world,
        "POST",
        "/sync-rules/evaluate",
        {"object_type": "contact", "direction": "pull", "record": {"email": "a@b.c"}},
    )

    # The refused save looked again, but the cached schemas were younger than the recheck age: no call.
    assert vendor_calls(world) == before


def test_refresh_true_reads_the_vendor_again_and_shows_what_changed(world: World) -> None:
    assert "plan" not in fields(world, "hubspot", "contact")
    add_hubspot_property(world, "contact", "plan")
    world.accelo.add_profile_field("contact", "Plan")
    assert "plan" not in fields(world, "hubspot", "contact")  # still the cached copy
    before = vendor_calls(world)

    assert "plan" in fields(world, "hubspot", "contact", refresh=True)
    assert "Plan" in {field["label"] for field in fields(world, "accelo", "contact", refresh=True).values()}
    after = vendor_calls(world)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 3)
    assert "plan" in fields(world, "hubspot", "contact")  # the refreshed copy is cached
    assert vendor_calls(world) == after


def test_a_stale_schema_is_read_again(world: World) -> None:
    fields(world, "hubspot", "company")
    add_hubspot_property(world, "company", "tier")
    age_schema_cache(world, timedelta(minutes=14))
    assert "tier" not in fields(world, "hubspot", "company")
    age_schema_cache(world, timedelta(minutes=16))
    before = world.hubspot.calls.count(route=PROPERTIES)
    assert "tier" in fields(world, "hubspot", "company")
    assert world.hubspot.calls.count(route=PROPERTIES) == before + 1


def test_when_the_vendor_cannot_be_reached_the_cached_schema_is_used(world: World) -> None:
    fields(world, "hubspot", "contact")
    world.hubspot.inject_fault(PROPERTIES, status=403, body='{"status":"error","category":"MISSING_SCOPES"}', times=2)
    assert "email" in fields(world, "hubspot", "contact", refresh=True)

    error = refused(call(world, "GET", "/schema/hubspot/company"), 502)
    assert error["code"] == "upstream_error"
    assert error["message"].startswith("could not read hubspot's company fields")
    assert "email" not in fields(world, "hubspot", "company")  # the fault is spent: read and cached now


def test_evaluating_a_live_record_reads_the_record_only(world: World) -> None:
    fields(world, "hubspot", "contact")
    fields(world, "accelo", "company")
    contact = world.hubspot.create_as_user("contacts", {"email": "ada@engines.example"})["id"]
    company = world.accelo.user_create_company("Analytical Engines Ltd")
    before = vendor_calls(world)

    body = {"object_type": "contact", "direction": "pull", "record_id": str(contact)}
    assert call(world, "POST", "/sync-rules/evaluate", body).json()["values"]["email"] == "ada@engines.example"
    body = {"object_type": "company", "direction": "push", "record_id": str(company)}
    assert call(world, "POST", "/sync-rules/evaluate", body).json()["values"]["name"] == "Analytical Engines Ltd"

    after = vendor_calls(world)
    assert after[0] - before[0] == 1  # one batch read; the property list came from the cache
    assert world.hubspot.calls.count(route=PROPERTIES) == 1
    assert after[1] - before[1] == 2  # the company and its profile values; no field lists


def test_connecting_another_account_forgets_the_old_accounts_fields(world: World) -> None:
    assert "tier" not in fields(world, "hubspot", "contact")
    add_hubspot_property(world, "contact", "tier", "enumeration", "select", options=["gold", "silver"])
    reconnect = {
        "system": "hubspot",
        "portal_id": world.hubspot.portal_id,
        "access_token": "pat-na1-sandbox-0000-0000-0000-000000000000",
        "base_url": HUBSPOT_URL,
    }
    same_account = call(world, "PUT", "/connections/hubspot", reconnect)
    assert same_account.status_code == 200, same_account.text
    assert "tier" not in fields(world, "hubspot", "contact")  # a new token for the same portal: cache kept

    other_portal = call(world, "PUT", "/connections/hubspot", {**reconnect, "portal_id": 7654321})
    assert other_portal.status_code == 200, other_portal.text
    assert "tier" in fields(world, "hubspot", "contact")  # read afresh from the account now connected
