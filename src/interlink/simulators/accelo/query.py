"""How the simulator reads ``_fields``, ``_filters``, ``_search``, ``_limit`` and ``_page``.

Semantics follow Accelo's docs: ``_fields`` adds to a resource's default fields (``_ALL`` adds every
optional one); a linked object without parentheses is its id, with ``()`` its default fields, with a list
those fields too, nested as deep as asked. Filters are ANDed; ``_OR`` holds alternatives and at most one
``_AND``; ``<name>_not`` negates; date filters (``_after``/``_before``) are strict; lists are sorted by id
unless an ``order_by_*`` filter says otherwise; ``_limit`` is 10 by default and at most 100 (above 100 is
clamped: Accelo's behaviour there is unconfirmed); ``_page`` counts from 0. There are no totals.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from interlink.simulators.accelo.store import Row, Table

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


class ApiFault(Exception):
    """An Accelo error answer: ``meta.status`` and the HTTP status it travels with."""

    MESSAGES = {
        "invalid_request": (
            "The request could not be interpreted. This can be caused by missing or invalid data. Please "
            "ensure that the resource you are requesting actually exists."
        ),
        "duplicate": "The request would create a duplicate of an existing object.",
        "invalid_client": "The client credentials are invalid, or the access token is missing or expired.",
        "invalid_permission": "You do not have permission to perform this action.",
        "too_many_requests": "Too many requests.",
        "server_error": "The server encountered an error processing the request.",
    }
    HTTP = {
        "invalid_request": 400,
        "duplicate": 400,
        "invalid_client": 401,
        "invalid_permission": 403,
        "too_many_requests": 429,
        "server_error": 500,
    }

    def __init__(self, status: str, detail: str | None = None, *, message: str | None = None) -> None:
        text = message or self.MESSAGES.get(status, status)
        if detail:
            text = f"{text} ({detail})"
        super().__init__(text)
        self.status = status
        self.message = text
        self.http_status = self.HTTP.get(status, 400)


def invalid(detail: str) -> ApiFault:
    return ApiFault("invalid_request", detail)


def missing() -> ApiFault:
    """The record the URL names does not exist: Accelo's generic ``invalid_request``, word for word."""
    return ApiFault("invalid_request")


# -- parsing ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    name: str
    args: tuple[str | Term, ...] = ()


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise invalid("unbalanced parentheses")
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise invalid("unbalanced parentheses")
    parts.append("".join(current).strip())
    return [part for part in parts if part != ""]


def parse_terms(text: str) -> list[Term]:
    """``id(12,13),order_by_asc(date_modified)`` → terms; arguments may be terms themselves."""
    terms = []
    for part in _split_top(text):
        if "(" not in part or not part.endswith(")"):
            raise invalid(f"filter {part!r} is not name(value,…)")
        name, _, inner = part.partition("(")
        inner = inner[:-1]
        args: list[str | Term] = []
        for arg in _split_top(inner):
            if "(" in arg and arg.endswith(")") and arg.partition("(")[0].replace("_", "").isalnum():
                args.extend(parse_terms(arg))
            else:
                args.append(arg)
        terms.append(Term(name.strip(), tuple(args)))
    return terms


def terms_from_json(data: Any) -> list[Term]:
    """The JSON form: ``{"id": [12, 13], "against": [{"company": [312]}], "_OR": {...}}``."""
    if isinstance(data, str):
        return parse_terms(data)
    if not isinstance(data, dict):
        raise invalid("_filters must be a string or an object")
    terms = []
    for name, value in data.items():
        if name in ("_OR", "_AND"):
            terms.append(Term(name, tuple(terms_from_json(value))))
            continue
        values = value if isinstance(value, list) else [value]
        args: list[str | Term] = []
        for item in values:
            if isinstance(item, dict):
                args.extend(Term(key, tuple(_json_scalar(v) for v in _as_list(val))) for key, val in item.items())
            else:
                args.append(_json_scalar(item))
        terms.append(Term(name, tuple(args)))
    return terms


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _json_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        raise invalid("a filter value must be a string or a number")
    return str(value)


@dataclass
class FieldSpec:
    """Which fields to render: ``names`` maps a field to its own spec (None = a plain value or an id)."""

    names: dict[str, FieldSpec | None] = field(default_factory=dict)
    all_fields: bool = False
    hide_defaults: bool = False


def parse_fields(text: str | None, *, hide_defaults: bool = False) -> FieldSpec:
    spec = FieldSpec(hide_defaults=hide_defaults)
    if not text:
        return spec
    for part in _split_top(text):
        if part == "_ALL":
            spec.all_fields = True
        elif "(" in part and part.endswith(")"):
            name, _, inner = part.partition("(")
            spec.names[name.strip()] = parse_fields(inner[:-1])
        else:
            spec.names[part] = None
    return spec


# -- resources ----------------------------------------------------------------------------------------------


@dataclass
class Resource:
    """How one kind of record is rendered, filtered and searched."""

    name: str
    table: Table
    defaults: tuple[str, ...]
    optional: tuple[str, ...]
    links: Mapping[str, str] = field(default_factory=dict)  # field -> resource name of the linked record
    aliases: Mapping[str, str] = field(default_factory=dict)  # filter/order name -> row field
    search_fields: tuple[str, ...] = ()
    computed: Mapping[str, Callable[[Row], Any]] = field(default_factory=dict)
    scope: Callable[[Row], bool] | None = None  # which rows of the table belong to this listing
    omit_when_none: frozenset[str] = frozenset()  # fields Accelo leaves out rather than send as null

    def value(self, row: Row, name: str) -> Any:
        getter = self.computed.get(name)
        return getter(row) if getter is not None else row.get(name)


def wire(value: Any) -> Any:
    """Accelo's string typing: ids, timestamps and counts as strings; null stays null."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [wire(item) for item in value]
    return value


class Renderer:
    def __init__(self, resources: Mapping[str, Resource]) -> None:
        self.resources = resources

    def render(self, resource: Resource, row: Row, spec: FieldSpec) -> dict[str, Any]:
        names: list[str] = [] if spec.hide_defaults else list(resource.defaults)
        if spec.all_fields:
            names.extend(resource.optional)
        names.extend(spec.names)
        known = set(resource.defaults) | set(resource.optional)
        out: dict[str, Any] = {}
        for name in names:
            if name in out or name not in known:
                continue  # Accelo ignores fields it does not know
            raw = resource.value(row, name)
            sub = spec.names.get(name)
            target = resource.links.get(name)
            if sub is not None and target is not None and raw is not None:
                linked_resource = self.resources[target]
                linked = linked_resource.table.get(raw)
                out[name] = self.render(linked_resource, linked, sub) if linked is not None else None
            elif raw is None and name in resource.omit_when_none:
                continue
            else:
                out[name] = wire(raw)
        return out


# -- filtering ----------------------------------------------------------------------------------------------

_RANGE_SUFFIXES = (
    ("_greater_than_or_equal", lambda a, b: a >= b),
    ("_less_than_or_equal", lambda a, b: a <= b),
    ("_greater_than", lambda a, b: a > b),
    ("_less_than", lambda a, b: a < b),
    ("_after", lambda a, b: a > b),
    ("_before", lambda a, b: a < b),
)

Predicate = Callable[[Row], bool]


def _number(text: str | Term) -> int:
    if isinstance(text, Term):
        raise invalid(f"expected a number, got {text.name}(…)")
    try:
        return int(text.strip())
    except ValueError:
        raise invalid(f"expected a number, got {text!r}") from None


def _norm(value: Any) -> str:
    return "" if value is None else str(value).lower()


class Selection:
    """Applies a request's filters, search, order and paging to a resource."""

    def __init__(
        self,
        resource: Resource,
        terms: Sequence[Term] = (),
        search: str | None = None,
        *,
        scope: Callable[[Row], bool] | None = None,
    ) -> None:
        self.resource = resource
        self.scope = scope or resource.scope
        self.order: tuple[str, bool] | None = None  # (field, descending)
        self.predicates: list[Predicate] = []
        self.id_filter: set[int] | None = None
        self.modified_after: int | None = None
        self.modified_before: int | None = None
        self.index_filter: tuple[str, list[str]] | None = None
        for term in terms:
            if term.name in ("order_by_asc", "order_by_desc"):
                if len(term.args) != 1 or isinstance(term.args[0], Term):
                    raise invalid(f"{term.name} takes one field")
                self.order = (
                    self.resource.aliases.get(str(term.args[0]), str(term.args[0])),
                    term.name.endswith("desc"),
                )
                continue
            self._plan(term)
            self.predicates.append(self._predicate(term))
        if search is not None and search.strip():
            self.predicates.append(self._search(search))

    def _plan(self, term: Term) -> None:
        """Note terms a candidate set can come from instead of a scan."""
        table = self.resource.table
        plain = [arg for arg in term.args if isinstance(arg, str)]
        if term.name == "id" and len(plain) == len(term.args):
            found = {_number(arg) for arg in plain}
            self.id_filter = found if self.id_filter is None else self.id_filter & found
        elif term.name == "date_modified_after" and table.tracks_modified:
            self.modified_after = _number(term.args[0]) if term.args else None
        elif term.name == "date_modified_before" and table.tracks_modified:
            self.modified_before = _number(term.args[0]) if term.args else None
        else:
            row_field = self.resource.aliases.get(term.name, term.name)
            if row_field in table.indexed and len(plain) == len(term.args) and self.index_filter is None:
                self.index_filter = (row_field, plain)

    def _field(self, name: str) -> str:
        row_field = self.resource.aliases.get(name, name)
        known = set(self.resource.defaults) | set(self.resource.optional) | set(self.resource.aliases.values())
        if row_field not in known and row_field != "id":
            raise invalid(f"unknown filter field {name!r} for {self.resource.name}")
        return row_field

    def _predicate(self, term: Term) -> Predicate:
        name = term.name
        if name in ("_OR", "_AND"):
            inner = [self._predicate(arg) for arg in term.args if isinstance(arg, Term)]
            if name == "_OR":
                if sum(1 for arg in term.args if isinstance(arg, Term) and arg.name == "_OR"):
                    raise invalid("nested _OR is not supported")
                return lambda row: any(check(row) for check in inner)
            return lambda row: all(check(row) for check in inner)
        if name.endswith("_not"):
            positive = self._predicate(Term(name[: -len("_not")], term.args))
            return lambda row: not positive(row)
        if name == "search":
            return self._search(" ".join(str(arg) for arg in term.args))
        if name == "empty":
            fields = [self._field(str(arg)) for arg in term.args]
            return lambda row: all(self.resource.value(row, f) in (None, "", 0) for f in fields)
        if name == "against":
            pairs = {(arg.name, _number(value)) for arg in term.args if isinstance(arg, Term) for value in arg.args}
            return lambda row: (row.get("against_type"), row.get("against_id")) in pairs
        for suffix, compare in _RANGE_SUFFIXES:
            if name.endswith(suffix):
                row_field = self._field(name[: -len(suffix)])
                if len(term.args) != 1:
                    raise invalid(f"{name} takes one value")
                bound = _number(term.args[0])

                def ranged(row: Row, f: str = row_field, b: int = bound, c: Any = compare) -> bool:
                    value = self.resource.value(row, f)
                    if value is None or value == "":
                        return False
                    return bool(c(int(value), b))

                return ranged
        if any(isinstance(arg, Term) for arg in term.args):
            raise invalid(f"{name} does not take nested filters")
        wanted = {_norm(arg) for arg in term.args}
        if name == "contact_number":
            return lambda row: any(_norm(row.get(f)) in wanted for f in ("phone", "fax", "mobile"))
        row_field = self._field(name)
        return lambda row: _norm(self.resource.value(row, row_field)) in wanted

    def _search(self, text: str) -> Predicate:
        words = [word.lower() for word in text.split() if word]
        fields = self.resource.search_fields

        def matches(row: Row) -> bool:
            haystack = " ".join(_norm(self.resource.value(row, f)) for f in fields)
            return all(word in haystack for word in words)

        return matches

    # -- producing rows -------------------------------------------------------------------------------------
    def candidates(self) -> tuple[Iterable[Row], str]:
        """Rows that may match, and the order they come in ("id", "modified_asc", "modified_desc")."""
        table = self.resource.table
        if self.id_filter is not None:
            return (table.rows[i] for i in sorted(self.id_filter) if i in table.rows), "id"
        if self.index_filter is not None:
            found = table.lookup(*self.index_filter)
            return (table.rows[i] for i in sorted(found)), "id"
        ordered_by_modified = self.order is not None and self.order[0] == "date_modified"
        if (self.modified_after is not None or self.modified_before is not None or ordered_by_modified) and (
            table.tracks_modified
        ):
            low, high = table.modified_range(self.modified_after, self.modified_before)
            entries = table.by_modified
            if self.order == ("date_modified", True):
                return (table.rows[entries[i][1]] for i in range(high - 1, low - 1, -1)), "modified_desc"
            return (table.rows[entries[i][1]] for i in range(low, high)), "modified_asc"
        return table.rows_in_order(), "id"

    def matches(self) -> Iterator[Row]:
        rows, arrival = self.candidates()
        scope = self.scope
        checks = self.predicates
        selected: Iterable[Row] = (
            row for row in rows if (scope is None or scope(row)) and all(check(row) for check in checks)
        )
        wanted = "id"
        if self.order is not None:
            field_name, descending = self.order
            wanted = f"modified_{'desc' if descending else 'asc'}" if field_name == "date_modified" else "custom"
            if field_name == "id":
                wanted = "id_desc" if descending else "id"
        if wanted != arrival:
            selected = self._sorted(selected)
        return iter(selected)

    def _sorted(self, rows: Iterable[Row]) -> list[Row]:
        if self.order is None:
            return sorted(rows, key=lambda row: row["id"])
        field_name, descending = self.order
        if field_name == "fullname":
            key: Callable[[Row], Any] = lambda row: (_norm(row.get("firstname")), _norm(row.get("surname")))  # noqa: E731
        else:

            def key(row: Row) -> Any:
                value = self.resource.value(row, field_name)
                if isinstance(value, int):
                    return (0, value, "")
                return (1, 0, _norm(value))

        return sorted(rows, key=lambda row: (key(row), row["id"]), reverse=descending)

    def page(self, limit: int, page: int) -> list[Row]:
        if (
            not self.predicates
            and self.order is None
            and self.scope is None
            and self.id_filter is None
            and self.index_filter is None
        ):
            ids = self.resource.table.ids_in_order()  # a plain listing: slice, do not scan
            rows = self.resource.table.rows
            return [rows[i] for i in ids[page * limit : page * limit + limit]]
        return list(itertools.islice(self.matches(), page * limit, page * limit + limit))

    def count(self) -> int:
        if not self.predicates and self.scope is None and self.id_filter is None and self.index_filter is None:
            return len(self.resource.table)
        return sum(1 for _ in self.matches())


def paging(params: Mapping[str, Any]) -> tuple[int, int]:
    try:
        limit = int(params.get("_limit", DEFAULT_LIMIT))
        page = int(params.get("_page", 0))
    except (TypeError, ValueError):
        raise invalid("_limit and _page must be numbers") from None
    if limit < 1 or page < 0:
        raise invalid("_limit must be at least 1 and _page at least 0")
    return min(limit, MAX_LIMIT), page
