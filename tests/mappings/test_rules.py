"""Sync rules: every operator, missing values, wrong types caught when saved, nested groups."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from interlink.mappings.canonical import FieldType
from interlink.mappings.fields import FieldSpec
from interlink.mappings.rules import (
    OPERATORS_BY_TYPE,
    Condition,
    Group,
    Leaf,
    RuleProblem,
    RuleResult,
    evaluate,
    validate_rule,
)

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


def check(field: str, op: str, value: Any = None, record: dict[str, Any] | None = None) -> RuleResult:
    leaf = Leaf(field=field, op=op, value=value)  # type: ignore[arg-type]
    validate_rule(leaf, SCHEMA)
    return evaluate(leaf, RECORD if record is None else record, SCHEMA)


# (field, op, value, expected) on RECORD: every operator that fits a type, each shown holding and failing.
CASES: list[tuple[str, str, Any, bool]] = [
    # string: compared without case
    ("email", "eq", "ada@example.com", True),
    ("email", "eq", "bob@example.com", False),
    ("email", "ne", "bob@example.com", True),
    ("email", "ne", "ADA@example.COM", False),
    ("email", "in", ["x@y.z", "ADA@example.com"], True),
    ("email", "in", ["x@y.z", "ada@example.org"], False),
    ("email", "not_in", ["x@y.z"], True),
    ("email", "not_in", ["x@y.z", "ada@EXAMPLE.com"], False),
    ("email", "contains", "@example", True),
    ("email", "contains", "@gmail", False),
    ("email", "not_contains", "@gmail", True),
    ("email", "not_contains", "EXAMPLE", False),
    ("email", "starts_with", "ADA@", True),
    ("email", "starts_with", "example", False),
    ("email", "ends_with", ".COM", True),
    ("email", "ends_with", ".org", False),
    ("email", "is_set", None, True),
    ("email", "is_not_set", None, False),
    # enumeration
    ("lifecyclestage", "eq", "customer", True),
    ("lifecyclestage", "eq", "lead", False),
    ("lifecyclestage", "ne", "lead", True),
    ("lifecyclestage", "ne", "customer", False),
    ("lifecyclestage", "in", ["lead", "customer"], True),
    ("lifecyclestage", "in", ["lead"], False),
    ("lifecyclestage", "not_in", ["lead"], True),
    ("lifecyclestage", "not_in", ["customer"], False),
    ("lifecyclestage", "is_set", None, True),
    ("lifecyclestage", "is_not_set", None, False),
    # number (250): compared as numbers, whatever the spelling
    ("employees", "eq", "250.00", True),
    ("employees", "eq", 251, False),
    ("employees", "ne", 249, True),
    ("employees", "ne", "2.5e2", False),
    ("employees", "in", [1, "250.0"], True),
    ("employees", "in", [1, 25], False),
    ("employees", "not_in", [1, 25], True),
    ("employees", "not_in", [250], False),
    ("employees", "gt", 249.99, True),
    ("employees", "gt", 250, False),
    ("employees", "gte", "250", True),
    ("employees", "gte", "250.01", False),
    ("employees", "lt", 1000, True),  # as text, "250" < "1000" would be False
    ("employees", "lt", 250, False),
    ("employees", "lte", 250.0, True),
    ("employees", "lte", 99, False),  # as text, "250" <= "99" would be True
    ("employees", "is_set", None, True),
    ("employees", "is_not_set", None, False),
    # date (2026-03-01): an ISO date or HubSpot's midnight-UTC milliseconds
    ("signed", "eq", 1772323200000, True),
    ("signed", "eq", "2026-03-02", False),
    ("signed", "ne", "2026-03-02", True),
    ("signed", "ne", "2026-03-01", False),
    ("signed", "gt", "2026-02-28", True),
    ("signed", "gt", "2026-03-01", False),
    ("signed", "gte", "2026-03-01", True),
    ("signed", "gte", "2026-03-02", False),
    ("signed", "lt", "2027-01-01", True),
    ("signed", "lt", "2026-03-01", False),
    ("signed", "lte", "2026-03-01", True),
    ("signed", "lte", "2025-12-31", False),
    ("signed", "is_set", None, True),
    ("signed", "is_not_set", None, False),
    # datetime (2026-03-01T12:00:00Z): offsets are moments, not text
    ("seen", "eq", "2026-03-01T13:00:00+01:00", True),
    ("seen", "eq", "2026-03-01T12:00:01Z", False),
    ("seen", "ne", "2026-03-01T12:00:00-01:00", True),
    ("seen", "ne", "2026-03-01T07:00:00-05:00", False),
    ("seen", "gt", "2026-03-01T11:59:59Z", True),
    ("seen", "gt", "2026-03-01T13:00:00+01:00", False),
    ("seen", "gte", "2026-03-01T12:00:00Z", True),
    ("seen", "gte", "2026-03-01T12:00:00-01:00", False),  # 13:00 UTC, though its text sorts first
    ("seen", "lt", "2026-03-01T12:30:00-01:00", True),  # 13:30 UTC
    ("seen", "lt", "2026-03-01T11:00:00+00:00", False),
    ("seen", "lte", 1772366400000, True),  # the same moment in milliseconds
    ("seen", "lte", "2026-03-01T12:30:00+01:00", False),  # 11:30 UTC
    ("seen", "is_set", None, True),
    ("seen", "is_not_set", None, False),
    # bool
    ("vip", "eq", True, True),
    ("vip", "eq", "no", False),
    ("vip", "ne", "false", True),
    ("vip", "ne", "yes", False),
    ("vip", "is_set", None, True),
    ("vip", "is_not_set", None, False),
    # multi-select (apac, emea): eq is the whole set in any order, contains every named option
    ("regions", "contains", "emea", True),
    ("regions", "contains", "emea;amer", False),
    ("regions", "not_contains", "amer", True),
    ("regions", "not_contains", "EMEA", False),
    ("regions", "eq", "emea;apac", True),
    ("regions", "eq", "emea", False),
    ("regions", "ne", "emea", True),
    ("regions", "ne", "apac;emea", False),
    ("regions", "is_set", None, True),
    ("regions", "is_not_set", None, False),
]


@pytest.mark.parametrize(("field", "op", "value", "expected"), CASES)
def test_every_operator(field: str, op: str, value: Any, expected: bool) -> None:
    result = check(field, op, value)
    assert result.matched is expected
    assert result.reason.startswith(f"{field} {op}")
    assert (result.failing_leaf is None) is expected


def test_every_operator_of_every_type_is_shown_holding_and_failing() -> None:
    shown = {(SCHEMA[field].type, op, expected) for field, op, _, expected in CASES}
    for field_type, operators in OPERATORS_BY_TYPE.items():
        for op in operators | {"is_set", "is_not_set"}:
            if op == "is_set":  # a set value always is set: its False case is the missing value below
                assert (field_type, op, True) in shown
                continue
            if op == "is_not_set":
                assert (field_type, op, False) in shown
                continue
            assert {(field_type, op, True), (field_type, op, False)} <= shown, (field_type, op)


def test_numbers_held_as_text_in_a_record_still_compare_as_numbers() -> None:
    assert check("employees", "gt", 10, record={"employees": "9"}).matched is False
    assert check("employees", "lt", 10, record={"employees": "9"}).matched is True
    assert check("employees", "gte", "-10", record={"employees": "-9.5"}).matched is True


def test_dates_before_the_year_1000_still_order_correctly() -> None:
    record = {"signed": "0999-12-31"}
    assert check("signed", "lt", "1000-01-01", record=record).matched is True
    assert check("signed", "gt", "1000-01-01", record=record).matched is False


ALL_LEAVES = [
    (field, op)
    for field, spec in SCHEMA.items()
    for op in sorted(OPERATORS_BY_TYPE[spec.type] | {"is_set", "is_not_set"})
]
OPERAND: dict[str, Any] = {
    "email": "a@b.c",
    "lifecyclestage": "lead",
    "employees": 5,
    "signed": "2026-01-01",
    "seen": "2026-01-01T00:00:00Z",
    "vip": True,
    "regions": "emea",
}


class TestMissingValues:
    """A field that is absent or cleared: only the negative operators (and is_not_set) hold."""

    @pytest.mark.parametrize(("field", "op"), ALL_LEAVES)
    @pytest.mark.parametrize("cleared", [False, True], ids=["absent", "cleared"])
    def test_every_operator_on_a_missing_value(self, field: str, op: str, cleared: bool) -> None:
        value = None if op in {"is_set", "is_not_set"} else OPERAND[field]
        value = [value] if op in {"in", "not_in"} else value
        record: dict[str, Any] = {name: RECORD[name] for name in RECORD if name != field}
        if cleared:
            record[field] = None
        leaf = Leaf(field=field, op=op, value=value)  # type: ignore[arg-type]
        validate_rule(leaf, SCHEMA)
        result = evaluate(leaf, record, SCHEMA)
        assert result.matched is (op in {"ne", "not_in", "not_contains", "is_not_set"})
        assert "not set" in result.reason

    def test_a_negative_operator_on_a_missing_value_is_not_reported_as_failing(self) -> None:
        result = evaluate(Leaf(field="employees", op="ne", value=5), {}, SCHEMA)
        assert result.matched
        assert result.failing_leaf is None

    def test_an_unreadable_value_fails_its_leaf_with_a_reason_not_a_crash(self) -> None:
        result = evaluate(Leaf(field="employees", op="gt", value=5), {"employees": "lots"}, SCHEMA)
        assert not result.matched
        assert "cannot compare" in result.reason

    def test_an_unreadable_value_fails_a_negative_leaf_too(self) -> None:
        for op, value in [("ne", 5), ("not_in", [5])]:
            result = evaluate(Leaf(field="employees", op=op, value=value), {"employees": "lots"}, SCHEMA)  # type: ignore[arg-type]
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
