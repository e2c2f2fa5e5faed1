"""What reconcile reads and what it decides, as plain data.

``reconcile`` (``interlink.sync.reconcile``) turns a config, a link and both systems' current records into
a ``Plan``: the writes for each side, the change to the link (state, snapshot, field states) and one ledger
entry per decision. The engine fetches the records before and applies the plan after; reconcile itself does
no I/O, so nearly all sync behaviour is tested on these types alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as default
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from interlink.mappings.codec import MappingCodec
from interlink.mappings.fields import FieldSpec
from interlink.mappings.rules import Condition
from interlink.mappings.status import ConflictPolicy, StatusMaps

Side = Literal["hubspot", "accelo"]
Direction = Literal["both", "to_accelo", "to_hubspot"]


class _Gone(Enum):
    GONE = "gone"


GONE = _Gone.GONE
"""A record whose id no longer resolves (deleted, or archived in HubSpot)."""


# -- inputs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubSpotRecord:
    id: str
    properties: Mapping[str, str | None]
    updated_at: datetime | None = None
    company_id: str | None = None  # a contact's primary company
    merged_ids: tuple[str, ...] = ()  # ids merged into this one (hs_merged_object_ids)


@dataclass(frozen=True)
class AcceloRecord:
    id: str
    # Flat field keys as field mappings name them: built-ins ("firstname", "affiliation.email",
    # "postal_address.city"), "profile:<id>", "segmentation:<id>".
    fields: Mapping[str, Any]
    status: str | None = None
    updated_at: datetime | None = None
    company_id: str | None = None  # a contact's company (its default affiliation's)


@dataclass(frozen=True)
class FieldRule:
    """One enabled field mapping, with the codec its two field types give."""

    key: str  # "hubspot_property|accelo_field": its name in the link snapshot
    hubspot_property: str
    accelo_field: str
    direction: Direction
    conflict_policy: ConflictPolicy
    codec: MappingCodec

    @property
    def to_accelo(self) -> bool:
        return self.direction in {"both", "to_accelo"}

    @property
    def to_hubspot(self) -> bool:
        return self.direction in {"both", "to_hubspot"}


@dataclass(frozen=True)
class OscillationLimit:
    max_flips: int = 4
    window_seconds: float = 600.0


@dataclass(frozen=True)
class SyncConfig:
    """Everything reconcile needs to know about one workspace and object type."""

    object_type: Literal["contact", "company"]
    fields: tuple[FieldRule, ...]
    status_property: str
    status_maps: StatusMaps
    status_policy: ConflictPolicy = "latest"
    status_ordered: bool = True  # lifecyclestage moves forward only
    allow_backward: bool = False
    pull_rule: Condition | None = None  # which HubSpot records may be created in Accelo
    push_rule: Condition | None = None  # which Accelo records may be created in HubSpot
    hubspot_schema: Mapping[str, FieldSpec] = default(default_factory=dict)  # for evaluating pull rules
    accelo_schema: Mapping[str, FieldSpec] = default(default_factory=dict)  # for evaluating push rules
    allow_blank_match_key: bool = False
    delete_twin_on_delete: bool = False
    oscillation: OscillationLimit = OscillationLimit()


@dataclass(frozen=True)
class LinkState:
    id: Any
    hubspot_id: str | None
    accelo_id: str | None
    state: str
    snapshot: Mapping[str, Any]
    field_states: Mapping[str, Any]
    last_written_side: Side | None = None  # which system our last write for this link went to


@dataclass(frozen=True)
class Candidate:
    """A record of the other system that matched an unlinked record's key (email, domain, name)."""

    id: str
    matched_by: Literal["email", "domain", "name"]
    linked_to: str | None = None  # already linked to another record of ours


# -- outputs -----------------------------------------------------------------------------------------------


@dataclass
class HubSpotWrite:
    record_id: str | None  # None: create
    properties: dict[str, str] = default(default_factory=dict)
    clear_first: list[str] = default(default_factory=list)  # set to "" first (lifecyclestage moving back)
    associate_company: str | None = None  # on create: the HubSpot company to associate a contact with


@dataclass
class AcceloWrite:
    record_id: str | None  # None: create
    fields: dict[str, Any] = default(default_factory=dict)  # flat keys, encoded for Accelo
    status: str | None = None  # move to this status (by progression) or create with it
    company_id: str | None = None  # on create: the Accelo company a contact belongs to


@dataclass
class LedgerDraft:
    action: str
    reason: str | None = None
    field: str | None = None
    direction: str | None = None
    old_value: Any = None
    new_value: Any = None
    details: dict[str, Any] = default(default_factory=dict)


LinkStateName = Literal["in_sync", "needs_review", "failed", "paused", "waiting", "closed"]


@dataclass
class LinkChange:
    state: LinkStateName
    reason: str | None = None
    hubspot_id: str | None = None
    accelo_id: str | None = None
    matched_by: str | None = None
    flagged: bool = False
    # snapshot entries that hold as soon as the plan is decided, and those that hold once a side's write
    # succeeds (a failed write must not advance the base, or its change would be lost)
    snapshot: dict[str, Any] = default(default_factory=dict)
    snapshot_after_hubspot: dict[str, Any] = default(default_factory=dict)
    snapshot_after_accelo: dict[str, Any] = default(default_factory=dict)
    field_states: dict[str, Any] = default(default_factory=dict)
    # field states that hold once a side's write succeeds: the oscillation breaker counts writes that happened,
    # so a write that failed (and is retried) is not a flip
    field_states_after_hubspot: dict[str, Any] = default(default_factory=dict)
    field_states_after_accelo: dict[str, Any] = default(default_factory=dict)


@dataclass
class Plan:
    link: LinkChange | None  # None: no link row (a record skipped by the rules, say)
    hubspot: HubSpotWrite | None = None
    accelo: AcceloWrite | None = None
    delete_hubspot: str | None = None  # id to archive (twin deleted, and the workspace deletes twins)
    delete_accelo: str | None = None
    ledger: list[LedgerDraft] = default(default_factory=list)
    waiting_for_company: str | None = None  # a HubSpot or Accelo company id this contact waits for

    @property
    def writes(self) -> bool:
        return bool(
            (self.hubspot and (self.hubspot.properties or self.hubspot.record_id is None))
            or (self.accelo and (self.accelo.fields or self.accelo.status or self.accelo.record_id is None))
            or self.delete_hubspot
            or self.delete_accelo
        )
