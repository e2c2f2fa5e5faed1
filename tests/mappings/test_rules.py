"""Sync rules: every operator, missing values, wrong types caught when saved, nested groups."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from interlink.mappings.canonical import FieldType
from interlink.mappings.fields import FieldSpec
from interlink.mappings.rules import Condition, Group, Leaf, RuleProblem, evaluate, validate_rule

SCHEMA = {
    spec.name: spec
    for spec in [
        FieldSpec(name="email", label="Email", type=FieldType.string),
        FieldSpec(name="lifecyclestage", label="Stage", type=FieldType.enumeration, options=["lead", "customer"]),
        FieldSpec(name="employees", label="Employees", type=FieldType.number),
        FieldSpec(name="signed", label="Signed", type=FieldType.date),
        FieldSpec(name="seen", label="Seen", type=FieldType.datetime),
        FieldSpec(name="vip", label="VIP", type=FieldType.bool),
        FieldSpec(name="regions", label="Regions", type=FieldType.multi_select, options=["emea", "apac", "amer"]),
    ]
}
RECORD: dict[str, Any] = {
    "email": "Ada@Example.com",
    "lifecyclestage": "customer",
    "employees": "250",
    "signed": "2026-03-01",
    "seen": "2026-03-01T12:00:00Z",
    "vip": True,
    "regions": ["apac", "emea"],
}
condition_adapter: TypeAdapter[Condition] = TypeAdapter(Condition)


def check(field: str, op: str, value: Any = None, record: dict[str, Any] | None = None) -> bool:
    leaf = Leaf(field=field, op=op, value=value)  # type: ignore[arg-type]
    validate_rule(leaf, SCHEMA)
    return evaluate(leaf, RECORD if record is None else record, SCHEMA).matched


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("email", "eq", "ada@example.com", True),  # strings compare without case
        ("email", "ne", "bob@example.com", True),
        ("email", "in", ["x@y.z", "ADA@example.com"], True),
        ("email", "not_in", ["x@y.z"], True),
        ("email", "contains", "@example", True),
        ("email", "not_contains", "@gmail", True),
        ("email", "starts_with", "ada", True),
        ("email", "ends_with", ".org", False),
        ("email", "is_set", None, True),
        ("email", "is_not_set", None, False),
        ("lifecyclestage", "eq", "customer", True),
        ("lifecyclestage", "in", ["lead"], False),
        ("employees", "gt", 100, True),
        ("employees", "gte", "250", True),
        ("employees", "lt", 250, False),
        ("employees", "lte", 250.0, True),
        ("employees", "eq", "250.00", True),
        ("signed", "gt", "2026-02-28", True),
        ("signed", "lt", "2026-03-01", False),
        ("seen", "gte", "2026-03-01T12:00:00Z", True),
        ("seen", "lt", "2026-03-01T11:00:00+00:00", False),
        ("vip", "eq", True, True),
        ("vip", "ne", "false", True),
        ("regions", "contains", "emea", True),
        ("regions", "not_contains", "amer", True),
        ("regions", "eq", "emea;apac", True),
    ],
)
def test_every_operator(field: str, op: str, value: Any, expected: bool) -> None:
    assert check(field, op, value) is expected


class TestMissingValues:
    @pytest.mark.parametrize("op", ["eq", "in", "contains", "starts_with", "ends_with", "gt", "lte"])
    def test_positive_operators_fail_on_a_missing_value(self, op: str) -> None:
        value = ["a"] if op == "in" else ("1" if op in {"gt", "lte"} else "a")
        field = "employees" if op in {"gt", "lte"} else "email"
        result = evaluate(Leaf(field=field, op=op, value=value), {}, SCHEMA)  # type: ignore[arg-type]
        assert not result.matched
        assert "not set" in result.reason

    @pytest.mark.parametrize("op", ["ne", "not_in", "not_contains", "is_not_set"])
    def test_negative_operators_hold_on_a_missing_value(self, op: str) -> None:
        value = ["a"] if op == "not_in" else (None if op == "is_not_set" else "a")
        assert evaluate(Leaf(field="email", op=op, value=value), {"email": None}, SCHEMA).matched  # type: ignore[arg-type]

    def test_an_unreadable_value_fails_its_leaf_with_a_reason_not_a_crash(self) -> None:
        result = evaluate(Leaf(field="employees", op="gt", value=5), {"employees": "lots"}, SCHEMA)
        assert not result.matched
        assert "cannot compare" in result.reason


class TestValidationWhenSaved:
    @pytest.mark.parametrize(
        ("leaf", "message", "fix"),
        [
            ({"field": "emial", "op": "eq", "value": "x"}, "unknown field 'emial'", "pick a field"),
            ({"field": "email", "op": "gt", "value": "x"}, "'gt' does not apply to string", "use one of"),
            (
                {"field": "vip", "op": "contains", "value": "x"},
                "'contains' does not apply to bool",
                "use one of",
            ),
            (
                {"field": "employees", "op": "gt", "value": "many"},
                "does not fit number field",
                "give a number",
            ),
            (
                {"field": "signed", "op": "lt", "value": "next tuesday"},
                "does not fit date field",
                "give a date",
            ),
            ({"field": "email", "op": "in", "value": "x@y.z"}, "needs a non-empty list", "give a list"),
            (
                {"field": "lifecyclestage", "op": "eq", "value": "champion"},
                "not an option",
                "use one of: lead",
            ),
        ],
    )
    def test_a_bad_leaf_is_refused_with_the_fix(self, leaf: dict[str, Any], message: str, fix: str) -> None:
        with pytest.raises(RuleProblem) as caught:
            validate_rule(Leaf.model_validate(leaf), SCHEMA)
        assert message in caught.value.message
        assert fix in caught.value.fix

    def test_the_path_points_into_nested_groups(self) -> None:
        rule = condition_adapter.validate_python(
            {"all": [{"field": "email", "op": "is_set"}, {"any": [{"field": "nope", "op": "is_set"}]}]}
        )
        with pytest.raises(RuleProblem) as caught:
            validate_rule(rule, SCHEMA)
        assert caught.value.path == "rule.all[1].any[0]"

    @pytest.mark.parametrize(
        "bad",
        [{"all": [], "any": []}, {"all": []}, {"field": "email", "op": "like"}, {"everything": True}],
    )
    def test_malformed_trees_do_not_parse(self, bad: dict[str, Any]) -> None:
        with pytest.raises(ValidationError):
            condition_adapter.validate_python(bad)


def test_nested_groups_and_the_failing_leaf_is_reported() -> None:
    rule = condition_adapter.validate_python(
        {
            "all": [
                {"field": "lifecyclestage", "op": "in", "value": ["customer", "lead"]},
                {
                    "any": [
                        {"field": "employees", "op": "gt", "value": 1000},
                        {"field": "vip", "op": "eq", "value": True},
                    ]
                },
                {"field": "email", "op": "not_contains", "value": "example.com"},
            ]
        }
    )
    assert isinstance(rule, Group)
    validate_rule(rule, SCHEMA)
    result = evaluate(rule, RECORD, SCHEMA)
    assert not result.matched
    assert result.path == "rule.all[2]"
    assert result.failing_leaf == Leaf(field="email", op="not_contains", value="example.com")
    assert evaluate(rule, {**RECORD, "email": "ada@ada.dev"}, SCHEMA).matched


def test_no_rule_creates_nothing_and_says_so() -> None:
    result = evaluate(None, RECORD, SCHEMA, object_type="contact", direction="pull")
    assert not result.matched
    assert result.reason == "no sync rule for contact pull: nothing is created automatically"
