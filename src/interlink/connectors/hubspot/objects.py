"""CRM v3 objects (contacts, companies, deals): one record, batches, lists and search.

What a sync engine needs from these endpoints (reference/hubspot-api.md §2, §8):

- batch reads resolve merged-away ids to the record they now belong to, and say so (``redirects``);
- batch writes are chunked to HubSpot's 100 inputs, and a failure of one input (a 207's per-input error,
  or a whole chunk refused because of one input) is reported against that input instead of failing the
  rest: a refused chunk is split in halves until the failing inputs are alone;
- lists and searches are generators: one page in memory at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from interlink.connectors.hubspot.errors import (
    HubSpotConflict,
    HubSpotError,
    HubSpotInvalidRequest,
    HubSpotMalformedResponse,
    HubSpotNotFound,
    error_from_body,
)
from interlink.connectors.hubspot.schemas import (
    DEFAULT_PROPERTIES,
    MERGED_IDS_PROPERTY,
    AssociationSpec,
    Filter,
    FilterGroup,
    HubSpotObject,
    SearchPage,
    SearchRequest,
    Sort,
    UpsertedObject,
    modified_date_property,
    object_type_name,
    parse_model,
)
from interlink.connectors.hubspot.search import SEARCH_PAGE_MAX, search_page, search_records
from interlink.connectors.hubspot.transport import HubSpotTransport, next_after, results_of

BATCH_LIMIT = 100
LIST_PAGE_MAX = 100
LIST_PAGE_MAX_WITH_HISTORY = 50  # the official SDK pages at 50 when history is asked for (§2.3)

PropertyValues = Mapping[str, str | None]
ADDITIONAL_EMAILS_PROPERTY = "hs_additional_emails"


def _wire_properties(properties: PropertyValues) -> dict[str, str]:
    """Every value is a string; ``None`` clears the property (HubSpot clears on ``""``)."""
    return {name: "" if value is None else str(value) for name, value in properties.items()}


@dataclass(frozen=True)
class AssociationInput:
    """An association made together with a new record (``associations`` of a create)."""

    to_id: str
    type_id: int
    category: str = "HUBSPOT_DEFINED"

    def to_wire(self) -> dict[str, Any]:
        spec = AssociationSpec(association_category=self.category, association_type_id=self.type_id)
        return {"to": {"id": self.to_id}, "types": [spec.to_wire()]}


@dataclass(frozen=True)
class RecordCreate:
    properties: PropertyValues
    associations: Sequence[AssociationInput] = ()


@dataclass(frozen=True)
class RecordUpdate:
    id: str
    properties: PropertyValues


@dataclass(frozen=True)
class RecordUpsert:
    """Create or update the record whose ``id_property`` (given per call, e.g. ``email``) equals ``id``."""

    id: str
    properties: PropertyValues


InputT = TypeVar("InputT", RecordCreate, RecordUpdate, RecordUpsert)


@dataclass
class BatchItem(Generic[InputT]):
    """One input of a batch write and what became of it: a record, or a typed error."""

    index: int
    input: InputT
    record: HubSpotObject | None = None
    error: HubSpotError | None = None
    created: bool | None = None  # upserts: True when the record was new

    @property
    def ok(self) -> bool:
        return self.record is not None and self.error is None


@dataclass
class BatchOutcome(Generic[InputT]):
    """Every input of a batch write in input order; failures are per input, never for the whole batch."""

    items: list[BatchItem[InputT]]

    @property
    def records(self) -> list[HubSpotObject]:
        return [item.record for item in self.items if item.record is not None]

    @property
    def failures(self) -> list[BatchItem[InputT]]:
        return [item for item in self.items if not item.ok]

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class BatchReadResult:
    """Records keyed by the id asked for. A merged-away id maps to the surviving record, and
    ``redirects[asked_id]`` is the id it resolved to; ``missing`` are ids HubSpot does not know (or that
    were archived). ``unattributed`` are results that could not be matched to an id asked for."""

    records: dict[str, HubSpotObject] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)
    unattributed: list[HubSpotObject] = field(default_factory=list)


@dataclass(frozen=True)
class ListPage:
    results: list[HubSpotObject]
    next_after: str | None


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _names(values: Iterable[str] | None) -> list[str] | None:
    return None if values is None else list(dict.fromkeys(values))


class ObjectsApi:
    """``/crm/v3/objects/{object_type}`` for one object type."""

    def __init__(self, transport: HubSpotTransport, object_type: str) -> None:
        self.transport = transport
        self.object_type = object_type_name(object_type)
        self.path = f"/crm/v3/objects/{self.object_type}"
        self.modified_property = modified_date_property(self.object_type)

    # -- one record ------------------------------------------------------------------------------------------

    def get(
        self,
        object_id: str,
        *,
        properties: Iterable[str] | None = None,
        properties_with_history: Iterable[str] | None = None,
        associations: Iterable[str] | None = None,
        archived: bool = False,
        id_property: str | None = None,
    ) -> HubSpotObject:
        """One record. A merged-away id answers with the surviving record, whose ``id`` differs."""
        params: dict[str, Any] = {"archived": archived}
        for key, values in (
            ("properties", properties),
            ("propertiesWithHistory", properties_with_history),
            ("associations", associations),
        ):
            if values is not None:
                params[key] = _names(values)
        if id_property:
            params["idProperty"] = id_property
        body = self.transport.json_object("GET", f"{self.path}/{object_id}", route=f"{self.path}/{{id}}", params=params)
        return parse_model(HubSpotObject, body, what=f"{self.object_type} record")

    def create(self, properties: PropertyValues, *, associations: Sequence[AssociationInput] = ()) -> HubSpotObject:
        body: dict[str, Any] = {"properties": _wire_properties(properties)}
        if associations:
            body["associations"] = [association.to_wire() for association in associations]
        answer = self.transport.json_object("POST", self.path, route=self.path, json=body)
        return parse_model(HubSpotObject, answer, what=f"created {self.object_type} record")

    def update(self, object_id: str, properties: PropertyValues, *, id_property: str | None = None) -> HubSpotObject:
        """Change some properties (``None`` or ``""`` clears one). Works with a merged-away id (§8)."""
        params = {"idProperty": id_property} if id_property else None
        answer = self.transport.json_object(
            "PATCH",
            f"{self.path}/{object_id}",
            route=f"{self.path}/{{id}}",
            params=params,
            json={"properties": _wire_properties(properties)},
        )
        return parse_model(HubSpotObject, answer, what=f"updated {self.object_type} record")

    def archive(self, object_id: str) -> None:
        """Move the record to the recycle bin (restorable for 90 days in HubSpot's UI)."""
        self.transport.send("DELETE", f"{self.path}/{object_id}", route=f"{self.path}/{{id}}")

    def merge(self, primary_id: str, merged_id: str) -> HubSpotObject:
        """Merge ``merged_id`` into ``primary_id``. For contacts and companies HubSpot mints a new id (§8)."""
        answer = self.transport.json_object(
            "POST",
            f"{self.path}/merge",
            route=f"{self.path}/merge",
            json={"primaryObjectId": primary_id, "objectIdToMerge": merged_id},
        )
        return parse_model(HubSpotObject, answer, what=f"merged {self.object_type} record")

    # -- lists -----------------------------------------------------------------------------------------------

    def page(
        self,
        *,
        after: str | None = None,
        limit: int = LIST_PAGE_MAX,
        properties: Iterable[str] | None = None,
        properties_with_history: Iterable[str] | None = None,
        associations: Iterable[str] | None = None,
        archived: bool = False,
    ) -> ListPage:
        params: dict[str, Any] = {"limit": limit, "archived": archived}
        if after is not None:
            params["after"] = after
        for key, values in (
            ("properties", properties),
            ("propertiesWithHistory", properties_with_history),
            ("associations", associations),
        ):
            if values is not None:
                params[key] = _names(values)
        body = self.transport.json_object("GET", self.path, route=self.path, params=params)
        results = [
            parse_model(HubSpotObject, item, what=f"{self.object_type} record")
            for item in results_of(body, what=f"a {self.object_type} list page")
        ]
        return ListPage(results=results, next_after=next_after(body))

    def iterate(
        self,
        *,
        properties: Iterable[str] | None = None,
        properties_with_history: Iterable[str] | None = None,
        associations: Iterable[str] | None = None,
        archived: bool = False,
        page_size: int | None = None,
    ) -> Iterator[HubSpotObject]:
        """Every record (or every archived one), page by page, oldest id first."""
        history = _names(properties_with_history)
        limit = page_size or (LIST_PAGE_MAX_WITH_HISTORY if history else LIST_PAGE_MAX)
        after: str | None = None
        while True:
            page = self.page(
                after=after,
                limit=limit,
                properties=properties,
                properties_with_history=history,
                associations=associations,
                archived=archived,
            )
            yield from page.results
            if page.next_after is None or page.next_after == after:
                return
            after = page.next_after

    # -- search ----------------------------------------------------------------------------------------------

    def search(
        self,
        filter_groups: Sequence[FilterGroup] = (),
        *,
        sorts: Sequence[Sort] = (),
        properties: Iterable[str] | None = None,
        query: str | None = None,
        page_size: int = SEARCH_PAGE_MAX,
    ) -> Iterator[HubSpotObject]:
        """Every match, lazily, past the 10,000-result cap (see ``search.py``). Without a sort, results come
        oldest modification first. Archived records never match (HubSpot's rule)."""
        request = SearchRequest(
            filter_groups=list(filter_groups), sorts=list(sorts), properties=_names(properties), query=query
        )
        return search_records(self.transport, self.object_type, request, page_size=page_size)

    def search_page(self, request: SearchRequest, *, after: int = 0, limit: int = SEARCH_PAGE_MAX) -> SearchPage:
        return search_page(self.transport, self.object_type, request, after=after, limit=limit)

    def modified_since(
        self,
        since: datetime | int,
        *,
        properties: Iterable[str] | None = None,
        filter_groups: Sequence[FilterGroup] = (),
    ) -> Iterator[HubSpotObject]:
        """Records modified at or after ``since`` (epoch ms or a datetime), oldest change first."""
        window = Filter.of(self.modified_property, "GTE", since)
        groups = [FilterGroup(filters=[*group.filters, window]) for group in filter_groups] or [FilterGroup.of(window)]
        return self.search(groups, properties=properties)

    # -- batches ---------------------------------------------------------------------------------------------

    def batch_read(
        self,
        ids: Iterable[str],
        *,
        properties: Iterable[str] | None = None,
        properties_with_history: Iterable[str] | None = None,
        id_property: str | None = None,
        archived: bool = False,
    ) -> BatchReadResult:
        """Read up to any number of records, 100 per call. See ``BatchReadResult`` for merged ids."""
        wanted = list(dict.fromkeys(str(item) for item in ids))
        names = _names(properties)
        if names is None:
            names = list(DEFAULT_PROPERTIES.get(self.object_type, ()))
        extra = [id_property] if id_property else []
        if id_property == "email":
            extra.append(ADDITIONAL_EMAILS_PROPERTY)  # a merged contact answers to its old addresses too
        names = list(dict.fromkeys([*names, MERGED_IDS_PROPERTY, *extra]))
        result = BatchReadResult()
        for chunk in _chunks(wanted, BATCH_LIMIT):
            body: dict[str, Any] = {
                "inputs": [{"id": item} for item in chunk],
                "properties": names,
                "propertiesWithHistory": _names(properties_with_history) or [],
            }
            if id_property:
                body["idProperty"] = id_property
            answer = self.transport.json_object(
                "POST",
                f"{self.path}/batch/read",
                route=f"{self.path}/batch/read",
                params={"archived": archived},
                json=body,
                idempotent=True,
            )
            self._attribute_reads(chunk, answer, id_property, result)
        return result

    def _attribute_reads(
        self, chunk: Sequence[str], answer: Mapping[str, Any], id_property: str | None, result: BatchReadResult
    ) -> None:
        by_key = {self._read_key(item, id_property): item for item in chunk}
        found: set[str] = set()
        for raw in results_of(answer, what=f"a {self.object_type} batch read"):
            record = parse_model(HubSpotObject, raw, what=f"{self.object_type} record")
            if id_property:
                values = [record.get(id_property) or ""]
                if id_property == "email":
                    values += (record.get(ADDITIONAL_EMAILS_PROPERTY) or "").split(";")
                keys = [self._read_key(value, id_property) for value in values if value]
            else:
                keys = [record.id, *record.merged_ids]
            asked = [by_key[key] for key in keys if key in by_key]
            if not asked:
                result.unattributed.append(record)
            for item in asked:
                result.records[item] = record
                found.add(item)
                if not id_property and item != record.id:
                    result.redirects[item] = record.id
        result.missing.extend(item for item in chunk if item not in found)

    @staticmethod
    def _read_key(value: str, id_property: str | None) -> str:
        return value.strip().lower() if id_property == "email" else value

    def batch_create(self, inputs: Sequence[RecordCreate]) -> BatchOutcome[RecordCreate]:
        def wire(item: RecordCreate, trace: str) -> dict[str, Any]:
            body: dict[str, Any] = {"properties": _wire_properties(item.properties), "objectWriteTraceId": trace}
            if item.associations:
                body["associations"] = [association.to_wire() for association in item.associations]
            return body

        return self._batch_write("create", inputs, wire, key=None)

    def batch_update(self, inputs: Sequence[RecordUpdate]) -> BatchOutcome[RecordUpdate]:
        """Update by record id. Merged-away ids fail here (HubSpot's rule, §8); ``update`` accepts them."""

        def wire(item: RecordUpdate, trace: str) -> dict[str, Any]:
            return {"id": item.id, "properties": _wire_properties(item.properties), "objectWriteTraceId": trace}

        return self._batch_write("update", inputs, wire, key=lambda item: item.id)

    def batch_upsert(self, inputs: Sequence[RecordUpsert], *, id_property: str) -> BatchOutcome[RecordUpsert]:
        """Create or update by a unique property. With ``email`` HubSpot refuses partial batches, so one bad
        input fails its chunk; the chunk is then split until that input is alone."""

        def wire(item: RecordUpsert, trace: str) -> dict[str, Any]:
            return {
                "id": item.id,
                "idProperty": id_property,
                "properties": _wire_properties(item.properties),
                "objectWriteTraceId": trace,
            }

        def key(item: RecordUpsert) -> str:
            return self._read_key(item.id, id_property)

        return self._batch_write("upsert", inputs, wire, key=key, key_property=id_property)

    def batch_archive(self, ids: Iterable[str]) -> None:
        """Archive any number of records, 100 per call. Unknown ids are ignored by HubSpot."""
        for chunk in _chunks(list(dict.fromkeys(ids)), BATCH_LIMIT):
            self.transport.send(
                "POST",
                f"{self.path}/batch/archive",
                route=f"{self.path}/batch/archive",
                json={"inputs": [{"id": item} for item in chunk]},
                idempotent=True,
            )

    # -- batch write machinery -------------------------------------------------------------------------------

    def _batch_write(
        self,
        action: str,
        inputs: Sequence[InputT],
        wire: Callable[[InputT, str], dict[str, Any]],
        *,
        key: Callable[[InputT], str] | None,
        key_property: str | None = None,
    ) -> BatchOutcome[InputT]:
        items = [BatchItem(index=index, input=item) for index, item in enumerate(inputs)]
        for chunk in _chunks(items, BATCH_LIMIT):
            self._write_chunk(action, list(chunk), wire, key, key_property)
        return BatchOutcome(items=items)

    def _write_chunk(
        self,
        action: str,
        chunk: list[BatchItem[InputT]],
        wire: Callable[[InputT, str], dict[str, Any]],
        key: Callable[[InputT], str] | None,
        key_property: str | None,
    ) -> None:
        try:
            answer = self.transport.json_object(
                "POST",
                f"{self.path}/batch/{action}",
                route=f"{self.path}/batch/{action}",
                json={"inputs": [wire(item.input, str(position)) for position, item in enumerate(chunk)]},
                idempotent=action != "create",  # updates and upserts land the same twice; creates do not
            )
        except (HubSpotInvalidRequest, HubSpotConflict, HubSpotNotFound) as refused:
            # HubSpot refused the whole chunk because of some input(s): find them by halving.
            if len(chunk) == 1:
                chunk[0].error = refused
                return
            middle = len(chunk) // 2
            self._write_chunk(action, chunk[:middle], wire, key, key_property)
            self._write_chunk(action, chunk[middle:], wire, key, key_property)
            return
        self._attribute_writes(action, chunk, answer, key, key_property)

    def _attribute_writes(
        self,
        action: str,
        chunk: list[BatchItem[InputT]],
        answer: Mapping[str, Any],
        key: Callable[[InputT], str] | None,
        key_property: str | None,
    ) -> None:
        model = UpsertedObject if action == "upsert" else HubSpotObject
        by_trace = {str(position): item for position, item in enumerate(chunk)}
        by_key = {key(item.input): item for item in chunk} if key else {}
        unmatched: list[HubSpotObject] = []
        for raw in results_of(answer, what=f"a {self.object_type} batch {action}"):
            record = parse_model(model, raw, what=f"{self.object_type} record")
            target = by_trace.get(record.object_write_trace_id or "")
            if target is None and key is not None:
                record_key = (
                    record.id if key_property is None else self._read_key(record.get(key_property) or "", key_property)
                )
                target = by_key.get(record_key)
            if target is None or target.record is not None:
                unmatched.append(record)
                continue
            target.record = record
            if isinstance(record, UpsertedObject):
                target.created = record.new
        for raw_error in answer.get("errors") or []:
            if not isinstance(raw_error, dict):
                continue
            error = error_from_body(raw_error, default=HubSpotInvalidRequest)
            for target in self._error_targets(raw_error, chunk, by_trace, by_key):
                target.error = error
        # Results without a trace id or key (should not happen): hand them out in input order.
        waiting = [item for item in chunk if item.record is None and item.error is None]
        for item, record in zip(waiting, unmatched, strict=False):
            item.record = record
        for item in chunk:
            if item.record is None and item.error is None:
                item.error = HubSpotMalformedResponse(
                    f"HubSpot's batch {action} answer has neither a result nor an error for input {item.index}"
                )

    @staticmethod
    def _error_targets(
        raw_error: Mapping[str, Any],
        chunk: list[BatchItem[InputT]],
        by_trace: Mapping[str, BatchItem[InputT]],
        by_key: Mapping[str, BatchItem[InputT]],
    ) -> list[BatchItem[InputT]]:
        context = raw_error.get("context") if isinstance(raw_error.get("context"), dict) else {}
        assert isinstance(context, dict)
        traces = [str(trace) for trace in context.get("objectWriteTraceId") or []]
        targets = [by_trace[trace] for trace in traces if trace in by_trace]
        if not targets:
            ids = [str(value) for value in context.get("ids") or context.get("id") or []]
            targets = [by_key[value] for value in ids if value in by_key]
        if not targets:
            # An error that names no input belongs to every input that has no result.
            targets = [item for item in chunk if item.record is None and item.error is None]
        return targets
