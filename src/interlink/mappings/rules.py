"""Sync rules: whether an *unlinked* record may be created in the other system.

A rule is a condition tree of ``all``/``any`` groups and leaves ``{field, op, value}``, per object type and
direction (``pull``: HubSpot -> Accelo, ``push``: Accelo -> HubSpot), evaluated on the source record with each
field's type. Rules gate creation only: once two records are linked, every update flows whatever the rules
say. No rule means nothing is created automatically for that direction.

A rule is checked against the source system's schema when it is saved (unknown field, operator that does not
fit the field's type, a value of the wrong type: each a clear error), so evaluation never crashes on a
well-formed rule; a value in a record that cannot be read as its type simply fails its leaf, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeAlias, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from interlink.mappings.canonical import (
    Canonical,
    FieldType,
    InvalidValue,
    canonical_bool,
    canonical_date,
    canonical_datetime,
    canonical_number,
)
from interlink.mappings.fields import FieldSpec

Operator = Literal[
    "eq",
    "ne",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "is_set",
    "is_not_set",
    "gt",
    "gte",
    "lt",
    "lte",
]

ORDERED_TYPES = {FieldType.number, FieldType.date, FieldType.datetime}
TEXT_TYPES = {FieldType.string, FieldType.enumeration}
OPERATORS_BY_TYPE: dict[FieldType, set[str]] = {
    FieldType.string: {"eq", "ne", "in", "not_in", "contains", "not_contains", "starts_with", "ends_with"},
    FieldType.enumeration: {"eq", "ne", "in", "not_in"},
    FieldType.multi_select: {"contains", "not_contains", "eq", "ne"},
    FieldType.number: {"eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte"},
    FieldType.date: {"eq", "ne", "gt", "gte", "lt", "lte"},
    FieldType.datetime: {"eq", "ne", "gt", "gte", "lt", "lte"},
    FieldType.bool: {"eq", "ne"},
}
NEGATIVE = {"ne", "not_in", "not_contains"}


class Leaf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1)
    op: Operator
    value: Any = None


class Group(BaseModel):
    """Exactly one of ``all`` (every child must hold) or ``any`` (at least one)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    all_of: list[Condition] | None = Field(default=None, alias="all")
    any_of: list[Condition] | None = Field(default=None, alias="any")

    @model_validator(mode="after")
    def _one_kind(self) -> Group:
        if (self.all_of is None) == (self.any_of is None):
            raise ValueError("a group has exactly one of 'all' or 'any'")
        if not (self.all_of or self.any_of):
            raise ValueError("a group needs at least one condition")
        return self

    @property
    def mode(self) -> Literal["all", "any"]:
        return "all" if self.all_of is not None else "any"

    @property
    def children(self) -> list[Condition]:
        return self.all_of if self.all_of is not None else (self.any_of or [])


Condition: TypeAlias = Annotated[Union[Group, Leaf], Field(union_mode="left_to_right")]  # noqa: UP007
Group.model_rebuild()


class RuleProblem(ValueError):
    """A rule that cannot be saved. ``path`` locates the leaf (``all[1].any[0]``), ``fix`` says what to do."""

    def __init__(self, path: str, message: str, fix: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.fix = fix


def fields_of(condition: Condition | None) -> set[str]:
    """Every field a rule looks at (so a record is decoded only as far as the rule needs)."""
    if condition is None:
        return set()
    if isinstance(condition, Leaf):
        return {condition.field}
    return set().union(*(fields_of(child) for child in condition.children))


# -- validation (when a rule is saved) ---------------------------------------------------------------------


def validate_rule(condition: Condition, schema: Mapping[str, FieldSpec], *, path: str = "rule") -> None:
    """Raise RuleProblem for the first leaf that cannot work against ``schema`` (field name -> spec)."""
    if isinstance(condition, Group):
        for index, child in enumerate(condition.children):
            validate_rule(child, schema, path=f"{path}.{condition.mode}[{index}]")
        return
    spec = schema.get(condition.field)
    if spec is None:
        close = sorted(name for name in schema if condition.field.lower() in name.lower())[:5]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise RuleProblem(path, f"unknown field {condition.field!r}{hint}", "pick a field from the schema list")
    if condition.op in {"is_set", "is_not_set"}:
        return
    allowed = OPERATORS_BY_TYPE[spec.type]
    if condition.op not in allowed:
        raise RuleProblem(
            path,
            f"{condition.op!r} does not apply to {spec.type} field {spec.name!r}",
            f"use one of: {', '.join(sorted(allowed | {'is_set', 'is_not_set'}))}",
        )
    values = condition.value if condition.op in {"in", "not_in"} else [condition.value]
    if condition.op in {"in", "not_in"} and (not isinstance(condition.value, list) or not condition.value):
        raise RuleProblem(path, f"{condition.op!r} needs a non-empty list of values", 'give a list, e.g. ["a", "b"]')
    for value in values:
        try:
            expected = _typed_operand(spec, condition.op, value)
        except InvalidValue as exc:
            raise RuleProblem(
                path,
                f"value {value!r} does not fit {spec.type} field {spec.name!r}: {exc}",
                f"give a {spec.type} value",
            ) from None
        if spec.type is FieldType.enumeration and spec.options and expected not in spec.options:
            raise RuleProblem(
                path,
                f"{value!r} is not an option of {spec.name!r}",
                f"use one of: {', '.join(spec.options[:20])}",
            )


def _typed_operand(spec: FieldSpec, op: str, value: Any) -> Canonical:
    if value is None:
        raise InvalidValue("a value is needed")
    if spec.type is FieldType.number:
        return canonical_number(value)
    if spec.type is FieldType.date:
        return canonical_date(value, epoch_unit=1000)
    if spec.type is FieldType.datetime:
        return canonical_datetime(value, epoch_unit=1000)
    if spec.type is FieldType.bool:
        return canonical_bool(value)
    if isinstance(value, list | dict):
        raise InvalidValue("a single value is needed")
    return str(value)


# -- evaluation --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleResult:
    matched: bool
    reason: str
    failing_leaf: Leaf | None = None
    path: str | None = None


NO_RULE_REASON = "no sync rule for {object_type} {direction}: nothing is created automatically"


def evaluate(
    condition: Condition | None,
    record: Mapping[str, Canonical],
    schema: Mapping[str, FieldSpec],
    *,
    object_type: str = "record",
    direction: str = "pull",
) -> RuleResult:
    """Does ``record`` (canonical values by field name) pass the rule? With the reason, for the ledger."""
    if condition is None:
        return RuleResult(False, NO_RULE_REASON.format(object_type=object_type, direction=direction))
    return _evaluate(condition, record, schema, "rule")


def _evaluate(
    condition: Condition, record: Mapping[str, Canonical], schema: Mapping[str, FieldSpec], path: str
) -> RuleResult:
    if isinstance(condition, Leaf):
        return _leaf(condition, record, schema, path)
    results = [
        _evaluate(child, record, schema, f"{path}.{condition.mode}[{index}]")
        for index, child in enumerate(condition.children)
    ]
    if condition.mode == "all":
        for result in results:
            if not result.matched:
                return result
        return RuleResult(True, f"all {len(results)} condition(s) hold")
    for result in results:
        if result.matched:
            return RuleResult(True, result.reason)
    first = results[0]
    return RuleResult(
        False, "none of the 'any' conditions hold; first: " + first.reason, first.failing_leaf, first.path
    )


def _leaf(leaf: Leaf, record: Mapping[str, Canonical], schema: Mapping[str, FieldSpec], path: str) -> RuleResult:
    spec = schema.get(leaf.field)
    actual = record.get(leaf.field)
    described = f"{leaf.field} {leaf.op}" + ("" if leaf.op in {"is_set", "is_not_set"} else f" {leaf.value!r}")

    def result(matched: bool, why: str) -> RuleResult:
        return RuleResult(matched, f"{described}: {why}", None if matched else leaf, None if matched else path)

    if leaf.op == "is_set":
        return result(actual is not None, "set" if actual is not None else "not set")
    if leaf.op == "is_not_set":
        return result(actual is None, "not set" if actual is None else f"set to {actual!r}")
    if actual is None:
        return result(leaf.op in NEGATIVE, "the field is not set")
    if spec is None:
        return result(False, "the field is not in the schema")
    try:
        matched = _compare(spec, leaf, actual)
    except InvalidValue as exc:
        return result(False, f"cannot compare: {exc}")
    return result(matched, f"value is {actual!r}")


def _fold(value: Canonical) -> Canonical:
    return value.casefold() if isinstance(value, str) else value


def _compare(spec: FieldSpec, leaf: Leaf, actual: Canonical) -> bool:
    op = leaf.op
    if spec.type is not FieldType.multi_select:
        actual = _typed_operand(spec, op, actual)  # a record given by hand may hold raw text
    if op in {"in", "not_in"}:
        options = [_fold(_typed_operand(spec, op, value)) for value in leaf.value]
        found = _fold(actual) in options
        return found if op == "in" else not found
    operand = _typed_operand(spec, op, leaf.value)
    if spec.type is FieldType.multi_select:
        if not isinstance(actual, list):
            raise InvalidValue(f"{actual!r} is not a list of options")
        items = {item.casefold() for item in actual}
        wanted = {part.strip().casefold() for part in str(operand).split(";") if part.strip()}
        if op in {"contains", "not_contains"}:
            return (wanted <= items) == (op == "contains")
        return (items == wanted) == (op == "eq")
    if op in {"eq", "ne"}:
        return (_fold(actual) == _fold(operand)) == (op == "eq")
    if op in {"contains", "not_contains", "starts_with", "ends_with"}:
        text, part = str(actual).casefold(), str(operand).casefold()
        if op == "contains":
            return part in text
        if op == "not_contains":
            return part not in text
        return text.startswith(part) if op == "starts_with" else text.endswith(part)
    # gt/gte/lt/lte on numbers, dates and date-times
    if spec.type is FieldType.number:
        return _order(op, Decimal(str(actual)), Decimal(str(operand)))
    return _order(op, str(actual), str(operand))  # canonical dates and date-times sort as text


Ordered = TypeVar("Ordered", Decimal, str)


def _order(op: str, left: Ordered, right: Ordered) -> bool:
    if op == "gt":
        return left > right
    if op == "gte":
        return left >= right
    if op == "lt":
        return left < right
    return left <= right
