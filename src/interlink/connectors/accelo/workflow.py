"""Statuses and progressions: the only way the API changes a company's, contact's or affiliation's status.

A progression is a transition allowed from the record's current status. ``Progressions.allowed`` lists
them (Accelo lists only those the token's user may run: the "process" permission, or a manager);
``apply`` runs one (``/progressions/{id}/auto``); ``move_to_status`` finds the one leading to a status and
raises ``NoProgressionToStatus`` when there is none, so the sync flags the change instead of forcing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal, overload

from interlink.connectors.accelo.api import AcceloApi
from interlink.connectors.accelo.errors import NoProgressionToStatus
from interlink.connectors.accelo.query import ALL_FIELDS, Filter, Query
from interlink.connectors.accelo.records import AFFILIATION_FIELDS, COMPANY_FIELDS, CONTACT_FIELDS
from interlink.connectors.accelo.schemas import (
    RESOURCE_PATHS,
    Affiliation,
    Company,
    Contact,
    ObjectType,
    Progression,
    ProgressionHistory,
    Status,
)

STATUS_FIELDS = ("title", "standing", "color", "start", "ordering")
_RECORD_MODELS: dict[ObjectType, type[Company] | type[Contact] | type[Affiliation]] = {
    "company": Company,
    "contact": Contact,
    "affiliation": Affiliation,
}
_RECORD_FIELDS: dict[ObjectType, tuple[str, ...]] = {
    "company": COMPANY_FIELDS,
    "contact": CONTACT_FIELDS,
    "affiliation": AFFILIATION_FIELDS,
}


class Statuses:
    def __init__(self, api: AcceloApi) -> None:
        self.api = api

    def all(self, object_type: ObjectType, *filters: Filter) -> list[Status]:
        """Every status defined for companies, contacts or affiliations."""
        path = f"/{RESOURCE_PATHS[object_type]}/statuses"
        query = Query(fields=STATUS_FIELDS, filters=filters, limit=100)
        return list(self.api.iterate(Status, path, route=path, query=query))

    def get(self, object_type: ObjectType, status_id: int) -> Status:
        collection = f"{RESOURCE_PATHS[object_type]}/statuses"
        return self.api.one(
            Status,
            f"/{collection}/{status_id}",
            route=f"/{collection}/{{id}}",
            query=Query(fields=STATUS_FIELDS),
            record=(collection, status_id),
        )

    def of_record(self, object_type: ObjectType, record_id: int) -> Status:
        """``GET /{object}/{id}/status``: the record's current status."""
        collection = RESOURCE_PATHS[object_type]
        return self.api.one(
            Status,
            f"/{collection}/{record_id}/status",
            route=f"/{collection}/{{id}}/status",
            query=Query(fields=STATUS_FIELDS),
            record=(collection, record_id),
        )

    def count(self, object_type: ObjectType) -> int:
        path = f"/{RESOURCE_PATHS[object_type]}/statuses/count"
        return self.api.count(path, route=path)


class Progressions:
    def __init__(self, api: AcceloApi) -> None:
        self.api = api

    def allowed(self, object_type: ObjectType, record_id: int) -> list[Progression]:
        """The progressions that may be run on this record now, each with the status it leads to."""
        collection = RESOURCE_PATHS[object_type]
        query = Query(fields=("status(id,title,standing,color)",))
        payload = self.api.call(
            "GET",
            f"/{collection}/{record_id}/progressions",
            route=f"/{collection}/{{id}}/progressions",
            query=query,
            record=(collection, record_id),
        )
        return self.api.parse_list(Progression, payload, f"/{collection}/{{id}}/progressions")

    @overload
    def apply(
        self,
        object_type: Literal["company"],
        record_id: int,
        progression_id: int,
        *,
        returning: Iterable[str] | None = None,
    ) -> Company: ...
    @overload
    def apply(
        self,
        object_type: Literal["contact"],
        record_id: int,
        progression_id: int,
        *,
        returning: Iterable[str] | None = None,
    ) -> Contact: ...
    @overload
    def apply(
        self,
        object_type: Literal["affiliation"],
        record_id: int,
        progression_id: int,
        *,
        returning: Iterable[str] | None = None,
    ) -> Affiliation: ...
    def apply(
        self,
        object_type: ObjectType,
        record_id: int,
        progression_id: int,
        *,
        returning: Iterable[str] | None = None,
    ) -> Company | Contact | Affiliation:
        """Run one progression (``POST /{object}/{id}/progressions/{progression_id}/auto``) and return the
        updated record."""
        collection = RESOURCE_PATHS[object_type]
        fields = tuple(returning) if returning is not None else _RECORD_FIELDS[object_type]
        return self.api.one(
            _RECORD_MODELS[object_type],
            f"/{collection}/{record_id}/progressions/{progression_id}/auto",
            route=f"/{collection}/{{id}}/progressions/{{progression_id}}/auto",
            method="POST",
            query=Query(fields=fields),
            record=(collection, record_id),
        )

    @overload
    def move_to_status(self, object_type: Literal["company"], record_id: int, status_id: int) -> Company: ...
    @overload
    def move_to_status(self, object_type: Literal["contact"], record_id: int, status_id: int) -> Contact: ...
    @overload
    def move_to_status(self, object_type: Literal["affiliation"], record_id: int, status_id: int) -> Affiliation: ...
    def move_to_status(
        self, object_type: ObjectType, record_id: int, status_id: int
    ) -> Company | Contact | Affiliation:
        """Move the record to ``status_id`` through the progression that leads there (two calls), or raise
        ``NoProgressionToStatus`` naming the statuses that can be reached."""
        options = self.allowed(object_type, record_id)
        for progression in options:
            if progression.status_id == status_id:
                return self.apply(object_type, record_id, progression.id)
        allowed = [
            (option.status_id, option.status.title if option.status and option.status.title else "")
            for option in options
            if option.status_id is not None
        ]
        raise NoProgressionToStatus(
            f"no progression leads {object_type} {record_id} to status {status_id}",
            allowed=allowed,
        )

    def history(
        self, *filters: Filter, fields: Iterable[str] | None = None, page_size: int = 100
    ) -> Iterator[ProgressionHistory]:
        """Status changes (``GET /progressions/history``), e.g. ``against(company(12))`` or
        ``modified_after(moment)``."""
        query = Query(fields=tuple(fields) if fields is not None else (ALL_FIELDS,), filters=filters)
        return self.api.iterate(
            ProgressionHistory,
            "/progressions/history",
            route="/progressions/history",
            query=query.replace(limit=page_size),
        )
