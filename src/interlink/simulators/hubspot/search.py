"""CRM search as HubSpot runs it (reference/hubspot-api.md §2.6).

Filters inside a group are ANDed, groups ORed; at most 5 groups, 6 filters per group, 18 in all; one sort
applies; ``limit`` at most 200; a query reaches at most 10,000 results (paging past that is a 400); the
body is at most 3,000 characters. Comparisons follow the property's type: numbers and dates numerically
(date values as epoch milliseconds), strings case-insensitively, enumerations case-sensitively. Archived
records never match. ``associations.{type}`` filters on associated record ids.

A search scans the records of its type (100,000 records take a few tens of milliseconds per filter); the
sorted matches of the last few queries are cached until the data changes, so paging through one query
scans once.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from interlink.simulators.hubspot.crm import Crm, Record
from interlink.simulators.hubspot.schema import LIFECYCLE_ORDER, SEARCHABLE, TYPE_ALIASES, parse_datetime_ms
from interlink.simulators.hubspot.wire import validation_error

MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_LIMIT = 200
RESULT_CAP = 10_000
MAX_BODY_CHARS = 3_000
DATETIME_COMPUTED = {"createdate", "lastmodifieddate", "hs_lastmodifieddate"}
_TOKEN = re.compile(r"[\w]+", re.UNICODE)

Predicate = Callable[[Record], bool]


class SearchEngine:
    def __init__(self, crm: Crm, *, cache_size: int = 8) -> None:
        self.crm = crm
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str, int], list[int]] = OrderedDict()

    def search(self, object_type: str, raw_body: bytes, body: dict[str, Any]) -> dict[str, Any]:
        if len(raw_body) > MAX_BODY_CHARS:
            raise validation_error(f"Search request body is limited to {MAX_BODY_CHARS} characters")
        groups = body.get("filterGroups") or []
        if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
            raise validation_error(f"Too many filter groups (at most {MAX_GROUPS})")
        total_filters = 0
        for group in groups:
            filters = group.get("filters") if isinstance(group, dict) else None
            if not isinstance(filters, list):
                raise validation_error("Each filter group needs a filters list")
            if len(filters) > MAX_FILTERS_PER_GROUP:
                raise validation_error(f"Too many filters in a group (at most {MAX_FILTERS_PER_GROUP})")
            total_filters += len(filters)
        if total_filters > MAX_FILTERS:
            raise validation_error(f"Too many filters (at most {MAX_FILTERS} in all)")
        limit = _integer(body.get("limit", 10), "limit")
        if not 0 < limit <= MAX_LIMIT:
            raise validation_error(f"limit must be between 1 and {MAX_LIMIT}")
        after = _integer(body.get("after") or 0, "after")
        if after < 0 or after + limit > RESULT_CAP:
            raise validation_error(
                f"Search results are limited to {RESULT_CAP}; after={after} with limit={limit} goes past them"
            )
        matches = self._matches(object_type, groups, body.get("sorts") or [], body.get("query"))
        properties = body.get("properties")
        names = [str(name) for name in properties] if isinstance(properties, list) and properties else None
        page = matches[after : after + limit]
        records = self.crm.records[object_type]
        answer: dict[str, Any] = {
            "total": len(matches),
            "results": [self.crm.record_wire(records[record_id], properties=names) for record_id in page],
        }
        if after + limit < len(matches):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return answer

    def _matches(self, object_type: str, groups: list[Any], sorts: list[Any], query: Any) -> list[int]:
        key = (object_type, json.dumps([groups, sorts, query], sort_keys=True), self.crm.version)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        predicates = [[self._predicate(object_type, raw) for raw in group["filters"]] for group in groups]
        text = self._query_predicate(object_type, query)
        records = self.crm.records[object_type]
        found = [
            record
            for record_id in self.crm.live_ids[object_type]
            if (record := records[record_id]) is not None
            and (not predicates or any(all(check(record) for check in group) for group in predicates))
            and (text is None or text(record))
        ]
        found = self._sort(object_type, found, sorts)
        ids = [record.id for record in found]
        self._cache[key] = ids
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return ids

    # -- filters ---------------------------------------------------------------------------------------------

    def _kind(self, object_type: str, name: str) -> str:
        if name == "hs_object_id":
            return "number"
        if name in DATETIME_COMPUTED:
            return "datetime"
        definition = self.crm.properties[object_type].get(name)
        if definition is None:
            raise validation_error(f"There was a problem with the request: Property {name!r} does not exist")
        if definition.type == "enumeration":
            return "enumeration"
        return definition.type

    def _getter(self, object_type: str, name: str, kind: str) -> Callable[[Record], Any]:
        """The comparable value of a property on a record (None when it has none)."""
        if name == "hs_object_id":
            return lambda record: record.id
        if name == "createdate":
            return lambda record: record.created_ms
        if name in DATETIME_COMPUTED:
            return lambda record: record.updated_ms if name == _modified(record) else None
        if kind in {"number"}:
            return lambda record: _to_float(record.properties.get(name))
        if kind in {"datetime", "date"}:
            return lambda record: _to_ms(record.properties.get(name))
        if kind == "enumeration":
            return lambda record: record.properties.get(name)
        return lambda record: value.lower() if (value := record.properties.get(name)) is not None else None

    def _predicate(self, object_type: str, raw: Any) -> Predicate:
        if not isinstance(raw, dict) or "propertyName" not in raw or "operator" not in raw:
            raise validation_error("Each filter needs a propertyName and an operator")
        name, operator = str(raw["propertyName"]), str(raw["operator"]).upper()
        if name.startswith("associations."):
            return self._association_predicate(object_type, name, operator, raw)
        kind = self._kind(object_type, name)
        get = self._getter(object_type, name, kind)
        convert = _converter(kind)
        if operator == "HAS_PROPERTY":
            return lambda record: get(record) not in (None, "")
        if operator == "NOT_HAS_PROPERTY":
            return lambda record: get(record) in (None, "")
        if operator in {"IN", "NOT_IN"}:
            values = raw.get("values")
            if not isinstance(values, list):
                raise validation_error(f"{operator} needs a values list")
            wanted = {convert(value) for value in values}
            if kind == "enumeration":
                inside: Predicate = lambda record: bool(set((get(record) or "").split(";")) & wanted)  # noqa: E731
            else:
                inside = lambda record: get(record) in wanted  # noqa: E731
            return inside if operator == "IN" else (lambda record: not inside(record))
        if operator in {"CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}:
            pattern = str(raw.get("value", "")).lower()

            def contains(record: Record) -> bool:
                value = get(record)
                if value is None:
                    return False
                text = str(value).lower()
                if "*" in pattern:
                    return fnmatch.fnmatchcase(text, pattern) or any(
                        fnmatch.fnmatchcase(token, pattern) for token in _TOKEN.findall(text)
                    )
                return pattern in _TOKEN.findall(text) or pattern == text

            return contains if operator == "CONTAINS_TOKEN" else (lambda record: not contains(record))
        if "value" not in raw:
            raise validation_error(f"{operator} needs a value")
        value = convert(raw["value"])
        if operator == "BETWEEN":
            high = convert(raw.get("highValue"))
            return lambda record: (
                (found := get(record)) is not None and _ordered(value, found) and _ordered(found, high)
            )
        compare: dict[str, Callable[[Any, Any], bool]] = {
            "EQ": lambda found, wanted: found == wanted,
            "NEQ": lambda found, wanted: found != wanted,
            "LT": lambda found, wanted: found is not None and _less(found, wanted),
            "LTE": lambda found, wanted: found is not None and (found == wanted or _less(found, wanted)),
            "GT": lambda found, wanted: found is not None and _less(wanted, found),
            "GTE": lambda found, wanted: found is not None and (found == wanted or _less(wanted, found)),
        }
        if operator not in compare:
            raise validation_error(f"Unknown operator {operator}")
        check = compare[operator]
        return lambda record: check(get(record), value)

    def _association_predicate(self, object_type: str, name: str, operator: str, raw: dict[str, Any]) -> Predicate:
        to_type = TYPE_ALIASES.get(name.split(".", 1)[1].lower())
        if to_type is None:
            raise validation_error(f"Unknown association type in {name}")
        if operator == "EQ":
            wanted = {str(raw.get("value"))}
        elif operator == "IN":
            wanted = {str(value) for value in raw.get("values") or []}
        else:
            raise validation_error(f"{name} supports EQ and IN only")

        def associated(record: Record) -> bool:
            targets = self.crm.associations.targets((object_type, record.id), to_type)
            return any(str(to_id) in wanted for to_id, _kinds in targets)

        return associated

    def _query_predicate(self, object_type: str, query: Any) -> Predicate | None:
        if not query:
            return None
        tokens = [token.lower() for token in _TOKEN.findall(str(query))]
        fields = SEARCHABLE[object_type]

        def matches(record: Record) -> bool:
            words = [
                word
                for name in fields
                if (value := record.properties.get(name))
                for word in _TOKEN.findall(value.lower())
            ]
            return all(any(word.startswith(token) for word in words) for token in tokens)

        return matches

    # -- sorting ---------------------------------------------------------------------------------------------

    def _sort(self, object_type: str, records: list[Record], sorts: list[Any]) -> list[Record]:
        if not sorts:
            return sorted(records, key=lambda record: (record.created_ms, record.id))
        first = sorts[0]
        if isinstance(first, str):  # the spec types sorts as strings; accept "-name" as descending
            name, descending = first.lstrip("-"), first.startswith("-")
        elif isinstance(first, dict) and "propertyName" in first:
            name = str(first["propertyName"])
            descending = str(first.get("direction", "ASCENDING")).upper() == "DESCENDING"
        else:
            raise validation_error("A sort needs a propertyName")
        kind = self._kind(object_type, name)
        get = self._getter(object_type, name, kind)
        if name == "lifecyclestage":
            base = get
            get = lambda record: LIFECYCLE_ORDER.get(base(record) or "", None)  # noqa: E731
        present = [record for record in records if get(record) is not None]
        absent = [record for record in records if get(record) is None]
        present.sort(key=lambda record: record.id)
        present.sort(key=get, reverse=descending)
        return [*present, *absent] if not descending else [*absent, *present]


def _modified(record: Record) -> str:
    return "lastmodifieddate" if record.object_type == "contacts" else "hs_lastmodifieddate"


def _integer(value: Any, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise validation_error(f"{name} must be an integer") from None


def _to_float(value: str | None) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _to_ms(value: str | None) -> int | None:
    return parse_datetime_ms(value) if value else None


def _converter(kind: str) -> Callable[[Any], Any]:
    if kind == "number":
        return lambda value: _to_float(str(value)) if value is not None else None
    if kind in {"datetime", "date"}:
        return lambda value: _to_ms(str(value)) if value is not None else None
    if kind == "enumeration":
        return lambda value: None if value is None else str(value)
    return lambda value: None if value is None else str(value).lower()


def _less(left: Any, right: Any) -> bool:
    try:
        return bool(left < right)
    except TypeError:
        return False


def _ordered(low: Any, high: Any) -> bool:
    return low == high or _less(low, high)
