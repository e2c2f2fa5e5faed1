"""Accelo's request conventions: ``_fields``, ``_filters``, ``_search``, ``_limit`` and ``_page``.

``_filters`` is a comma-separated list of ``name(arg,...)`` terms: basic (``id(12,13)``), date
(``date_modified_after(1494596024)``, strictly greater), range (``id_greater_than(5)``), order
(``order_by_asc(date_modified)``), negation (``standing_not(inactive)``) and boolean logic
(``_OR(search(kurt),search(wagner))``, which may hold one ``_AND(...)``). Build them with the helpers here
rather than by formatting strings::

    Query(filters=(modified_after(cursor), order_by_asc("date_modified")), limit=100)

Accelo's docs say values holding characters such as ``@``, ``.`` or accented letters can only be filtered
or searched in a JSON body; the query string form also cannot carry ``,``, ``(`` or ``)``. A query that needs
it is sent as ``POST`` with a JSON body and ``"_method": "GET"`` (Accelo's documented method override), with
the filters in their documented JSON shape (``{"id": [12, 13], "order_by_desc": ["status"],
"against": [{"company": [312]}]}``). The JSON shape of ``_OR``/``_AND`` is not documented; this sends
``{"_OR": {"email": [...], "_AND": {...}}}`` (unconfirmed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Union

from interlink.connectors.accelo.values import to_unix, wire_text

MAX_LIMIT = 100
ALL_FIELDS = "_ALL"

FilterArg = Union[str, int, "Filter"]

# What survives the query-string form unharmed; anything else goes in a JSON body.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9 _\-:+]*$")


@dataclass(frozen=True)
class Filter:
    """One ``name(arg,...)`` term. Arguments are values or, for object filters and ``_OR``, other terms."""

    name: str
    args: tuple[FilterArg, ...] = ()

    def render(self) -> str:
        return f"{self.name}({','.join(_render_arg(arg) for arg in self.args)})"

    def values(self) -> Iterable[str]:
        for arg in self.args:
            if isinstance(arg, Filter):
                yield from arg.values()
            else:
                yield wire_text(arg)

    def __str__(self) -> str:
        return self.render()


def _render_arg(arg: FilterArg) -> str:
    return arg.render() if isinstance(arg, Filter) else wire_text(arg)


def filter_term(name: str, *args: FilterArg | datetime | date) -> Filter:
    """A term by name: ``filter_term("standing", "active", "prospect")`` → ``standing(active,prospect)``."""
    return Filter(name, tuple(_arg(arg) for arg in args))


def _arg(arg: FilterArg | datetime | date) -> FilterArg:
    if isinstance(arg, datetime | date):
        return to_unix(arg)
    return arg


def ids(values: Iterable[int]) -> Filter:
    """``id(…)``: the records with these ids (at most 100 per request; the client chunks)."""
    return Filter("id", tuple(sorted(set(values))))


def after(field_name: str, moment: datetime | date | int) -> Filter:
    """``<field>_after(ts)``: strictly later than ``moment`` (unix seconds)."""
    return Filter(f"{field_name}_after", (to_unix(moment),))


def before(field_name: str, moment: datetime | date | int) -> Filter:
    """``<field>_before(ts)``: strictly earlier than ``moment``."""
    return Filter(f"{field_name}_before", (to_unix(moment),))


def modified_after(moment: datetime | date | int) -> Filter:
    return after("date_modified", moment)


def modified_before(moment: datetime | date | int) -> Filter:
    return before("date_modified", moment)


def greater_than(field_name: str, value: int) -> Filter:
    return Filter(f"{field_name}_greater_than", (value,))


def less_than(field_name: str, value: int) -> Filter:
    return Filter(f"{field_name}_less_than", (value,))


def order_by_asc(field_name: str) -> Filter:
    return Filter("order_by_asc", (field_name,))


def order_by_desc(field_name: str) -> Filter:
    return Filter("order_by_desc", (field_name,))


def empty(field_name: str) -> Filter:
    return Filter("empty", (field_name,))


def search(*terms: str) -> Filter:
    """``search(kurt wagner)``: every term must match one of the endpoint's search fields."""
    return Filter("search", (" ".join(terms),))


def against(**objects: Iterable[int]) -> Filter:
    """``against(company(312,466),job(998))``."""
    return Filter("against", tuple(Filter(kind, tuple(values)) for kind, values in objects.items()))


def negate(term: Filter) -> Filter:
    """``<name>_not(…)``: the records the term would not match."""
    if term.name in ("_OR", "_AND") or term.name.startswith("order_by"):
        raise ValueError(f"{term.name} cannot be negated")
    return Filter(term.name + "_not", term.args)


def any_of(*terms: Filter) -> Filter:
    """``_OR(…)``. Accelo allows one ``_AND`` inside and no nested ``_OR``."""
    if sum(1 for term in terms if term.name == "_AND") > 1:
        raise ValueError("Accelo allows only one _AND per request")
    if any(term.name == "_OR" for term in terms):
        raise ValueError("Accelo does not support a nested _OR")
    return Filter("_OR", terms)


def all_of(*terms: Filter) -> Filter:
    """``_AND(…)``, for use inside ``any_of``."""
    if any(term.name in ("_OR", "_AND") for term in terms):
        raise ValueError("_AND cannot hold _OR or _AND")
    return Filter("_AND", terms)


def nested(name: str, *fields: str) -> str:
    """A linked object in ``_fields``: ``nested("status", "title")`` → ``status(title)``; no fields → the
    object with its default fields (``status()``)."""
    return f"{name}({','.join(fields)})"


def _filters_json(terms: Sequence[Filter]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for term in terms:
        if term.name in ("_OR", "_AND"):
            body[term.name] = _filters_json([arg for arg in term.args if isinstance(arg, Filter)])
        elif any(isinstance(arg, Filter) for arg in term.args):
            body[term.name] = [
                {arg.name: [_json_value(value) for value in arg.args]} for arg in term.args if isinstance(arg, Filter)
            ]
        else:
            body[term.name] = [_json_value(arg) for arg in term.args]
    return body


def _json_value(arg: FilterArg) -> Any:
    if isinstance(arg, Filter):
        return {arg.name: [_json_value(value) for value in arg.args]}
    return arg


@dataclass(frozen=True)
class Query:
    """What to ask a list (or single-record) endpoint for."""

    fields: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    search: str | None = None
    limit: int | None = None
    page: int | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.limit is not None and not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"_limit must be between 1 and {MAX_LIMIT}, got {self.limit}")
        if self.page is not None and self.page < 0:
            raise ValueError("_page counts from 0")
        if sum(1 for term in self.filters if term.name == "_OR") > 1:
            raise ValueError("Accelo allows one _OR per request")

    def replace(self, **changes: Any) -> Query:
        return replace(self, **changes)

    def with_filters(self, *terms: Filter) -> Query:
        return replace(self, filters=self.filters + terms)

    @property
    def needs_json(self) -> bool:
        """True when a filter or search value cannot travel in the query string."""
        if self.search is not None and not _SAFE_VALUE.match(self.search):
            return True
        return any(not _SAFE_VALUE.match(value) for term in self.filters for value in term.values())

    def params(self) -> dict[str, str]:
        """The query-string form."""
        params: dict[str, str] = {}
        if self.fields:
            params["_fields"] = ",".join(self.fields)
        if self.filters:
            params["_filters"] = ",".join(term.render() for term in self.filters)
        if self.search is not None:
            params["_search"] = self.search
        if self.limit is not None:
            params["_limit"] = str(self.limit)
        if self.page is not None:
            params["_page"] = str(self.page)
        params.update(self.extra)
        return params

    def json_body(self) -> dict[str, Any]:
        """The JSON-body form (sent with ``"_method": "GET"``)."""
        body: dict[str, Any] = {"_method": "GET"}
        if self.fields:
            body["_fields"] = ",".join(self.fields)
        if self.filters:
            body["_filters"] = _filters_json(self.filters)
        if self.search is not None:
            body["_search"] = self.search
        if self.limit is not None:
            body["_limit"] = self.limit
        if self.page is not None:
            body["_page"] = self.page
        body.update(self.extra)
        return body
