"""Sync rules through the API: saved only when they fit the source system's live schema, listed with what
happens where there is none, and evaluated on a given record or on one fetched live."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.fixtures.world import World
from tests.mappings.helpers import add_hubspot_property, age_schema_cache, call, created, problem, refused

CUSTOMERS = {"field": "lifecyclestage", "op": "eq", "value": "customer"}


def rule(world: World, condition: dict[str, Any], object_type: str = "contact", direction: str = "pull") -> Any:
    body = {"object_type": object_type, "direction": direction, "condition": condition}
    return call(world, "POST", "/sync-rules", body)


def evaluate(world: World, object_type: str = "contact", direction: str = "pull", **source: Any) -> dict[str, Any]:
    response = call(
        world, "POST", "/sync-rules/evaluate", {"object_type": object_type, "direction": direction, **source}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def slot(world: World, object_type: str, direction: str) -> dict[str, Any]:
    slots = call(world, "GET", "/sync-rules").json()
    (found,) = [s for s in slots if (s["object_type"], s["direction"]) == (object_type, direction)]
    return dict(found)


# -- no rule means nothing is created automatically -----------------------------------------------------------


def test_a_new_workspace_says_plainly_that_nothing_is_created_automatically(world: World) -> None:
    slots = call(world, "GET", "/sync-rules").json()
    assert [(s["object_type"], s["direction"], s["rule"]) for s in slots] == [
        ("contact", "pull", None),
        ("contact", "push", None),
        ("company", "pull", None),
        ("company", "push", None),
    ]
    assert slots[0]["effect"] == (
        "no rule: no contacts are created in Accelo automatically; linked contacts still sync both ways"
    )
    assert slots[3]["effect"] == (
        "no rule: no companies are created in HubSpot automatically; linked companies still sync both ways"
    )

    result = evaluate(world, record={"lifecyclestage": "customer"})
    assert result["matched"] is False
    assert result["reason"] == "no sync rule for contact pull: nothing is created automatically"
    assert result["failing_leaf"] is None


def test_a_rule_is_created_read_changed_switched_off_and_removed(world: World) -> None:
    row = created(rule(world, CUSTOMERS))
    assert (row["object_type"], row["direction"], row["enabled"]) == ("contact", "pull", True)
    assert row["condition"] == CUSTOMERS
    assert call(world, "GET", f"/sync-rules/{row['id']}").json() == row
    listed = slot(world, "contact", "pull")
    assert listed["rule"] == row
    assert listed["effect"] == "HubSpot contacts that match the rule are created in Accelo"

    either = {"any": [CUSTOMERS, {"field": "lifecyclestage", "op": "eq", "value": "evangelist"}]}
    changed = call(world, "PATCH", f"/sync-rules/{row['id']}", {"condition": either})
    assert changed.status_code == 200, changed.text
    assert changed.json()["condition"] == either

    off = call(world, "PATCH", f"/sync-rules/{row['id']}", {"enabled": False}).json()
    assert (off["enabled"], off["condition"]) == (False, either)
    assert slot(world, "contact", "pull")["effect"] == (
        "no enabled rule: no contacts are created in Accelo automatically; linked contacts still sync both ways"
    )
    assert evaluate(world, record={"lifecyclestage": "customer"})["matched"] is False

    assert call(world, "DELETE", f"/sync-rules/{row['id']}").status_code == 204
    assert refused(call(world, "GET", f"/sync-rules/{row['id']}"), 404)["code"] == "not_found"
    assert slot(world, "contact", "pull")["rule"] is None


def test_one_rule_per_type_and_direction(world: World) -> None:
    created(rule(world, CUSTOMERS))
    error = refused(rule(world, {"field": "email", "op": "is_set"}), 409)
    assert error["message"] == "a pull rule for contacts exists already"
    assert error["details"] == {"fix": "edit it (one condition tree per object type and direction)"}
    created(rule(world, {"field": "status", "op": "eq", "value": "Active"}, direction="push"))
    created(rule(world, {"field": "name", "op": "is_set"}, object_type="company"))


# -- a clear 422 when a rule that cannot work is saved --------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "object_type", "direction", "path", "message", "fix"),
    [
        (
            {"field": "life_cycle_stage", "op": "eq", "value": "lead"},
            "contact",
            "pull",
            "rule",
            "unknown field 'life_cycle_stage'",
            "pick a field from the schema list",
        ),
        (
            {"field": "phone_", "op": "is_set"},
            "company",
            "pull",
            "rule",
            "unknown field 'phone_'",
            "pick a field from the schema list",
        ),
        (
            {"field": "numberofemployees", "op": "contains", "value": "5"},
            "company",
            "pull",
            "rule",
            "'contains' does not apply to number field 'numberofemployees'",
            "use one of: eq, gt, gte, in, is_not_set, is_set, lt, lte, ne, not_in",
        ),
        (
            {"field": "lifecyclestage", "op": "gt", "value": "lead"},
            "contact",
            "pull",
            "rule",
            "'gt' does not apply to enumeration field 'lifecyclestage'",
            "use one of: eq, in, is_not_set, is_set, ne, not_in",
        ),
        (
            {
                "all": [
                    {"field": "email", "op": "is_set"},
                    {"any": [{"field": "createdate", "op": "gte", "value": "May"}]},
                ]
            },
            "contact",
            "pull",
            "rule.all[1].any[0]",
            "value 'May' does not fit datetime field 'createdate': 'May' is not a date and time",
            "give a datetime value",
        ),
        (
            {"field": "numberofemployees", "op": "gt", "value": "fifty"},
            "company",
            "pull",
            "rule",
            "value 'fifty' does not fit number field 'numberofemployees': 'fifty' is not a number",
            "give a number value",
        ),
        (
            {"field": "lifecyclestage", "op": "eq", "value": "vip"},
            "contact",
            "pull",
            "rule",
            "'vip' is not an option of 'lifecyclestage'",
            "use one of: subscriber, lead, marketingqualifiedlead, salesqualifiedlead, opportunity, customer, "
            "evangelist, other",
        ),
        (
            {"field": "status", "op": "in", "value": "Active"},
            "contact",
            "push",
            "rule",
            "'in' needs a non-empty list of values",
            'give a list, e.g. ["a", "b"]',
        ),
        (
            {"field": "status", "op": "eq", "value": "Prospect"},
            "contact",
            "push",
            "rule",
            "'Prospect' is not an option of 'status'",
            "use one of: Potential, Active, Inactive",
        ),
        (
            {"field": "firstname", "op": "eq"},
            "contact",
            "push",
            "rule",
            "value None does not fit string field 'firstname': a value is needed",
            "give a string value",
        ),
    ],
)
def test_a_rule_that_cannot_work_is_refused_when_saved(
    world: World, condition: dict[str, Any], object_type: str, direction: str, path: str, message: str, fix: str
) -> None:
    error = refused(rule(world, condition, object_type, direction))
    found = problem(error, f"condition.{path}")
    assert found["message"].startswith(message)
    assert found["fix"] == fix
    assert error["message"] == f"this rule cannot be saved: {path}: {found['message']} — fix: {fix}"
    assert slot(world, object_type, direction)["rule"] is None


def test_an_unknown_field_suggests_similar_ones(world: World) -> None:
    found = problem(refused(rule(world, {"field": "mail", "op": "is_set"})), "condition.rule")
    assert found["message"] == "unknown field 'mail' (did you mean email, hs_additional_emails?)"


def test_a_changed_condition_is_checked_too(world: World) -> None:
    row = created(rule(world, CUSTOMERS))
    error = refused(
        call(world, "PATCH", f"/sync-rules/{row['id']}", {"condition": {"field": "email", "op": "gt", "value": "a"}})
    )
    assert problem(error, "condition.rule")["message"] == "'gt' does not apply to string field 'email'"
    assert call(world, "GET", f"/sync-rules/{row['id']}").json()["condition"] == CUSTOMERS


def test_a_malformed_tree_is_refused_by_shape(world: World) -> None:
    both = {"all": [CUSTOMERS], "any": [CUSTOMERS]}
    assert "exactly one of 'all' or 'any'" in refused(rule(world, both))["message"]
    assert refused(rule(world, {"all": []}))["code"] == "validation_error"
    assert refused(rule(world, {"field": "email", "op": "like", "value": "a"}))["code"] == "validation_error"


def test_a_property_created_in_hubspot_can_be_used_by_a_rule(world: World) -> None:
    call(world, "GET", "/schema/hubspot/contact")
    add_hubspot_property(world, "contact", "plan", "enumeration", "select", options=["free", "pro"])
    # The cached schema has no 'plan' yet; a refused save looks again (at a schema at most 30 s old).
    age_schema_cache(world, timedelta(seconds=45))
    assert created(rule(world, {"field": "plan", "op": "eq", "value": "pro"}))["condition"]["field"] == "plan"


# -- evaluate: on a given record, on a record fetched live ---------------------------------------------------


NESTED = {
    "all": [
        {"field": "email", "op": "ends_with", "value": "@engines.example"},
        {
            "any": [
                {"field": "lifecyclestage", "op": "in", "value": ["customer", "evangelist"]},
                {"field": "jobtitle", "op": "contains", "value": "director"},
            ]
        },
    ]
}


def test_evaluate_a_given_record_shows_the_failing_leaf(world: World) -> None:
    created(rule(world, NESTED))
    passing = evaluate(world, record={"email": "ada@engines.example", "lifecyclestage": "lead", "jobtitle": "Director"})
    assert passing["matched"] is True
    assert passing["failing_leaf"] is None
    assert passing["values"] == {"email": "ada@engines.example", "lifecyclestage": "lead", "jobtitle": "Director"}

    wrong_domain = evaluate(world, record={"email": "ada@other.example", "lifecyclestage": "customer"})
    assert wrong_domain["matched"] is False
    assert wrong_domain["path"] == "rule.all[0]"
    assert wrong_domain["failing_leaf"] == {"field": "email", "op": "ends_with", "value": "@engines.example"}
    assert wrong_domain["reason"] == "email ends_with '@engines.example': value is 'ada@other.example'"

    neither = evaluate(world, record={"email": "ada@engines.example", "lifecyclestage": "lead"})
    assert neither["matched"] is False
    assert neither["path"] == "rule.all[1].any[0]"
    assert neither["failing_leaf"]["field"] == "lifecyclestage"
    assert neither["reason"].startswith("none of the 'any' conditions hold; first: lifecyclestage in")


def test_evaluate_reads_values_with_their_types_and_treats_missing_ones_as_unset(world: World) -> None:
    created(
        rule(
            world,
            {
                "all": [
                    {"field": "numberofemployees", "op": "gte", "value": 50},
                    {"field": "createdate", "op": "lt", "value": "2026-01-01"},
                    {"field": "industry", "op": "is_not_set"},
                ]
            },
            object_type="company",
        )
    )
    # HubSpot sends numbers as strings and dates as epoch milliseconds or ISO text.
    record = {"numberofemployees": "120", "createdate": "1735689600000", "unknown_property": "x"}
    result = evaluate(world, "company", record=record)
    assert result["matched"] is True, result["reason"]
    assert result["values"] == {"numberofemployees": "120", "createdate": "2025-01-01T00:00:00Z"}

    small = evaluate(world, "company", record={"numberofemployees": "9", "createdate": "2025-06-01"})
    assert (small["matched"], small["path"]) == (False, "rule.all[0]")
    missing = evaluate(world, "company", record={"createdate": "2025-06-01"})
    assert missing["reason"] == "numberofemployees gte 50: the field is not set"
    with_industry = evaluate(
        world, "company", record={"numberofemployees": 99, "createdate": "2025-06-01", "industry": "Mining"}
    )
    assert with_industry["reason"] == "industry is_not_set: set to 'Mining'"


def test_evaluate_refuses_a_given_value_that_cannot_be_read_as_its_type(world: World) -> None:
    created(rule(world, {"field": "numberofemployees", "op": "ne", "value": 5}, object_type="company"))
    response = call(
        world,
        "POST",
        "/sync-rules/evaluate",
        {"object_type": "company", "direction": "pull", "record": {"numberofemployees": "lots"}},
    )
    error = refused(response)
    assert error["details"] == [
        {
            "field": "record.numberofemployees",
            "message": "'lots' is not a number",
            "fix": "give a number value as HubSpot sends it",
        }
    ]


def test_evaluate_needs_exactly_one_of_record_and_record_id(world: World) -> None:
    for body in ({}, {"record": {}, "record_id": "1"}):
        error = refused(
            call(world, "POST", "/sync-rules/evaluate", {"object_type": "contact", "direction": "pull", **body})
        )
        assert "give exactly one of 'record' or 'record_id'" in error["message"]


def test_evaluate_a_hubspot_record_fetched_live(world: World) -> None:
    created(rule(world, NESTED))
    ada = world.hubspot.create_as_user(
        "contacts", {"email": "ada@engines.example", "firstname": "Ada", "lifecyclestage": "customer"}
    )["id"]
    bob = world.hubspot.create_as_user("contacts", {"email": "bob@engines.example", "lifecyclestage": "lead"})["id"]

    matched = evaluate(world, record_id=str(ada))
    assert matched["matched"] is True
    assert matched["values"]["firstname"] == "Ada"
    assert matched["values"]["lifecyclestage"] == "customer"

    failed = evaluate(world, record_id=str(bob))
    assert (failed["matched"], failed["path"]) == (False, "rule.all[1].any[0]")
    assert failed["failing_leaf"] == {"field": "lifecyclestage", "op": "in", "value": ["customer", "evangelist"]}


def test_evaluate_an_accelo_record_fetched_live_with_its_status_and_profile_values(world: World) -> None:
    seats = world.accelo.add_profile_field("company", "Seats", field_type="integer")
    created(
        rule(
            world,
            {
                "all": [
                    {"field": "status", "op": "eq", "value": "Active"},
                    {"field": f"profile:{seats}", "op": "gt", "value": 10},
                ]
            },
            object_type="company",
            direction="push",
        )
    )
    company = world.accelo.user_create_company("Analytical Engines Ltd", website="engines.example")
    world.accelo.user_set_profile_value("company", company, seats, 25)

    prospect = evaluate(world, "company", "push", record_id=str(company))
    assert prospect["values"]["name"] == "Analytical Engines Ltd"
    assert prospect["values"][f"profile:{seats}"] == "25"
    assert (prospect["matched"], prospect["path"]) == (False, "rule.all[0]")
    assert prospect["reason"] == "status eq 'Active': value is 'Prospect'"

    world.accelo.user_change_status("company", company, world.accelo.status_id("company", "Active"))
    assert evaluate(world, "company", "push", record_id=str(company))["matched"] is True


def test_evaluate_a_record_id_that_does_not_exist_is_a_404(world: World) -> None:
    created(rule(world, CUSTOMERS))
    for direction, record_id in (("pull", "999999"), ("push", "999999"), ("pull", "not-a-number")):
        response = call(
            world,
            "POST",
            "/sync-rules/evaluate",
            {"object_type": "contact", "direction": direction, "record_id": record_id},
        )
        error = refused(response, 404)
        assert record_id in error["message"]


def test_evaluate_says_when_the_rule_is_switched_off(world: World) -> None:
    row = created(rule(world, CUSTOMERS))
    call(world, "PATCH", f"/sync-rules/{row['id']}", {"enabled": False})
    result = evaluate(world, record={"lifecyclestage": "customer"})
    assert result["matched"] is False
    assert result["reason"] == "the contact pull rule is switched off: nothing is created automatically"
