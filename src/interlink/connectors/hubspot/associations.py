"""Associations v4 (reference/hubspot-api.md §5): which companies a contact or deal belongs to.

Object types in paths may be names or type ids; ids come back as strings (newer spec) or numbers (older
examples), and both are accepted. Every record pair has the unlabeled type once it is associated at all;
deleting a pair removes every type between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from interlink.connectors.hubspot.errors import HubSpotMalformedResponse
from interlink.connectors.hubspot.schemas import (
    AssociatedRecord,
    AssociationLabel,
    AssociationSpec,
    object_type_name,
    parse_model,
)
from interlink.connectors.hubspot.transport import HubSpotTransport, next_after, results_of

BATCH_READ_LIMIT = 1_000
BATCH_WRITE_LIMIT = 100
LIST_PAGE_MAX = 500


class AssociationTypeIds:
    """HubSpot-defined association type ids we use (ASSOC26)."""

    CONTACT_TO_COMPANY = 279
    CONTACT_TO_COMPANY_PRIMARY = 1
    COMPANY_TO_CONTACT = 280
    COMPANY_TO_CONTACT_PRIMARY = 2
    DEAL_TO_COMPANY = 341
    DEAL_TO_COMPANY_PRIMARY = 5
    COMPANY_TO_DEAL = 342
    COMPANY_TO_DEAL_PRIMARY = 6
    CONTACT_TO_DEAL = 4
    DEAL_TO_CONTACT = 3


@dataclass(frozen=True)
class AssociationPair:
    from_id: str
    to_id: str


class AssociationsApi:
    def __init__(self, transport: HubSpotTransport) -> None:
        self.transport = transport

    def iterate(self, from_type: str, from_id: str, to_type: str) -> Iterator[AssociatedRecord]:
        """Every record of ``to_type`` associated with one record, page by page."""
        from_type, to_type = object_type_name(from_type), object_type_name(to_type)
        path = f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}"
        route = f"/crm/v4/objects/{from_type}/{{id}}/associations/{to_type}"
        after: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": LIST_PAGE_MAX}
            if after is not None:
                params["after"] = after
            body = self.transport.json_object("GET", path, route=route, params=params)
            for item in results_of(body, what="an association page"):
                yield parse_model(AssociatedRecord, item, what="association")
            following = next_after(body)
            if following is None or following == after:
                return
            after = following

    def batch_read(self, from_type: str, to_type: str, ids: Iterable[str]) -> dict[str, list[AssociatedRecord]]:
        """Associations of many records (1,000 per call); every id asked for is a key, possibly empty."""
        from_type, to_type = object_type_name(from_type), object_type_name(to_type)
        path = f"/crm/v4/associations/{from_type}/{to_type}/batch/read"
        wanted = list(dict.fromkeys(str(item) for item in ids))
        found: dict[str, list[AssociatedRecord]] = {item: [] for item in wanted}
        for start in range(0, len(wanted), BATCH_READ_LIMIT):
            chunk = wanted[start : start + BATCH_READ_LIMIT]
            body = self.transport.json_object(
                "POST", path, route=path, json={"inputs": [{"id": item} for item in chunk]}, idempotent=True
            )
            for result in results_of(body, what="an association batch read"):
                origin = result.get("from") if isinstance(result, dict) else None
                if not isinstance(origin, dict) or "id" not in origin:
                    raise HubSpotMalformedResponse("an association batch read result has no from.id")
                targets = result.get("to") or []
                found.setdefault(str(origin["id"]), []).extend(
                    parse_model(AssociatedRecord, target, what="association") for target in targets
                )
        return found

    def associate_default(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """The unlabeled association between two records (idempotent)."""
        from_type, to_type = object_type_name(from_type), object_type_name(to_type)
        self.transport.send(
            "PUT",
            f"/crm/v4/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}",
            route=f"/crm/v4/objects/{from_type}/{{id}}/associations/default/{to_type}/{{toId}}",
        )

    def associate(
        self, from_type: str, from_id: str, to_type: str, to_id: str, types: Sequence[AssociationSpec]
    ) -> None:
        """Labeled association(s), e.g. the primary company (``CONTACT_TO_COMPANY_PRIMARY``)."""
        from_type, to_type = object_type_name(from_type), object_type_name(to_type)
        self.transport.send(
            "PUT",
            f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}",
            route=f"/crm/v4/objects/{from_type}/{{id}}/associations/{to_type}/{{toId}}",
            json=[spec.to_wire() for spec in types],
        )

    def batch_associate_default(self, from_type: str, to_type: str, pairs: Sequence[AssociationPair]) -> None:
        from_type, to_type = object_type_name(from_type), object_type_name(to_type)
        path = f"/crm/v4/associations/{from_type}/{to_type}/batch/associate/default"
        for start in range(0, len(pairs), BATCH_WRITE_LIMIT):
            chunk = pairs[start : start + BATCH_WRITE_LIMIT]
            inputs = [{"from": {"id": pair.from_id}, "to": {"id": pair.to_id}} for pair in chunk]
            self.transport.send("POST", path, route=path, json={"inputs": inputs}, idempotent=True)

    def remove(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """Remove every association type between the two records."""
        from_type, to_type = object_type_name(from_type), object_type_name(to_type)
        self.transport.send(
            "DELETE",
            f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}",
            route=f"/crm/v4/objects/{from_type}/{{id}}/associations/{to_type}/{{toId}}",
        )

    def batch_remove(self, from_type: str, to_type: str, pairs: Sequence[AssociationPair]) -> None:
        from_type, to_type = object_type_name(from_type), object_type_name(to_type)
        path = f"/crm/v4/associations/{from_type}/{to_type}/batch/archive"
        for start in range(0, len(pairs), BATCH_WRITE_LIMIT):
            chunk = pairs[start : start + BATCH_WRITE_LIMIT]
            inputs = [{"from": {"id": pair.from_id}, "to": [{"id": pair.to_id}]} for pair in chunk]
            self.transport.send("POST", path, route=path, json={"inputs": inputs}, idempotent=True)

    def labels(self, from_type: str, to_type: str) -> list[AssociationLabel]:
        from_type, to_type = object_type_name(from_type), object_type_name(to_type)
        path = f"/crm/v4/associations/{from_type}/{to_type}/labels"
        body = self.transport.json_object("GET", path, route=path)
        return [
            parse_model(AssociationLabel, item, what="association label") for item in results_of(body, what="labels")
        ]
