"""Building reconcile's inputs in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from interlink.mappings.canonical import FieldType
from interlink.mappings.codec import codec_for
from interlink.mappings.fields import FieldSpec
from interlink.mappings.rules import Condition, Leaf
from interlink.mappings.status import StatusMaps
from interlink.sync.plan import AcceloRecord, FieldRule, HubSpotRecord, LinkState, SyncConfig
from interlink.sync.reconcile import Trigger

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
EARLIER = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)

CONTACT_STATUS = StatusMaps(
    h2a={"lead": "Prospect", "customer": "Active", "evangelist": "Active", "other": "Inactive"},
    a2h={"Prospect": "lead", "Active": "customer", "Inactive": "other"},
)


def rule(
    hubspot: str,
    accelo: str,
    *,
    direction: str = "both",
    policy: str = "latest",
    hubspot_type: FieldType = FieldType.string,
    accelo_type: FieldType = FieldType.string,
) -> FieldRule:
    return FieldRule(
        key=f"{hubspot}|{accelo}",
        hubspot_property=hubspot,
        accelo_field=accelo,
        direction=direction,  # type: ignore[arg-type]
        conflict_policy=policy,  # type: ignore[arg-type]
        codec=codec_for(hubspot_type, accelo_type, direction),
    )


CONTACT_FIELDS = (
    rule("firstname", "firstname"),
    rule("lastname", "surname"),
    rule("email", "affiliation.email"),
    rule("phone", "affiliation.phone"),
    rule("jobtitle", "affiliation.position"),
)

EVERYONE: Condition = Leaf(field="email", op="is_set")


def schema(**types: FieldType) -> dict[str, FieldSpec]:
    return {name: FieldSpec(name=name, label=name, type=field_type) for name, field_type in types.items()}


def config(**overrides: Any) -> SyncConfig:
    values: dict[str, Any] = {
        "object_type": "contact",
        "fields": CONTACT_FIELDS,
        "status_property": "lifecyclestage",
        "status_maps": CONTACT_STATUS,
        "pull_rule": EVERYONE,
        "push_rule": Leaf(field="affiliation.email", op="is_set"),
        "hubspot_schema": schema(
            email=FieldType.string, lifecyclestage=FieldType.enumeration, firstname=FieldType.string
        ),
        "accelo_schema": schema(**{"affiliation.email": FieldType.string, "status": FieldType.enumeration}),
        **overrides,
    }
    return SyncConfig(**values)


def hubspot(
    record_id: str = "101", at: datetime = EARLIER, company_id: str | None = "9001", **props: str | None
) -> HubSpotRecord:
    base = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "email": "ada@example.com",
        "phone": "+44 1",
        "jobtitle": "Analyst",
        "lifecyclestage": "customer",
    }
    return HubSpotRecord(id=record_id, properties={**base, **props}, updated_at=at, company_id=company_id)


def accelo(record_id: str = "55", at: datetime = EARLIER, status: str | None = "Active", **fields: Any) -> AcceloRecord:
    base = {
        "firstname": "Ada",
        "surname": "Lovelace",
        "affiliation.email": "ada@example.com",
        "affiliation.phone": "+44 1",
        "affiliation.position": "Analyst",
    }
    return AcceloRecord(id=record_id, fields={**base, **fields}, status=status, updated_at=at, company_id="77")


def agreed_snapshot(cfg: SyncConfig | None = None, **overrides: Any) -> dict[str, Any]:
    """The snapshot of a pair that agrees on everything above."""
    cfg = cfg or config()
    h = hubspot()
    snapshot: dict[str, Any] = {f.key: f.codec.from_hubspot(h.properties.get(f.hubspot_property)) for f in cfg.fields}
    snapshot["status"] = {"hubspot": "customer", "accelo": "Active"}
    snapshot.update(overrides)
    return snapshot


def link(
    snapshot: dict[str, Any] | None = None,
    *,
    field_states: dict[str, Any] | None = None,
    last_written_side: str | None = None,
) -> LinkState:
    return LinkState(
        id="link-1",
        hubspot_id="101",
        accelo_id="55",
        state="in_sync",
        snapshot=agreed_snapshot() if snapshot is None else snapshot,
        field_states=field_states or {},
        last_written_side=last_written_side,  # type: ignore[arg-type]
    )


def from_hubspot(now: datetime = NOW) -> Trigger:
    return Trigger(origin="hubspot", now=now)


def from_accelo(now: datetime = NOW) -> Trigger:
    return Trigger(origin="accelo", now=now)
