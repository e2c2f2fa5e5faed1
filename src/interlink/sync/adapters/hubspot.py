"""``HubSpotPort`` over the HubSpot client: batch reads (merged ids resolved), match searches, batch writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from interlink.connectors.hubspot.associations import AssociationTypeIds
from interlink.connectors.hubspot.client import HubSpotClient
from interlink.connectors.hubspot.objects import AssociationInput, ObjectsApi, RecordCreate, RecordUpdate
from interlink.connectors.hubspot.schemas import AssociatedRecord, Filter, FilterGroup, HubSpotObject, SearchRequest
from interlink.sync.matching import MatchKey, hubspot_keys
from interlink.sync.plan import GONE, HubSpotRecord, HubSpotWrite, _Gone
from interlink.sync.ports import RecordPage, WriteResult

PLURAL = {"contact": "contacts", "company": "companies"}
SEARCH_PROPERTY = {"email": "email", "domain": "domain", "name": "name"}
KEY_PROPERTIES = {"contact": ("email",), "company": ("domain", "website", "name")}


def primary_company(associations: Sequence[AssociatedRecord]) -> str | None:
    """A contact's primary company, else its only one; None when it has none or several without a primary."""
    for association in associations:
        if AssociationTypeIds.CONTACT_TO_COMPANY_PRIMARY in association.type_ids:
            return association.to_object_id
    return associations[0].to_object_id if len(associations) == 1 else None


class HubSpotAdapter:
    def __init__(self, client: HubSpotClient) -> None:
        self.client = client

    def _api(self, object_type: str) -> ObjectsApi:
        return self.client.objects(PLURAL[object_type])

    def _record(self, obj: HubSpotObject, company_id: str | None = None) -> HubSpotRecord:
        return HubSpotRecord(
            id=obj.id,
            properties=dict(obj.properties),
            updated_at=obj.updated_at,
            company_id=company_id,
            merged_ids=tuple(obj.merged_ids),
        )

    def primary_companies(self, contact_ids: Sequence[str]) -> Mapping[str, str | None]:
        if not contact_ids:
            return {}
        found = self.client.associations.batch_read("contacts", "companies", contact_ids)
        return {contact: primary_company(targets) for contact, targets in found.items()}

    def read(
        self, object_type: str, ids: Sequence[str], properties: Sequence[str]
    ) -> Mapping[str, HubSpotRecord | _Gone]:
        if not ids:
            return {}
        result = self._api(object_type).batch_read(ids, properties=properties)
        records: dict[str, HubSpotRecord | _Gone] = {asked: self._record(obj) for asked, obj in result.records.items()}
        records.update(dict.fromkeys(result.missing, GONE))
        return records

    def find(self, object_type: str, key: MatchKey, properties: Sequence[str]) -> list[HubSpotRecord]:
        group = FilterGroup.of(Filter.of(SEARCH_PROPERTY[key.kind], "EQ", key.value))
        return [self._record(obj) for obj in self._api(object_type).search([group], properties=properties)]

    # -- listing (bulk jobs) -------------------------------------------------------------------------------

    def list_page(
        self, object_type: str, properties: Sequence[str], *, after: str | None, limit: int = 100
    ) -> RecordPage[HubSpotRecord]:
        """One page of every record of the type, in id order (HubSpot's list API; ``after`` is its cursor)."""
        page = self._api(object_type).page(after=after, limit=limit, properties=properties)
        return RecordPage([self._record(obj) for obj in page.results], page.next_after)

    def match_keys_page(
        self, object_type: str, *, after: str | None, limit: int = 100
    ) -> RecordPage[tuple[str, list[MatchKey]]]:
        """One page of records with the keys ``find`` looks them up by (a bulk job's match index)."""
        page = self.list_page(object_type, KEY_PROPERTIES[object_type], after=after, limit=limit)
        return RecordPage([(record.id, hubspot_keys(object_type, record)) for record in page.items], page.next_cursor)

    def count(self, object_type: str) -> int:
        """How many records of the type there are (a search's total: one call)."""
        return self._api(object_type).search_page(SearchRequest(properties=["hs_object_id"]), limit=1).total

    def apply(self, object_type: str, writes: Sequence[HubSpotWrite]) -> list[WriteResult]:
        api = self._api(object_type)
        results: list[WriteResult | None] = [None] * len(writes)
        updates = [(index, w) for index, w in enumerate(writes) if w.record_id is not None]
        creates = [(index, w) for index, w in enumerate(writes) if w.record_id is None]
        if updates:
            outcome = api.batch_update([RecordUpdate(str(w.record_id), w.properties) for _, w in updates])
            for (index, write), item in zip(updates, outcome.items, strict=True):
                results[index] = WriteResult(write.record_id, item.error)
        if creates:
            inputs = []
            for _, write in creates:
                associations = (
                    [AssociationInput(write.associate_company, AssociationTypeIds.CONTACT_TO_COMPANY_PRIMARY)]
                    if write.associate_company and object_type == "contact"
                    else []
                )
                inputs.append(RecordCreate(write.properties, associations))
            outcome_c = api.batch_create(inputs)
            for (index, _), item_c in zip(creates, outcome_c.items, strict=True):
                results[index] = WriteResult(item_c.record.id if item_c.record else None, item_c.error)
        return [result if result is not None else WriteResult(None, RuntimeError("no result")) for result in results]

    def archive(self, object_type: str, record_id: str) -> None:
        self._api(object_type).archive(record_id)
