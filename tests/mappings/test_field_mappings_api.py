"""Field mappings through the API, validated against the simulators' live schemas: every refusal is a 422
naming the field and the fix."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.factories import Tenant
from tests.fixtures.world import World
from tests.mappings.helpers import add_hubspot_property, age_schema_cache, call, created, problem, refused


def mapping(world: World, **body: Any) -> Any:
    return call(world, "POST", "/field-mappings", {"object_type": "contact", **body})


def builtin(world: World, object_type: str, hubspot_property: str) -> dict[str, Any]:
    rows = call(world, "GET", f"/field-mappings?object_type={object_type}").json()
    (row,) = [row for row in rows if row["hubspot_property"] == hubspot_property and row["builtin"]]
    return dict(row)


# -- list, create, read, update, delete ---------------------------------------------------------------------


def test_a_new_workspace_lists_its_builtin_mappings_first_and_filters_by_type(world: World) -> None:
    every = call(world, "GET", "/field-mappings").json()
    assert all(row["builtin"] and row["enabled"] and row["direction"] == "both" for row in every)
    contacts = call(world, "GET", "/field-mappings?object_type=contact").json()
    pairs = {(row["hubspot_property"], row["accelo_field"]) for row in contacts}
    assert pairs == {
        ("firstname", "firstname"),
        ("lastname", "surname"),
        ("email", "affiliation.email"),
        ("phone", "affiliation.phone"),
        ("mobilephone", "affiliation.mobile"),
        ("jobtitle", "affiliation.position"),
    }
    companies = call(world, "GET", "/field-mappings?object_type=company").json()
    assert {row["accelo_field"] for row in companies} >= {"name", "website", "phone", "postal_address.city"}
    assert len(every) == len(contacts) + len(companies)

    field_id = world.accelo.add_profile_field("contact", "Nickname")
    add_hubspot_property(world, "contact", "nickname")
    mine = created(mapping(world, hubspot_property="nickname", accelo_field=f"profile:{field_id}"))
    contacts = call(world, "GET", "/field-mappings?object_type=contact").json()
    assert [row["builtin"] for row in contacts] == [True] * 6 + [False]
    assert contacts[-1]["id"] == mine["id"]


def test_a_custom_mapping_is_created_read_updated_and_deleted(world: World) -> None:
    field_id = world.accelo.add_profile_field("contact", "Nickname")
    add_hubspot_property(world, "contact", "nickname")

    row = created(mapping(world, hubspot_property="nickname", accelo_field=f"profile:{field_id}"))
    assert (row["direction"], row["conflict_policy"], row["builtin"], row["enabled"]) == ("both", "latest", False, True)
    assert call(world, "GET", f"/field-mappings/{row['id']}").json() == row

    changed = call(
        world, "PATCH", f"/field-mappings/{row['id']}", {"conflict_policy": "review", "direction": "to_hubspot"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["conflict_policy"], changed.json()["direction"]) == ("review", "to_hubspot")

    assert call(world, "DELETE", f"/field-mappings/{row['id']}").status_code == 204
    assert refused(call(world, "GET", f"/field-mappings/{row['id']}"), 404)["code"] == "not_found"
    assert refused(call(world, "DELETE", f"/field-mappings/{row['id']}"), 404)["code"] == "not_found"


def test_a_builtin_mapping_can_be_disabled_but_not_deleted(world: World) -> None:
    jobtitle = builtin(world, "contact", "jobtitle")

    error = refused(call(world, "DELETE", f"/field-mappings/{jobtitle['id']}"), 409)
    assert "jobtitle <-> affiliation.position is a built-in mapping" in error["message"]
    assert error["details"]["fix"] == "disable it instead (PATCH with enabled: false)"

    disabled = call(world, "PATCH", f"/field-mappings/{jobtitle['id']}", {"enabled": False})
    assert disabled.status_code == 200, disabled.text
    assert builtin(world, "contact", "jobtitle")["enabled"] is False
    enabled = call(world, "PATCH", f"/field-mappings/{jobtitle['id']}", {"enabled": True})
    assert enabled.json()["enabled"] is True


def test_explicit_nulls_for_settings_that_cannot_be_empty_are_refused_not_a_server_error(world: World) -> None:
    jobtitle = builtin(world, "contact", "jobtitle")
    for name in ("direction", "conflict_policy", "enabled"):
        error = refused(call(world, "PATCH", f"/field-mappings/{jobtitle['id']}", {name: None}))
        assert error["details"][0]["field"] == name
    assert builtin(world, "contact", "jobtitle") == jobtitle


def test_bad_bodies_are_refused_by_shape(world: World) -> None:
    error = refused(mapping(world, hubspot_property="email", accelo_field="comments", direction="sideways"))
    assert error["details"][0]["field"] == "direction"
    error = refused(
        call(world, "POST", "/field-mappings", {"object_type": "deal", "hubspot_property": "a", "accelo_field": "b"})
    )
    assert error["details"][0]["field"] == "object_type"


# -- every 422 the issue names -------------------------------------------------------------------------------


def test_an_unknown_hubspot_property_names_the_field_and_suggests_similar_ones(world: World) -> None:
    error = refused(mapping(world, hubspot_property="phone_number", accelo_field="comments"))
    assert error["code"] == "validation_error"
    found = problem(error, "hubspot_property")
    assert found["message"] == "HubSpot has no contact property 'phone_number' (similar: phone)"
    assert found["fix"] == "pick a property from GET /schema/hubspot/{object_type}, or create it in HubSpot first"
    assert error["message"].startswith("this mapping cannot be saved: HubSpot has no contact property 'phone_number'")
    assert "— fix: pick a property" in error["message"]


def test_an_unknown_accelo_field_names_the_field_and_the_fix(world: World) -> None:
    error = refused(mapping(world, hubspot_property="company", accelo_field="profile:999"))
    found = problem(error, "accelo_field")
    assert found["message"] == "Accelo has no contact field 'profile:999'"
    assert "GET /schema/accelo/{object_type}" in found["fix"]
    assert "profile:<id>" in found["fix"]


def test_incompatible_types_are_refused_with_the_field_and_the_fix(world: World) -> None:
    field_id = world.accelo.add_profile_field("company", "Founded", field_type="date")
    error = refused(
        call(
            world,
            "POST",
            "/field-mappings",
            {"object_type": "company", "hubspot_property": "numberofemployees", "accelo_field": f"profile:{field_id}"},
        )
    )
    found = problem(error, "accelo_field")
    assert found["message"] == (
        "HubSpot 'numberofemployees' is a number and Accelo 'Founded' is a date: they cannot be mapped 'both'"
    )
    assert found["fix"] == "pick an Accelo number field"


@pytest.mark.parametrize("direction", ["both", "to_hubspot"])
def test_a_number_into_a_text_field_is_refused_unless_one_way_to_the_text(world: World, direction: str) -> None:
    field_id = world.accelo.add_profile_field("company", "Headcount (text)")
    body = {"object_type": "company", "hubspot_property": "numberofemployees", "accelo_field": f"profile:{field_id}"}

    error = refused(call(world, "POST", "/field-mappings", {**body, "direction": direction}))
    found = problem(error, "accelo_field")
    assert f"they cannot be mapped {direction!r}" in found["message"]
    assert found["fix"] == "map it 'to_accelo' only, or pick an Accelo number field"

    one_way = created(call(world, "POST", "/field-mappings", {**body, "direction": "to_accelo"}))
    assert one_way["direction"] == "to_accelo"
    back = refused(call(world, "PATCH", f"/field-mappings/{one_way['id']}", {"direction": "both"}))
    assert problem(back, "accelo_field")["fix"] == "map it 'to_accelo' only, or pick an Accelo number field"


def test_accelo_numbers_may_flow_one_way_into_a_hubspot_text_property(world: World) -> None:
    field_id = world.accelo.add_profile_field("company", "Seats", field_type="integer")
    body = {"object_type": "company", "hubspot_property": "industry", "accelo_field": f"profile:{field_id}"}
    error = refused(call(world, "POST", "/field-mappings", body))
    assert problem(error, "accelo_field")["fix"] == "map it 'to_hubspot' only, or pick an Accelo string field"
    assert created(call(world, "POST", "/field-mappings", {**body, "direction": "to_hubspot"}))["enabled"]


def test_a_read_only_accelo_target_is_refused_and_may_flow_to_hubspot(world: World) -> None:
    add_hubspot_property(world, "contact", "accelo_modified", "datetime", "date")
    body = {"hubspot_property": "accelo_modified", "accelo_field": "date_modified"}
    found = problem(refused(mapping(world, **body)), "accelo_field")
    assert found["message"] == "Accelo field 'Last modified' is read-only, and direction 'both' writes to it"
    assert found["fix"] == "set direction to 'to_hubspot', or pick a writable Accelo field"
    assert created(mapping(world, **body, direction="to_hubspot"))["direction"] == "to_hubspot"


def test_a_read_only_hubspot_target_is_refused_and_may_flow_to_accelo(world: World) -> None:
    field_id = world.accelo.add_profile_field("contact", "HubSpot record id", field_type="integer")
    body = {"hubspot_property": "hs_object_id", "accelo_field": f"profile:{field_id}"}
    found = problem(refused(mapping(world, **body, direction="to_hubspot")), "hubspot_property")
    assert found["message"] == "HubSpot property 'hs_object_id' is read-only, and direction 'to_hubspot' writes to it"
    assert found["fix"] == "set direction to 'to_accelo', or pick a writable HubSpot property"
    assert created(mapping(world, **body, direction="to_accelo"))["direction"] == "to_accelo"


def test_an_accelo_category_can_only_flow_to_hubspot(world: World) -> None:
    segmentation = world.accelo.add_segmentation("Industry", "company")
    add_hubspot_property(world, "company", "accelo_industry", "enumeration", "checkbox", options=["mining", "retail"])
    body = {
        "object_type": "company",
        "hubspot_property": "accelo_industry",
        "accelo_field": f"segmentation:{segmentation}",
    }
    found = problem(refused(call(world, "POST", "/field-mappings", body)), "direction")
    assert found["message"] == "Accelo category 'Industry' is read-only in Accelo's API"
    assert found["fix"] == "set direction to 'to_hubspot'"
    row = created(call(world, "POST", "/field-mappings", {**body, "direction": "to_hubspot"}))
    refused(call(world, "PATCH", f"/field-mappings/{row['id']}", {"direction": "to_accelo"}))


def test_statuses_are_left_to_the_status_mappings(world: World) -> None:
    field_id = world.accelo.add_profile_field("contact", "Stage", field_type="select", options=["lead", "customer"])
    found = problem(
        refused(mapping(world, hubspot_property="lifecyclestage", accelo_field=f"profile:{field_id}")),
        "hubspot_property",
    )
    assert found["message"] == "statuses are synced by the status mappings, not by field mappings"
    assert found["fix"] == "remove this mapping and edit /status-mappings instead"
    add_hubspot_property(world, "contact", "accelo_status")
    found = problem(
        refused(mapping(world, hubspot_property="accelo_status", accelo_field="status", direction="to_hubspot")),
        "accelo_field",
    )
    assert found["fix"] == "remove this mapping and edit /status-mappings instead"


def test_a_hubspot_enumeration_that_is_not_the_status_property_may_be_mapped(world: World) -> None:
    # The workspace keeps statuses in lifecyclestage, so hs_lead_status is an ordinary enumeration here.
    field_id = world.accelo.add_profile_field("contact", "Lead status")
    row = created(
        mapping(world, hubspot_property="hs_lead_status", accelo_field=f"profile:{field_id}", direction="to_accelo")
    )
    assert row["hubspot_property"] == "hs_lead_status"

    options = call(world, "PATCH", "/workspace/options", {"contact_status_property": "hs_lead_status"})
    assert options.status_code == 200, options.text
    found = problem(
        refused(mapping(world, hubspot_property="hs_lead_status", accelo_field="comments", direction="to_accelo")),
        "hubspot_property",
    )
    assert found["message"] == "statuses are synced by the status mappings, not by field mappings"

    # lifecyclestage is now an ordinary property, but HubSpot only moves it forward: it may only be read.
    stage = world.accelo.add_profile_field("contact", "Lifecycle stage")
    age_schema_cache(world, timedelta(minutes=1))  # (a new field shows once the cached schema is re-read)
    found = problem(
        refused(mapping(world, hubspot_property="lifecyclestage", accelo_field=f"profile:{stage}")), "direction"
    )
    assert found["message"] == (
        "HubSpot moves 'lifecyclestage' only forward through its API, so a field mapping cannot write it"
    )
    assert found["fix"].startswith("set direction to 'to_accelo'")
    assert created(
        mapping(world, hubspot_property="lifecyclestage", accelo_field=f"profile:{stage}", direction="to_accelo")
    )


def test_the_same_accelo_field_written_by_two_mappings_is_refused(world: World) -> None:
    found = problem(refused(mapping(world, hubspot_property="company", accelo_field="firstname")), "accelo_field")
    assert found["message"] == "Accelo field 'firstname' is already written by the mapping from HubSpot 'firstname'"
    assert found["fix"] == "map a different Accelo field, or change or remove the other mapping"
    # One-way toward HubSpot does not write the Accelo field, so it does not collide.
    assert created(mapping(world, hubspot_property="company", accelo_field="firstname", direction="to_hubspot"))


def test_the_same_hubspot_property_written_by_two_mappings_is_refused(world: World) -> None:
    field_id = world.accelo.add_profile_field("contact", "Role")
    body = {"hubspot_property": "jobtitle", "accelo_field": f"profile:{field_id}"}
    found = problem(refused(mapping(world, **body, direction="to_hubspot")), "hubspot_property")
    assert found["message"] == (
        "HubSpot property 'jobtitle' is already written by the mapping from Accelo 'affiliation.position'"
    )
    assert found["fix"] == "map a different HubSpot property, or change or remove the other mapping"

    # Once the built-in is switched off, the field is free; switching the built-in back on then collides.
    jobtitle = builtin(world, "contact", "jobtitle")
    call(world, "PATCH", f"/field-mappings/{jobtitle['id']}", {"enabled": False})
    created(mapping(world, **body, direction="to_hubspot"))
    again = refused(call(world, "PATCH", f"/field-mappings/{jobtitle['id']}", {"enabled": True}))
    assert problem(again, "hubspot_property")["message"].startswith("HubSpot property 'jobtitle' is already written")


def test_mapping_the_same_pair_twice_is_refused(world: World) -> None:
    error = refused(mapping(world, hubspot_property="firstname", accelo_field="firstname"))
    assert {item["field"] for item in error["details"]} == {"accelo_field", "hubspot_property"}


# -- enumerations and value maps, checked both ways ---------------------------------------------------------


@pytest.fixture
def tiers(world: World) -> str:
    """HubSpot ``tier`` (gold, silver) and an Accelo select ``Tier`` (Gold, Silver, Bronze)."""
    add_hubspot_property(world, "contact", "tier", "enumeration", "select", options=["gold", "silver"])
    options = ["Gold", "Silver", "Bronze"]
    return f"profile:{world.accelo.add_profile_field('contact', 'Tier', field_type='select', options=options)}"


def test_hubspot_options_with_nowhere_to_go_in_accelo_are_refused(world: World, tiers: str) -> None:
    found = problem(
        refused(mapping(world, hubspot_property="tier", accelo_field=tiers, direction="to_accelo")), "value_map"
    )
    assert found["message"] == "HubSpot options with no Accelo option to go to: gold, silver"
    assert (
        found["fix"] == "add them to the value map (Accelo options: Bronze, Gold, Silver), or add the options in Accelo"
    )
    row = created(
        mapping(
            world,
            hubspot_property="tier",
            accelo_field=tiers,
            direction="to_accelo",
            value_map={"gold": "Gold", "silver": "Silver"},
        )
    )
    assert row["value_map"] == {"gold": "Gold", "silver": "Silver"}


def test_accelo_options_with_nowhere_to_go_in_hubspot_are_refused(world: World, tiers: str) -> None:
    value_map = {"gold": "Gold", "silver": "Silver"}
    found = problem(
        refused(mapping(world, hubspot_property="tier", accelo_field=tiers, value_map=value_map)), "value_map"
    )
    assert found["message"] == "Accelo options with no HubSpot option to go to: Bronze"
    assert found["fix"] == "add them to the value map, or add the options to the HubSpot property"


def test_a_value_map_naming_options_that_do_not_exist_is_refused_on_either_side(world: World, tiers: str) -> None:
    error = refused(
        mapping(
            world,
            hubspot_property="tier",
            accelo_field=tiers,
            direction="to_accelo",
            value_map={"gold": "Gold", "platinum": "Platinum", "silver": "Silver"},
        )
    )
    messages = [item["message"] for item in error["details"]]
    assert messages == ["not options of HubSpot 'tier': platinum", "not options of Accelo 'Tier': Platinum"]
    assert error["details"][0]["fix"] == "use HubSpot's internal values: gold, silver"
    assert error["details"][1]["fix"] == "use Accelo's options: Bronze, Gold, Silver"


def test_a_two_way_value_map_must_be_one_to_one(world: World, tiers: str) -> None:
    value_map = {"gold": "Gold", "silver": "Gold"}
    found = problem(
        refused(mapping(world, hubspot_property="tier", accelo_field=tiers, value_map=value_map)), "value_map"
    )
    assert found["message"] == (
        "two HubSpot options map to the same Accelo option, so a two-way mapping cannot map it back"
    )
    assert found["fix"] == "make the value map one-to-one, or make the mapping one-way"
    assert created(
        mapping(world, hubspot_property="tier", accelo_field=tiers, value_map=value_map, direction="to_accelo")
    )


def test_a_complete_two_way_value_map_is_accepted_and_can_be_edited(world: World, tiers: str) -> None:
    add_hubspot_property(world, "contact", "medal", "enumeration", "select", options=["gold", "silver", "bronze"])
    value_map = {"gold": "Gold", "silver": "Silver", "bronze": "Bronze"}
    row = created(mapping(world, hubspot_property="medal", accelo_field=tiers, value_map=value_map))
    assert row["value_map"] == value_map
    error = refused(call(world, "PATCH", f"/field-mappings/{row['id']}", {"value_map": {"gold": "Gold"}}))
    assert [item["message"] for item in error["details"]] == [
        "HubSpot options with no Accelo option to go to: bronze, silver",
        "Accelo options with no HubSpot option to go to: Bronze, Silver",
    ]


def test_an_unmapped_option_landing_on_a_mapped_one_is_refused_in_a_two_way_mapping(world: World, tiers: str) -> None:
    # HubSpot "Gold" passes through unmapped to Accelo "Gold", where "gold" is mapped too: reading Accelo back
    # would turn a HubSpot "Gold" into "gold".
    add_hubspot_property(
        world, "contact", "medal", "enumeration", "select", options=["gold", "Gold", "silver", "bronze"]
    )
    value_map = {"gold": "Gold", "silver": "Silver", "bronze": "Bronze"}
    found = problem(
        refused(mapping(world, hubspot_property="medal", accelo_field=tiers, value_map=value_map)), "value_map"
    )
    assert found["message"] == (
        "HubSpot options 'Gold' and 'gold' would both become Accelo 'Gold', so a two-way mapping could not tell "
        "them apart when it reads Accelo back"
    )
    assert found["fix"].startswith("make the value map one-to-one")
    assert created(
        mapping(world, hubspot_property="medal", accelo_field=tiers, value_map=value_map, direction="to_accelo")
    )


def test_a_multi_select_whose_options_hold_the_separator_is_refused_where_it_would_be_written(world: World) -> None:
    add_hubspot_property(world, "company", "offices", "enumeration", "checkbox", options=["sydney", "perth"])
    options = ["Sydney, NSW", "Perth, WA"]
    offices = f"profile:{world.accelo.add_profile_field('company', 'Offices', 'multi_select', options=options)}"
    value_map = {"sydney": "Sydney, NSW", "perth": "Perth, WA"}
    body = {"object_type": "company", "hubspot_property": "offices", "accelo_field": offices, "value_map": value_map}

    found = problem(refused(call(world, "POST", "/field-mappings", body)), "accelo_field")
    assert found["message"] == (
        "Accelo takes multi-select 'Offices' as its options joined by ', ', so these options would come back split "
        "or trimmed: 'Sydney, NSW' (contains ','), 'Perth, WA' (contains ',')"
    )
    assert found["fix"] == (
        "rename those options in Accelo (no commas, no spaces at either end), or set direction to 'to_hubspot'"
    )
    # Read from Accelo (its ``values`` list keeps each option whole), they can flow to HubSpot.
    assert created(call(world, "POST", "/field-mappings", {**body, "direction": "to_hubspot"}))


# -- without connections -------------------------------------------------------------------------------------


def test_without_connections_mappings_are_listed_but_not_saved(client: TestClient, tenant: Tenant) -> None:
    rows = client.get("/api/v1/field-mappings", headers=tenant.headers)
    assert rows.status_code == 200
    assert len(rows.json()) == 15
    response = client.post(
        "/api/v1/field-mappings",
        json={"object_type": "contact", "hubspot_property": "company", "accelo_field": "comments"},
        headers=tenant.headers,
    )
    error = refused(response)
    assert error["message"] == "this workspace has no hubspot connection, so its contact fields are unknown"
    assert error["details"] == {"field": "system", "fix": "connect hubspot first (PUT /api/v1/connections/hubspot)"}


def test_a_disabled_mapping_is_checked_against_the_schemas_but_writes_nothing_to_collide_with(world: World) -> None:
    error = refused(mapping(world, hubspot_property="phone_number", accelo_field="comments", enabled=False))
    assert problem(error, "hubspot_property")["message"].startswith("HubSpot has no contact property 'phone_number'")

    row = created(mapping(world, hubspot_property="company", accelo_field="firstname", enabled=False))
    again = refused(call(world, "PATCH", f"/field-mappings/{row['id']}", {"enabled": True}))
    assert problem(again, "accelo_field")["message"].startswith("Accelo field 'firstname' is already written")
