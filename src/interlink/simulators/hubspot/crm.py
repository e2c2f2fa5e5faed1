"""The simulated CRM: records, their history, unique values, merges, archive and restore, associations.

Record semantics follow reference/hubspot-api.md §2 and §8:

- values are strings; ``hs_object_id``, ``createdate`` and the modification date (``lastmodifieddate`` for
  contacts, ``hs_lastmodifieddate`` for companies and deals) are computed from the record;
- every change is kept in the property's history (with its source), so ``propertiesWithHistory`` works;
- ``lifecyclestage`` moves only forward through the API (a person in the UI may move it anywhere); ``""``
  clears it, after which any stage may be set;
- a contact's email is unique (409 "Contact already exists. Existing ID: N"), as is any property created
  with ``hasUniqueValue``; archived records release their values and take them back on restore;
- a merge creates a new record with a new id; both old ids (and anything merged into them before) resolve
  to it, ``hs_merged_object_ids`` lists them, and the secondary's email moves to ``hs_additional_emails``.

Indexes are dicts (by id, alias, unique value) and a sorted id list per type, so no request scans the
records except search. Every write appends ``Change`` s to the caller's list; the simulator turns them into webhooks.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from interlink.simulators.hubspot.associations import TYPES, AssociationIndex, Key
from interlink.simulators.hubspot.schema import (
    DEFAULT_GROUPS,
    DEFAULT_PROPERTIES,
    LIFECYCLE_ORDER,
    MODIFIED_PROPERTY,
    OBJECT_TYPES,
    SINGULAR,
    TYPE_ALIASES,
    InvalidValue,
    Owner,
    Pipeline,
    PropertyDef,
    default_owners,
    default_pipeline,
    default_properties,
    iso_millis,
    normalise_value,
)
from interlink.simulators.hubspot.wire import SimError, not_found, property_errors, validation_error

COMPUTED = {"hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_merged_object_ids"}


@dataclass(frozen=True)
class Source:
    """Who made a change: ``change_source`` and ``source_id`` as webhooks and history report them."""

    change_source: str
    source_id: str | None = None
    user_id: int | None = None

    @classmethod
    def api(cls, app_id: int) -> Source:
        return cls("INTEGRATION", str(app_id))

    @classmethod
    def ui(cls, user_id: int) -> Source:
        return cls("CRM_UI", f"userId:{user_id}", user_id)

    @classmethod
    def imported(cls) -> Source:
        return cls("IMPORT")

    @property
    def is_api(self) -> bool:
        return self.change_source == "INTEGRATION"

    def to_state(self) -> list[Any]:
        return [self.change_source, self.source_id, self.user_id]


@dataclass
class Change:
    """One thing that happened, as a webhook would report it."""

    kind: str  # creation, deletion, restore, privacyDeletion, propertyChange, merge, associationChange
    object_type: str
    object_id: int
    occurred_ms: int
    source: Source
    property_name: str | None = None
    property_value: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


History = list[tuple[str, int, Source]]


class Record:
    __slots__ = (
        "archived",
        "archived_ms",
        "created_ms",
        "created_source",
        "history",
        "id",
        "merged_ids",
        "object_type",
        "properties",
        "updated_ms",
    )

    def __init__(self, record_id: int, object_type: str, created_ms: int, source: Source) -> None:
        self.id = record_id
        self.object_type = object_type
        self.properties: dict[str, str] = {}
        self.created_ms = created_ms
        self.updated_ms = created_ms
        self.archived = False
        self.archived_ms: int | None = None
        self.merged_ids: list[int] = []
        # Only properties changed after creation have an entry; a creation value's history is derived
        # from created_ms and created_source (keeps 100,000 seeded records small).
        self.history: dict[str, History] = {}
        self.created_source = source

    def value(self, name: str) -> str | None:
        if name in COMPUTED:
            if name == "hs_object_id":
                return str(self.id)
            if name == "createdate":
                return iso_millis(self.created_ms)
            if name == MODIFIED_PROPERTY[self.object_type]:
                return iso_millis(self.updated_ms)
            if name == "hs_merged_object_ids":
                return ";".join(str(merged) for merged in self.merged_ids) or None
            return None
        return self.properties.get(name)

    def history_of(self, name: str) -> History:
        """Oldest first."""
        if name in self.history:
            return self.history[name]
        if name in self.properties:
            return [(self.properties[name], self.created_ms, self.created_source)]
        return []

    def note_change(self, name: str, value: str, stamp: int, source: Source) -> None:
        if name not in self.history:
            self.history[name] = self.history_of(name)
        self.history[name].append((value, stamp, source))


def object_type_of(raw: str) -> str:
    name = TYPE_ALIASES.get(raw.lower())
    if name is None:
        raise SimError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {raw}")
    return name


class Crm:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.reset()

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def reset(self) -> None:
        now = self.now_ms()
        self.records: dict[str, dict[int, Record]] = {kind: {} for kind in OBJECT_TYPES}
        self.live_ids: dict[str, list[int]] = {kind: [] for kind in OBJECT_TYPES}
        self.archived_ids: dict[str, list[int]] = {kind: [] for kind in OBJECT_TYPES}
        self.aliases: dict[str, dict[int, int]] = {kind: {} for kind in OBJECT_TYPES}
        self.unique: dict[str, dict[str, dict[str, int]]] = {kind: {} for kind in OBJECT_TYPES}
        self.properties: dict[str, dict[str, PropertyDef]] = {}
        for kind in OBJECT_TYPES:
            self.properties[kind] = {}
            for definition in default_properties(kind):
                definition.created_ms = definition.updated_ms = now
                self.properties[kind][definition.name] = definition
        self.groups: dict[str, dict[str, dict[str, Any]]] = {
            kind: {
                name: {"name": name, "label": label, "displayOrder": -1, "archived": False}
                for name, label in DEFAULT_GROUPS[kind]
            }
            for kind in OBJECT_TYPES
        }
        self.associations = AssociationIndex()
        self.pipelines: dict[str, Pipeline] = {"default": default_pipeline(now)}
        self.owners: dict[str, Owner] = {owner.id: owner for owner in default_owners(now)}
        self.next_id = 1001
        self.version = 0

    # -- lookups ---------------------------------------------------------------------------------------------

    def unique_properties(self, object_type: str) -> list[str]:
        names = [name for name, definition in self.properties[object_type].items() if definition.has_unique_value]
        return ["email", *names] if object_type == "contacts" else names

    def resolve(
        self, object_type: str, raw_id: str, *, id_property: str | None = None, archived: bool = False
    ) -> Record | None:
        """The record an id (or merged-away id, or unique value) names; None when unknown."""
        if id_property and id_property != "hs_object_id":
            if id_property not in self.unique_properties(object_type):
                raise validation_error(f"{id_property} is not a unique property of {object_type}")
            found = self.unique[object_type].get(id_property, {}).get(raw_id.strip().lower())
            if found is None and id_property == "email":
                found = self.unique[object_type].get("hs_additional_emails", {}).get(raw_id.strip().lower())
            record = self.records[object_type].get(found) if found is not None else None
        else:
            try:
                record_id = int(raw_id)
            except ValueError:
                return None
            record = self.records[object_type].get(record_id)
            if record is None and record_id in self.aliases[object_type]:
                record = self.records[object_type].get(self.aliases[object_type][record_id])
        if record is None or record.archived != archived:
            return None
        return record

    def require(self, object_type: str, raw_id: str, *, id_property: str | None = None) -> Record:
        record = self.resolve(object_type, raw_id, id_property=id_property)
        if record is None:
            raise not_found()
        return record

    def enum_options(
        self, object_type: str, name: str, pending: dict[str, Any], current: Record | None
    ) -> list[str] | None:
        """Options that depend on account data (pipelines, stages, owners); None for static ones."""
        if name == "hubspot_owner_id":
            return list(self.owners)
        if object_type == "deals" and name == "pipeline":
            return list(self.pipelines)
        if object_type == "deals" and name == "dealstage":
            pipeline_id = str(
                pending.get("pipeline") or (current.properties.get("pipeline") if current else None) or "default"
            )
            pipeline = self.pipelines.get(pipeline_id)
            return [stage.id for stage in pipeline.stages] if pipeline else []
        return None

    def wire_options(self, object_type: str, definition: PropertyDef) -> list[dict[str, Any]] | None:
        if definition.name == "hubspot_owner_id":
            return [
                {
                    "label": f"{owner.first_name} {owner.last_name}",
                    "value": owner.id,
                    "displayOrder": index,
                    "hidden": False,
                }
                for index, owner in enumerate(self.owners.values())
            ]
        if object_type == "deals" and definition.name == "pipeline":
            return [
                {"label": pipeline.label, "value": pipeline.id, "displayOrder": pipeline.display_order, "hidden": False}
                for pipeline in self.pipelines.values()
            ]
        if object_type == "deals" and definition.name == "dealstage":
            return [
                {"label": stage.label, "value": stage.id, "displayOrder": stage.display_order, "hidden": False}
                for pipeline in self.pipelines.values()
                for stage in pipeline.stages
            ]
        return None

    # -- checking writes -------------------------------------------------------------------------------------

    def check_values(
        self, object_type: str, values: dict[str, Any], current: Record | None, source: Source
    ) -> dict[str, str]:
        """Normalised values, or a 400 listing every invalid property (HubSpot reports them all at once)."""
        if not isinstance(values, dict):
            raise validation_error("properties must be an object of property names to values")
        definitions = self.properties[object_type]
        problems: list[tuple[str, str, str]] = []
        clean: dict[str, str] = {}
        for name, raw in values.items():
            definition = definitions.get(name)
            if definition is None or definition.archived:
                problems.append((name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
                continue
            if definition.read_only_value or definition.calculated:
                problems.append(
                    (name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.')
                )
                continue
            existing = current.properties.get(name) if current else None
            try:
                value = normalise_value(
                    definition, raw, current=existing, options=self.enum_options(object_type, name, values, current)
                )
            except InvalidValue as invalid:
                problems.append((name, invalid.code, invalid.message))
                continue
            backwards = existing and value and LIFECYCLE_ORDER.get(value, 0) < LIFECYCLE_ORDER.get(existing, 0)
            if name == "lifecyclestage" and source.is_api and backwards:
                problems.append(
                    (
                        name,
                        "INVALID_OPTION",
                        f"lifecyclestage can only move forward through the API (it is {existing!r}, "
                        f"{value!r} is earlier); set it to an empty value first to move it back",
                    )
                )
                continue
            clean[name] = value
        if problems:
            raise property_errors(problems)
        return clean

    def check_unique(self, object_type: str, values: dict[str, str], current: Record | None) -> None:
        for name in self.unique_properties(object_type):
            value = values.get(name)
            if not value:
                continue
            holder = self.unique[object_type].get(name, {}).get(value.lower())
            if holder is None and name == "email":
                holder = self.unique[object_type].get("hs_additional_emails", {}).get(value.lower())
            if holder is not None and (current is None or holder != current.id):
                if object_type == "contacts" and name == "email":
                    message = f"Contact already exists. Existing ID: {holder}"
                else:
                    message = f"A {SINGULAR[object_type]} with {name} {value!r} already exists. Existing ID: {holder}"
                raise SimError(409, "CONFLICT", message)

    # -- index upkeep ----------------------------------------------------------------------------------------

    def _index_unique(self, record: Record, *, add: bool) -> None:
        index = self.unique[record.object_type]
        names = self.unique_properties(record.object_type)
        if record.object_type == "contacts":
            names = [*names, "hs_additional_emails"]
        for name in names:
            raw = record.properties.get(name)
            if not raw:
                continue
            values = raw.split(";") if name == "hs_additional_emails" else [raw]
            for value in values:
                if add:
                    index.setdefault(name, {})[value.lower()] = record.id
                elif index.get(name, {}).get(value.lower()) == record.id:
                    del index[name][value.lower()]

    def _insert_id(self, ids: list[int], record_id: int) -> None:
        if not ids or ids[-1] < record_id:
            ids.append(record_id)
        else:
            bisect.insort(ids, record_id)

    def _remove_id(self, ids: list[int], record_id: int) -> None:
        position = bisect.bisect_left(ids, record_id)
        if position < len(ids) and ids[position] == record_id:
            del ids[position]

    def allocate_id(self, wanted: int | None = None) -> int:
        if wanted is not None:
            if any(wanted in records for records in self.records.values()):
                raise validation_error(f"record id {wanted} is taken")
            self.next_id = max(self.next_id, wanted + 1)
            return wanted
        record_id = self.next_id
        self.next_id += 1
        return record_id

    # -- writes ----------------------------------------------------------------------------------------------

    def create(
        self,
        object_type: str,
        values: dict[str, Any],
        source: Source,
        *,
        associations: Iterable[tuple[str, int, set[int]]] = (),
        created_ms: int | None = None,
        updated_ms: int | None = None,
        record_id: int | None = None,
        checked: dict[str, str] | None = None,
        changes: list[Change] | None = None,
    ) -> Record:
        clean = checked if checked is not None else self.check_values(object_type, values, None, source)
        if checked is None:
            self.check_unique(object_type, clean, None)
        now = self.now_ms()
        record = Record(self.allocate_id(record_id), object_type, created_ms if created_ms is not None else now, source)
        record.updated_ms = updated_ms if updated_ms is not None else record.created_ms
        record.properties = {name: value for name, value in clean.items() if value != ""}
        self.records[object_type][record.id] = record
        self._insert_id(self.live_ids[object_type], record.id)
        self._index_unique(record, add=True)
        self.version += 1
        if changes is not None:
            changes.append(
                Change("creation", object_type, record.id, record.created_ms, source, extra={"changeFlag": "NEW"})
            )
            for name, value in record.properties.items():
                changes.append(Change("propertyChange", object_type, record.id, record.created_ms, source, name, value))
        for to_type, to_id, type_ids in associations:
            self.associate(object_type, record.id, to_type, to_id, type_ids, source, changes=changes)
        return record

    def update(
        self,
        record: Record,
        values: dict[str, Any],
        source: Source,
        *,
        checked: dict[str, str] | None = None,
        changes: list[Change] | None = None,
    ) -> Record:
        clean = checked if checked is not None else self.check_values(record.object_type, values, record, source)
        if checked is None:
            self.check_unique(record.object_type, clean, record)
        now = max(self.now_ms(), record.updated_ms)
        self._index_unique(record, add=False)
        for name, value in clean.items():
            if record.properties.get(name, "") == value:
                continue
            record.note_change(name, value, now, source)
            if value == "":
                record.properties.pop(name, None)
            else:
                record.properties[name] = value
            if changes is not None:
                changes.append(Change("propertyChange", record.object_type, record.id, now, source, name, value))
        self._index_unique(record, add=True)
        record.updated_ms = now
        self.version += 1
        return record

    def archive(self, record: Record, source: Source, *, changes: list[Change] | None = None) -> None:
        if record.archived:
            return
        now = self.now_ms()
        self._index_unique(record, add=False)
        record.archived, record.archived_ms, record.updated_ms = True, now, max(now, record.updated_ms)
        self._remove_id(self.live_ids[record.object_type], record.id)
        self._insert_id(self.archived_ids[record.object_type], record.id)
        self.version += 1
        if changes is not None:
            changes.append(
                Change("deletion", record.object_type, record.id, now, source, extra={"changeFlag": "DELETED"})
            )

    def restore(self, record: Record, source: Source, *, changes: list[Change] | None = None) -> None:
        if not record.archived:
            return
        self.check_unique(record.object_type, record.properties, record)
        now = self.now_ms()
        record.archived, record.archived_ms, record.updated_ms = False, None, max(now, record.updated_ms)
        self._remove_id(self.archived_ids[record.object_type], record.id)
        self._insert_id(self.live_ids[record.object_type], record.id)
        self._index_unique(record, add=True)
        self.version += 1
        if changes is not None:
            changes.append(
                Change("restore", record.object_type, record.id, now, source, extra={"changeFlag": "RESTORED"})
            )

    def purge(self, record: Record, source: Source, *, changes: list[Change] | None = None) -> None:
        """GDPR delete: gone for good, no alias left."""
        now = self.now_ms()
        self._index_unique(record, add=False)
        self._remove_id(self.live_ids[record.object_type], record.id)
        self._remove_id(self.archived_ids[record.object_type], record.id)
        del self.records[record.object_type][record.id]
        self.associations.forget((record.object_type, record.id))
        self.version += 1
        if changes is not None:
            changes.append(Change("privacyDeletion", record.object_type, record.id, now, source))
            changes.append(
                Change("deletion", record.object_type, record.id, now, source, extra={"changeFlag": "DELETED"})
            )

    def merge(
        self, primary: Record, secondary: Record, source: Source, *, changes: list[Change] | None = None
    ) -> Record:
        object_type = primary.object_type
        if primary.id == secondary.id:
            raise validation_error("Cannot merge a record with itself")
        now = self.now_ms()
        merged_values = {**secondary.properties, **primary.properties}
        moved = len(set(secondary.properties) - set(primary.properties))
        if object_type == "contacts" and secondary.properties.get("email") and primary.properties.get("email"):
            additional = [
                *(primary.properties.get("hs_additional_emails") or "").split(";"),
                *(secondary.properties.get("hs_additional_emails") or "").split(";"),
                secondary.properties["email"],
            ]
            merged_values["hs_additional_emails"] = ";".join(dict.fromkeys(email for email in additional if email))
        for old in (primary, secondary):
            self._index_unique(old, add=False)
            self._remove_id(self.live_ids[object_type], old.id)
            del self.records[object_type][old.id]
        record = Record(
            self.allocate_id(), object_type, min(primary.created_ms, secondary.created_ms), primary.created_source
        )
        record.updated_ms = now
        record.properties = merged_values
        record.merged_ids = sorted({*primary.merged_ids, *secondary.merged_ids, primary.id, secondary.id})
        for name in set(primary.history) | set(secondary.history) | set(merged_values):
            entries = sorted([*secondary.history_of(name), *primary.history_of(name)], key=lambda entry: entry[1])
            if entries:
                record.history[name] = entries
        self.records[object_type][record.id] = record
        self._insert_id(self.live_ids[object_type], record.id)
        self._index_unique(record, add=True)
        aliases = self.aliases[object_type]
        for old_id in record.merged_ids:
            aliases[old_id] = record.id
        for old in (secondary, primary):  # the primary's associations win (its primary company stays)
            for (to_type, to_id), kinds in self.associations.forget((object_type, old.id)).items():
                self.associations.add((object_type, record.id), (to_type, to_id), kinds)
        self.version += 1
        if changes is not None:
            changes.append(
                Change(
                    "merge",
                    object_type,
                    record.id,
                    now,
                    source,
                    extra={
                        "primaryObjectId": primary.id,
                        "mergedObjectIds": [secondary.id],
                        "newObjectId": record.id,
                        "numberOfPropertiesMoved": moved,
                    },
                )
            )
        return record

    # -- associations ----------------------------------------------------------------------------------------

    def check_pair(self, from_type: str, to_type: str) -> None:
        if (from_type, to_type) not in TYPES:
            raise validation_error(f"{from_type} cannot be associated with {to_type} in this simulator")

    def associate(
        self,
        from_type: str,
        from_id: int,
        to_type: str,
        to_id: int,
        type_ids: set[int],
        source: Source,
        *,
        changes: list[Change] | None = None,
    ) -> None:
        self.check_pair(from_type, to_type)
        known = TYPES[(from_type, to_type)]
        bad = sorted(type_id for type_id in type_ids if type_id not in known)
        if bad:
            raise validation_error(f"association type {bad[0]} does not exist between {from_type} and {to_type}")
        if self.resolve(to_type, str(to_id)) is None:
            raise validation_error(f"{SINGULAR[to_type]} {to_id} does not exist", ids=[str(to_id)])
        added = self.associations.add((from_type, from_id), (to_type, to_id), type_ids)
        self.version += 1
        if changes is not None:
            self._association_changes(added, removed=False, source=source, changes=changes)

    def disassociate(
        self,
        from_type: str,
        from_id: int,
        to_type: str,
        to_id: int,
        source: Source,
        *,
        changes: list[Change] | None = None,
    ) -> None:
        self.check_pair(from_type, to_type)
        origin, target = (from_type, from_id), (to_type, to_id)
        kinds = self.associations.types_between(origin, target)
        if self.associations.remove(origin, target) and changes is not None:
            removed = [(origin, target, min(kinds))]
            inverse = TYPES[(from_type, to_type)][min(kinds)][1]
            removed.append((target, origin, inverse))
            self._association_changes(removed, removed=True, source=source, changes=changes)
        self.version += 1

    def _association_changes(
        self, links: list[tuple[Key, Key, int]], *, removed: bool, source: Source, changes: list[Change]
    ) -> None:
        from interlink.simulators.hubspot.associations import PRIMARY_TYPES, association_type_name

        now = self.now_ms()
        for origin, target, type_id in links:
            changes.append(
                Change(
                    "associationChange",
                    origin[0],
                    origin[1],
                    now,
                    source,
                    extra={
                        "associationType": association_type_name(origin[0], target[0]),
                        "fromObjectId": origin[1],
                        "toObjectId": target[1],
                        "associationRemoved": removed,
                        "isPrimaryAssociation": type_id in PRIMARY_TYPES,
                    },
                )
            )

    # -- output ----------------------------------------------------------------------------------------------

    def record_wire(
        self,
        record: Record,
        *,
        properties: list[str] | None = None,
        history: list[str] | None = None,
        associations: list[str] | None = None,
    ) -> dict[str, Any]:
        object_type = record.object_type
        definitions = self.properties[object_type]
        names = list(properties) if properties else list(DEFAULT_PROPERTIES[object_type])
        names += ["createdate", MODIFIED_PROPERTY[object_type], "hs_object_id"]
        values = {name: record.value(name) for name in dict.fromkeys(names) if name in definitions}
        body: dict[str, Any] = {
            "id": str(record.id),
            "properties": values,
            "createdAt": iso_millis(record.created_ms),
            "updatedAt": iso_millis(record.updated_ms),
            "archived": record.archived,
        }
        if record.archived and record.archived_ms is not None:
            body["archivedAt"] = iso_millis(record.archived_ms)
        if history:
            body["propertiesWithHistory"] = {
                name: [
                    {
                        "value": value,
                        "timestamp": iso_millis(stamp),
                        "sourceType": source.change_source,
                        "sourceId": source.source_id,
                        "sourceLabel": None,
                        "updatedByUserId": source.user_id,
                    }
                    for value, stamp, source in reversed(self.full_history(record, name))
                ]
                for name in history
                if name in definitions
            }
        if associations:
            body["associations"] = self.v3_associations(record, associations)
        return body

    @staticmethod
    def set_names(record: Record) -> list[str] | None:
        """The properties a record has values for (what HubSpot answers a write with)."""
        names = list(record.properties)
        if record.merged_ids:
            names.append("hs_merged_object_ids")
        return names or None

    def full_history(self, record: Record, name: str) -> History:
        if name in COMPUTED:
            value = record.value(name)
            return [(value, record.updated_ms, record.created_source)] if value is not None else []
        return record.history_of(name)

    def v3_associations(self, record: Record, to_types: list[str]) -> dict[str, Any]:
        from interlink.simulators.hubspot.associations import v3_type_name

        found: dict[str, Any] = {}
        for raw in to_types:
            to_type = TYPE_ALIASES.get(raw.lower())
            if to_type is None or (record.object_type, to_type) not in TYPES:
                continue
            results = [
                {"id": str(to_id), "type": v3_type_name(record.object_type, to_type, type_id)}
                for to_id, kinds in self.live_targets((record.object_type, record.id), to_type)
                for type_id in sorted(kinds)
            ]
            if results:
                found[to_type] = {"results": results}
        return found

    def live_targets(self, origin: Key, to_type: str) -> list[tuple[int, set[int]]]:
        return [
            (to_id, kinds)
            for to_id, kinds in self.associations.targets(origin, to_type)
            if (target := self.records[to_type].get(to_id)) is not None and not target.archived
        ]

    # -- persistence -----------------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        def record_state(record: Record) -> dict[str, Any]:
            return {
                "id": record.id,
                "properties": record.properties,
                "created_ms": record.created_ms,
                "updated_ms": record.updated_ms,
                "archived": record.archived,
                "archived_ms": record.archived_ms,
                "merged_ids": record.merged_ids,
                "created_source": record.created_source.to_state(),
                "history": {
                    name: [[value, stamp, source.to_state()] for value, stamp, source in entries]
                    for name, entries in record.history.items()
                },
            }

        return {
            "next_id": self.next_id,
            "records": {
                kind: [record_state(record) for record in self.records[kind].values()] for kind in OBJECT_TYPES
            },
            "aliases": {kind: {str(old): new for old, new in self.aliases[kind].items()} for kind in OBJECT_TYPES},
            "properties": {
                kind: [
                    definition.to_state()
                    for definition in self.properties[kind].values()
                    if not definition.hubspot_defined
                ]
                for kind in OBJECT_TYPES
            },
            "groups": self.groups,
            "associations": self.associations.to_state(),
            "pipelines": [pipeline.to_state() for pipeline in self.pipelines.values()],
            "owners": [dict(owner.__dict__) for owner in self.owners.values()],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.reset()
        for kind in OBJECT_TYPES:
            for data in state.get("properties", {}).get(kind, []):
                definition = PropertyDef.from_state(data)
                self.properties[kind][definition.name] = definition
        self.groups = state.get("groups", self.groups)
        for kind in OBJECT_TYPES:
            for data in state.get("records", {}).get(kind, []):
                record = Record(data["id"], kind, data["created_ms"], Source(*data["created_source"]))
                record.properties = dict(data["properties"])
                record.updated_ms = data["updated_ms"]
                record.archived = data["archived"]
                record.archived_ms = data.get("archived_ms")
                record.merged_ids = list(data.get("merged_ids", []))
                record.history = {
                    name: [(value, stamp, Source(*source)) for value, stamp, source in entries]
                    for name, entries in data.get("history", {}).items()
                }
                self.records[kind][record.id] = record
                self._insert_id(self.archived_ids[kind] if record.archived else self.live_ids[kind], record.id)
                if not record.archived:
                    self._index_unique(record, add=True)
            self.aliases[kind] = {int(old): new for old, new in state.get("aliases", {}).get(kind, {}).items()}
        self.associations.load_state(state.get("associations", []))
        if state.get("pipelines"):
            self.pipelines = {data["id"]: Pipeline.from_state(data) for data in state["pipelines"]}
        if state.get("owners"):
            self.owners = {data["id"]: Owner(**data) for data in state["owners"]}
        self.next_id = max(state.get("next_id", 1001), self.next_id)
        self.version += 1
