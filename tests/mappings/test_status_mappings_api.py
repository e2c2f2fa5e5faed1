"""Status mappings through the API: two many-to-one maps per type, each arrow checked against both systems'
live status values."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.factories import Tenant
from tests.fixtures.world import World
from tests.mappings.helpers import age_schema_cache, call, created, problem, refused

LIFECYCLE = "subscriber, lead, marketingqualifiedlead, salesqualifiedlead, opportunity, customer, evangelist, other"


def arrow(world: World, direction: str, source_value: str, target_value: str, object_type: str = "contact") -> Any:
    body = {
        "object_type": object_type,
        "direction": direction,
        "source_value": source_value,
        "target_value": target_value,
    }
    return call(world, "POST", "/status-mappings", body)


def arrows(world: World, object_type: str) -> dict[tuple[str, str], dict[str, Any]]:
    rows = call(world, "GET", f"/status-mappings?object_type={object_type}").json()
    return {(row["direction"], row["source_value"]): row for row in rows}


def test_a_new_workspace_has_default_maps_that_fit_the_live_statuses(world: World) -> None:
    contact = call(world, "GET", "/status-mappings/contact/summary").json()
    assert contact["hubspot_property"] == "lifecyclestage"
    # Accelo's contacts start at 'Potential'; companies at 'Prospect'.
    assert contact["h2a"]["lead"] == "Potential"
    assert contact["h2a"]["customer"] == contact["h2a"]["evangelist"] == "Active"
    assert contact["a2h"] == {"Potential": "lead", "Active": "customer", "Inactive": "other"}
    assert contact["warnings"] == []

    company = call(world, "GET", "/status-mappings/company/summary").json()
    assert company["h2a"]["lead"] == "Prospect"
    assert company["a2h"] == {"Prospect": "lead", "Active": "customer", "Inactive": "other"}
    assert company["warnings"] == ["Accelo 'Paused' is not mapped and no HubSpot value maps to it: never consistent"]

    every = call(world, "GET", "/status-mappings").json()
    assert len(every) == len(arrows(world, "contact")) + len(arrows(world, "company")) == 2 * (8 + 3)


def test_an_arrow_is_added_read_repointed_and_removed(world: World) -> None:
    row = created(arrow(world, "a2h", "Paused", "opportunity", object_type="company"))
    assert (row["direction"], row["source_value"], row["target_value"]) == ("a2h", "Paused", "opportunity")
    assert call(world, "GET", f"/status-mappings/{row['id']}").json() == row
    assert call(world, "GET", "/status-mappings/company/summary").json()["warnings"] == []

    moved = call(world, "PATCH", f"/status-mappings/{row['id']}", {"target_value": "customer"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["target_value"] == "customer"
    assert call(world, "GET", "/status-mappings/company/summary").json()["a2h"]["Paused"] == "customer"

    assert call(world, "DELETE", f"/status-mappings/{row['id']}").status_code == 204
    assert refused(call(world, "GET", f"/status-mappings/{row['id']}"), 404)["code"] == "not_found"
    assert ("a2h", "Paused") not in arrows(world, "company")


def test_the_consistency_example_of_the_design_is_expressible(world: World) -> None:
    # evangelist -> Active and customer -> Active (many-to-one), and Active -> customer back.
    summary = call(world, "GET", "/status-mappings/contact/summary").json()
    assert (summary["h2a"]["evangelist"], summary["h2a"]["customer"], summary["a2h"]["Active"]) == (
        "Active",
        "Active",
        "customer",
    )


def test_a_source_value_already_mapped_is_a_conflict(world: World) -> None:
    error = refused(arrow(world, "h2a", "lead", "Active"), 409)
    assert error["message"] == "'lead' is already mapped (h2a) for contacts"
    assert error["details"] == {"field": "source_value", "fix": "edit that mapping's target instead"}


def test_a_hubspot_value_that_does_not_exist_is_refused(world: World) -> None:
    delete = arrows(world, "contact")[("h2a", "lead")]
    call(world, "DELETE", f"/status-mappings/{delete['id']}")

    found = problem(refused(arrow(world, "h2a", "vip", "Active")), "source_value")
    assert found["message"] == "'vip' is not a value of HubSpot's lifecyclestage"
    assert found["fix"] == f"use one of: {LIFECYCLE}"

    inactive = arrows(world, "contact")[("a2h", "Inactive")]
    error = refused(call(world, "PATCH", f"/status-mappings/{inactive['id']}", {"target_value": "churned"}))
    assert problem(error, "target_value")["message"] == "'churned' is not a value of HubSpot's lifecyclestage"
    assert error["message"] == f"'churned' is not a value of HubSpot's lifecyclestage — fix: use one of: {LIFECYCLE}"
    assert arrows(world, "contact")[("a2h", "Inactive")]["target_value"] == "other"


def test_an_accelo_status_that_does_not_exist_is_refused(world: World) -> None:
    found = problem(refused(arrow(world, "a2h", "On Hold", "lead")), "source_value")
    assert found["message"] == "'On Hold' is not an Accelo contact status"
    assert found["fix"] == "use one of: Potential, Active, Inactive"

    lead = arrows(world, "contact")[("h2a", "lead")]
    error = refused(call(world, "PATCH", f"/status-mappings/{lead['id']}", {"target_value": "Prospect"}))
    assert problem(error, "target_value")["message"] == "'Prospect' is not an Accelo contact status"


def test_values_missing_on_both_sides_are_each_named(world: World) -> None:
    error = refused(arrow(world, "a2h", "On Hold", "vip"))
    assert [item["field"] for item in error["details"]] == ["target_value", "source_value"]


def test_a_status_added_in_accelo_after_the_schema_was_cached_can_be_mapped(world: World) -> None:
    call(world, "GET", "/status-mappings/contact/summary")  # the schemas are cached now
    world.accelo.add_status("contact", "On Hold", standing="paused")
    age_schema_cache(world, timedelta(minutes=1))  # well within the cache's life, but not fresh
    assert created(arrow(world, "a2h", "On Hold", "opportunity"))["source_value"] == "On Hold"
    assert "On Hold" in call(world, "GET", "/schema/accelo/contact").json()[-1]["options"]


def test_the_hubspot_status_property_is_configurable(world: World) -> None:
    options = call(world, "PATCH", "/workspace/options", {"contact_status_property": "hs_lead_status"})
    assert options.status_code == 200, options.text
    summary = call(world, "GET", "/status-mappings/contact/summary").json()
    assert summary["hubspot_property"] == "hs_lead_status"
    # The maps still speak lifecyclestage: the summary says every such arrow is now dead.
    assert "h2a: HubSpot 'lead' is not a value of hs_lead_status" in summary["warnings"]
    assert "a2h: Accelo 'Active' maps to 'customer', which is not a value of hs_lead_status" in summary["warnings"]

    for row in call(world, "GET", "/status-mappings?object_type=contact").json():
        assert call(world, "DELETE", f"/status-mappings/{row['id']}").status_code == 204
    created(arrow(world, "h2a", "CONNECTED", "Active"))
    created(arrow(world, "a2h", "Active", "CONNECTED"))
    found = problem(refused(arrow(world, "h2a", "customer", "Active")), "source_value")
    assert found["message"] == "'customer' is not a value of HubSpot's hs_lead_status"


def test_a_status_property_missing_from_hubspot_is_named(world: World) -> None:
    call(world, "PATCH", "/workspace/options", {"company_status_property": "hs_lead_status"})  # contacts only
    error = refused(call(world, "GET", "/status-mappings/company/summary"))
    assert error["message"] == "HubSpot has no company property 'hs_lead_status' to hold statuses"
    assert error["details"] == {"field": "company_status_property", "fix": "choose an existing enumeration property"}


def test_without_connections_arrows_are_stored_unchecked_and_the_summary_has_no_warnings(
    client: TestClient, tenant: Tenant
) -> None:
    response = client.post(
        "/api/v1/status-mappings",
        json={"object_type": "company", "direction": "a2h", "source_value": "Paused", "target_value": "customer"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    summary = client.get("/api/v1/status-mappings/company/summary", headers=tenant.headers).json()
    assert summary["a2h"]["Paused"] == "customer"
    assert summary["warnings"] == []


def test_a_status_property_without_options_is_named(world: World) -> None:
    call(world, "PATCH", "/workspace/options", {"contact_status_property": "jobtitle"})
    error = refused(call(world, "GET", "/status-mappings/contact/summary"))
    assert error["message"] == "HubSpot's contact property 'jobtitle' has no options, so it cannot hold statuses"
    assert error["details"] == {"field": "contact_status_property", "fix": "choose an existing enumeration property"}
    inactive = arrows(world, "contact")[("a2h", "Inactive")]
    error = refused(call(world, "PATCH", f"/status-mappings/{inactive['id']}", {"target_value": "Director"}))
    assert error["details"]["field"] == "contact_status_property"
