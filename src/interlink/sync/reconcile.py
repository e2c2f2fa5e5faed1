"""``reconcile``: one record's sync decision, as a pure function.

For a linked pair, every mapped field goes through the three-way merge on the link's snapshot (the base both
sides last agreed on): equal -> nothing; only one side moved -> carry it across if the mapping's direction
allows; both moved differently -> the mapping's conflict policy decides, and the losing value goes on the
ledger (``review`` holds the field for a person). Statuses go through the status decision. An unlinked record
is created on the other side only if the sync rule for that direction lets it, and only after matching found
no twin. Our own write coming back as an event re-reads equal to the snapshot, so it causes no write: echo
suppression needs no time windows and no "currently syncing" flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from interlink.mappings.canonical import Canonical, InvalidValue, decode_accelo, decode_hubspot
from interlink.mappings.rules import RuleResult, evaluate, fields_of
from interlink.mappings.status import LIFECYCLE_ORDER, StatusOptions, StatusState, decide_status
from interlink.sync.matching import accelo_keys, hubspot_keys
from interlink.sync.plan import (
    GONE,
    AcceloRecord,
    AcceloWrite,
    Candidate,
    FieldRule,
    HubSpotRecord,
    HubSpotWrite,
    LedgerDraft,
    LinkChange,
    LinkState,
    Plan,
    Side,
    SyncConfig,
    _Gone,
)

STATUS_KEY = "status"
_MISSING = object()


@dataclass(frozen=True)
class Trigger:
    origin: Side  # which system's change (event, poll, job) this reconcile answers
    now: datetime


def reconcile(
    config: SyncConfig,
    link: LinkState | None,
    hubspot: HubSpotRecord | _Gone | None,
    accelo: AcceloRecord | _Gone | None,
    trigger: Trigger,
    *,
    candidates: Sequence[Candidate] = (),
    company_twin: str | None = None,
) -> Plan:
    """Decide what to do for one record.

    ``hubspot``/``accelo``: the current record, ``GONE`` if its id no longer resolves, None if that side has
    no record yet. ``candidates``: for an unlinked record, twins found by its match key on the other side.
    ``company_twin``: for a contact about to be created, the other system's id of its company (None if its
    company is not linked yet).
    """
    if hubspot is GONE or accelo is GONE:
        return _deleted(config, link, hubspot, accelo)
    if isinstance(hubspot, HubSpotRecord) and isinstance(accelo, AcceloRecord):
        assert link is not None, "two records are reconciled only through their link"
        return _linked(config, link, hubspot, accelo, trigger)
    if trigger.origin == "hubspot" and isinstance(hubspot, HubSpotRecord):
        return _unlinked(config, link, hubspot, trigger, candidates, company_twin)
    if trigger.origin == "accelo" and isinstance(accelo, AcceloRecord):
        return _unlinked(config, link, accelo, trigger, candidates, company_twin)
    return Plan(link=None)  # nothing to look at (the triggering record is missing on its own side)


# -- a linked pair -----------------------------------------------------------------------------------------


@dataclass
class _Merge:
    config: SyncConfig
    link: LinkState
    hubspot: HubSpotRecord
    accelo: AcceloRecord
    trigger: Trigger

    def __post_init__(self) -> None:
        self.change = LinkChange(state="in_sync", hubspot_id=self.hubspot.id, accelo_id=self.accelo.id)
        self.change.field_states = {k: v for k, v in self.link.field_states.items()}
        self.hubspot_write = HubSpotWrite(record_id=self.hubspot.id)
        self.accelo_write = AcceloWrite(record_id=self.accelo.id)
        self.ledger: list[LedgerDraft] = []
        self.attention: list[str] = []  # why the link needs a person

    def field(self, rule: FieldRule) -> None:
        state = self.change.field_states.get(rule.key) or {}
        try:
            h = rule.codec.from_hubspot(self.hubspot.properties.get(rule.hubspot_property))
            a = rule.codec.from_accelo(self.accelo.fields.get(rule.accelo_field))
        except InvalidValue as exc:
            self._attention(rule, f"cannot read {rule.hubspot_property} <-> {rule.accelo_field}: {exc}")
            return
        held = state.get("state")
        if h == a:
            self.change.snapshot[rule.key] = h
            if held == "review":  # a person made both sides agree: the hold is over
                self.change.field_states.pop(rule.key, None)
            return
        if held == "review":
            self.attention.append(f"{rule.hubspot_property}: {state.get('reason', held)}")
            return
        if held == "paused":  # the link shows as paused (see plan) until a person resumes the field
            return
        base = self.link.snapshot.get(rule.key, _MISSING)
        if base is _MISSING:
            winner = self._first_sync_winner(rule, h, a)
        elif a == base:
            winner = "hubspot" if rule.to_accelo else None
        elif h == base:
            winner = "accelo" if rule.to_hubspot else None
        else:
            winner = self._conflict(rule, h, a, base)
        if winner == "hubspot":
            self._write(rule, "accelo", h, old=a)
        elif winner == "accelo":
            self._write(rule, "hubspot", a, old=h)

    def _first_sync_winner(self, rule: FieldRule, h: Canonical, a: Canonical) -> Side | None:
        """No base yet: the side the record came from wins, unless the mapping says otherwise, and a blank
        never wipes out a value (the blank side is filled in instead)."""
        if rule.direction == "to_accelo":
            return "hubspot" if h is not None else None
        if rule.direction == "to_hubspot":
            return "accelo" if a is not None else None
        winner: Side = self.trigger.origin
        if (winner == "hubspot" and h is None) or (winner == "accelo" and a is None):
            winner = "accelo" if winner == "hubspot" else "hubspot"
        return winner

    def _conflict(self, rule: FieldRule, h: Canonical, a: Canonical, base: Any) -> Side | None:
        policy = rule.conflict_policy
        if policy == "review":
            reason = f"both sides changed {rule.hubspot_property} <-> {rule.accelo_field} since the last sync"
            self.change.field_states[rule.key] = {
                "state": "review",
                "reason": reason,
                "hubspot": h,
                "accelo": a,
                "base": base,
                "since": self.trigger.now.isoformat(),
            }
            self.attention.append(reason)
            self.ledger.append(
                LedgerDraft(
                    "needs_review",
                    reason=reason + "; held for a person to pick the value",
                    field=rule.key,
                    details={"hubspot": h, "accelo": a, "base": base},
                )
            )
            return None
        if policy == "hubspot_wins":
            preferred: Side = "hubspot"
        elif policy == "accelo_wins":
            preferred = "accelo"
        else:
            h_at, a_at = self.hubspot.updated_at, self.accelo.updated_at
            preferred = "accelo" if (h_at is not None and a_at is not None and a_at > h_at) else "hubspot"
        # The direction has the last word: a one-way mapping's source always wins.
        winner: Side = preferred
        if winner == "hubspot" and not rule.to_accelo:
            winner = "accelo"
        elif winner == "accelo" and not rule.to_hubspot:
            winner = "hubspot"
        winning, losing = (h, a) if winner == "hubspot" else (a, h)
        self.ledger.append(
            LedgerDraft(
                "conflict_resolved",
                reason=f"both sides changed; {winner} wins ({policy})",
                field=rule.key,
                direction=f"to_{'accelo' if winner == 'hubspot' else 'hubspot'}",
                old_value=losing,
                new_value=winning,
                details={"winner": winner, "losing_value": losing, "base": base, "policy": policy},
            )
        )
        return winner

    def _write(self, rule: FieldRule, target: Side, value: Canonical, *, old: Canonical) -> None:
        if not self._may_write(rule.key, target):
            return
        if target == "accelo":
            self.accelo_write.fields[rule.accelo_field] = rule.codec.to_accelo(value)
            self.change.snapshot_after_accelo[rule.key] = value
        else:
            self.hubspot_write.properties[rule.hubspot_property] = rule.codec.to_hubspot(value)
            self.change.snapshot_after_hubspot[rule.key] = value
        self.ledger.append(
            LedgerDraft(
                "updated",
                field=rule.key,
                direction=f"to_{target}",
                old_value=old,
                new_value=value,
                reason=(
                    f"HubSpot changed {rule.hubspot_property}"
                    if target == "accelo"
                    else f"Accelo changed {rule.accelo_field}"
                ),
            )
        )

    def _may_write(self, key: str, target: Side) -> bool:
        """The oscillation breaker: a field written too often in a window is paused and flagged instead."""
        limit = self.config.oscillation
        state = dict(self.change.field_states.get(key) or {})
        window_start = self.trigger.now - timedelta(seconds=limit.window_seconds)
        flips = [at for at in state.get("flips", []) if datetime.fromisoformat(at) >= window_start]
        flips.append(self.trigger.now.isoformat())
        if len(flips) > limit.max_flips:
            reason = (
                f"{key} flipped {len(flips)} times in {limit.window_seconds:.0f}s; paused so the two systems stop "
                "overwriting each other (another integration or automation may be changing it)"
            )
            self.change.field_states[key] = {"state": "paused", "reason": reason, "flips": flips}
            self.ledger.append(LedgerDraft("needs_review", reason=reason, field=key, details={"paused": True}))
            return False
        after = self.change.field_states_after_hubspot if target == "hubspot" else self.change.field_states_after_accelo
        after[key] = {**state, "flips": flips}
        return True

    def _attention(self, rule: FieldRule, reason: str) -> None:
        self.attention.append(reason)
        self.ledger.append(LedgerDraft("needs_review", reason=reason, field=rule.key))

    def status(self) -> None:
        config = self.config
        h = self.hubspot.properties.get(config.status_property) or None
        a = self.accelo.status or None
        base = self.link.snapshot.get(STATUS_KEY)
        decision = decide_status(
            config.status_maps,
            StatusState(
                hubspot=h,
                accelo=a,
                base_hubspot=base.get("hubspot") if base else None,
                base_accelo=base.get("accelo") if base else None,
                hubspot_changed_at=self.hubspot.updated_at,
                accelo_changed_at=self.accelo.updated_at,
            ),
            StatusOptions(
                hubspot_order=LIFECYCLE_ORDER if config.status_ordered else None,
                allow_backward=config.allow_backward,
                conflict_policy=config.status_policy,
                origin=self.trigger.origin,
            ),
        )
        if decision.outcome == "write_accelo" and self._may_write(STATUS_KEY, "accelo"):
            self.accelo_write.status = decision.value
            self.change.snapshot_after_accelo[STATUS_KEY] = {"hubspot": h, "accelo": decision.value}
            self.ledger.append(
                LedgerDraft(
                    "updated",
                    reason=decision.reason,
                    field=STATUS_KEY,
                    direction="to_accelo",
                    old_value=a,
                    new_value=decision.value,
                    details=_losing(decision.losing_value),
                )
            )
        elif decision.outcome == "write_hubspot" and self._may_write(STATUS_KEY, "hubspot"):
            assert decision.value is not None
            self.hubspot_write.properties[config.status_property] = decision.value
            if decision.clear_first:
                self.hubspot_write.clear_first.append(config.status_property)
            self.change.snapshot_after_hubspot[STATUS_KEY] = {"hubspot": decision.value, "accelo": a}
            self.ledger.append(
                LedgerDraft(
                    "updated",
                    reason=decision.reason,
                    field=STATUS_KEY,
                    direction="to_hubspot",
                    old_value=h,
                    new_value=decision.value,
                    details=_losing(decision.losing_value),
                )
            )
        elif decision.outcome in {"blocked", "review"}:
            self.change.snapshot[STATUS_KEY] = {"hubspot": h, "accelo": a}
            self.attention.append(decision.reason)
            self.ledger.append(LedgerDraft("needs_review", reason=decision.reason, field=STATUS_KEY))
        elif not decision.writes:
            self.change.snapshot[STATUS_KEY] = {"hubspot": h, "accelo": a}

    def plan(self) -> Plan:
        for rule in self.config.fields:
            self.field(rule)
        self.status()
        # A field the oscillation breaker paused makes the link "paused" (and flagged: a person resumes it),
        # unless something else waits for a person's decision, which "needs review" says first.
        paused = [
            str(state.get("reason") or f"{key} is paused")
            for key, state in self.change.field_states.items()
            if state.get("state") == "paused"
        ]
        if self.attention or paused:
            self.change.state = "needs_review" if self.attention else "paused"
            self.change.flagged = True
            self.change.reason = "; ".join(self.attention + paused)
        plan = Plan(
            link=self.change,
            hubspot=self.hubspot_write if self.hubspot_write.properties else None,
            accelo=self.accelo_write if (self.accelo_write.fields or self.accelo_write.status) else None,
            ledger=self.ledger,
        )
        if not plan.writes and not self.ledger:
            plan.ledger.append(self._nothing_to_write())
        return plan

    def _nothing_to_write(self) -> LedgerDraft:
        origin = self.trigger.origin
        if self.link.last_written_side == origin:
            return LedgerDraft(
                "echo_ignored",
                reason=f"{origin}'s values are the ones we last wrote there; nothing to send back",
            )
        return LedgerDraft("unchanged", reason="no mapped field or status changed")


def _losing(value: str | None) -> dict[str, Any]:
    return {"losing_value": value} if value is not None else {}


def _linked(
    config: SyncConfig, link: LinkState, hubspot: HubSpotRecord, accelo: AcceloRecord, trigger: Trigger
) -> Plan:
    return _Merge(config, link, hubspot, accelo, trigger).plan()


# -- deletions ---------------------------------------------------------------------------------------------


def _deleted(
    config: SyncConfig,
    link: LinkState | None,
    hubspot: HubSpotRecord | _Gone | None,
    accelo: AcceloRecord | _Gone | None,
) -> Plan:
    if link is None:
        return Plan(link=None)
    gone: list[str] = []
    if hubspot is GONE:
        gone.append(f"HubSpot {config.object_type} {link.hubspot_id}")
    if accelo is GONE:
        gone.append(f"Accelo {config.object_type} {link.accelo_id}")
    survivor_hubspot = hubspot.id if isinstance(hubspot, HubSpotRecord) else None
    survivor_accelo = accelo.id if isinstance(accelo, AcceloRecord) else None
    change = LinkChange(state="closed", hubspot_id=link.hubspot_id, accelo_id=link.accelo_id, flagged=True)
    plan = Plan(link=change)
    if config.delete_twin_on_delete and (survivor_hubspot or survivor_accelo):
        plan.delete_hubspot, plan.delete_accelo = survivor_hubspot, survivor_accelo
        survivor = f"HubSpot {survivor_hubspot}" if survivor_hubspot else f"Accelo {survivor_accelo}"
        twin = f"its twin was deleted too ({survivor})"
        plan.ledger.append(LedgerDraft("deleted", reason=f"{' and '.join(gone)} was deleted; {twin}"))
        change.flagged = False
    else:
        kept = (
            f"; HubSpot {survivor_hubspot} was left as it is"
            if survivor_hubspot
            else f"; Accelo {survivor_accelo} was left as it is"
            if survivor_accelo
            else ""
        )
        plan.ledger.append(LedgerDraft("link_closed", reason=f"{' and '.join(gone)} was deleted{kept}"))
    change.reason = plan.ledger[-1].reason
    return plan


# -- an unlinked record ------------------------------------------------------------------------------------


def rule_decision(config: SyncConfig, record: HubSpotRecord | AcceloRecord) -> RuleResult:
    """Does this unlinked record pass the sync rule for its direction? (The engine asks before looking for
    twins, so records the rules reject cost no lookups.)"""
    if isinstance(record, HubSpotRecord):
        rule, schema, raw, direction = config.pull_rule, config.hubspot_schema, record.properties, "pull"
        decode = decode_hubspot
    else:
        rule, schema, direction = config.push_rule, config.accelo_schema, "push"
        raw = {**record.fields, "status": record.status}
        decode = decode_accelo
    values: dict[str, Canonical] = {}
    for name in fields_of(rule):
        spec = schema.get(name)
        if spec is None:
            continue
        try:
            values[name] = decode(spec.type, raw.get(name))
        except InvalidValue:
            # Kept as the record holds it: its leaf then fails with "cannot compare" and the value, rather
            # than reading as "not set" (which a negative leaf such as ``ne`` would let through).
            values[name] = str(raw.get(name))
    return evaluate(rule, values, schema, object_type=config.object_type, direction=direction)


def _unlinked(
    config: SyncConfig,
    link: LinkState | None,
    record: HubSpotRecord | AcceloRecord,
    trigger: Trigger,
    candidates: Sequence[Candidate],
    company_twin: str | None,
) -> Plan:
    from_hubspot = isinstance(record, HubSpotRecord)
    source, target = ("HubSpot", "Accelo") if from_hubspot else ("Accelo", "HubSpot")
    hubspot_id, accelo_id = (record.id, None) if from_hubspot else (None, record.id)
    what = f"{source} {config.object_type} {record.id}"

    decision = rule_decision(config, record)
    if not decision.matched:
        details: dict[str, Any] = {"rule_path": decision.path}
        if decision.failing_leaf is not None:
            details["failing_leaf"] = decision.failing_leaf.model_dump()
        # A record waiting in review or for its company that no longer qualifies simply stops waiting.
        closing = LinkChange(
            state="closed",
            reason=f"no longer matches the sync rule: {decision.reason}",
            hubspot_id=hubspot_id,
            accelo_id=accelo_id,
        )
        return Plan(
            link=closing if link is not None else None,
            ledger=[
                LedgerDraft(
                    "skipped_by_rule", reason=f"{what} not created in {target}: {decision.reason}", details=details
                )
            ],
        )

    keys = (
        hubspot_keys(config.object_type, record)
        if isinstance(record, HubSpotRecord)
        else accelo_keys(config.object_type, record)
    )
    if not keys and not config.allow_blank_match_key:
        reason = f"{what} has no {'email' if config.object_type == 'contact' else 'website or name'} to match on"
        return Plan(
            link=None,
            ledger=[LedgerDraft("skipped", reason=reason + "; not created (allow_blank_match_key creates it anyway)")],
        )

    free = [candidate for candidate in candidates if candidate.linked_to is None]
    taken = [candidate for candidate in candidates if candidate.linked_to is not None]
    if len(free) == 1:
        twin = free[0]
        reason = f"linked to {target} {config.object_type} {twin.id} with the same {twin.matched_by}"
        return Plan(
            link=LinkChange(
                state="in_sync",
                matched_by=twin.matched_by,
                reason=reason,
                hubspot_id=hubspot_id or twin.id,
                accelo_id=accelo_id or twin.id,
            ),
            ledger=[LedgerDraft("linked_by_match", reason=reason, details={"matched_by": twin.matched_by})],
        )
    if free or taken:
        found = free or taken
        listing = ", ".join(f"{c.id}" + (f" (linked to {c.linked_to})" if c.linked_to else "") for c in found)
        reason = (
            f"{len(found)} {target} {config.object_type}s match {what} by {found[0].matched_by}: {listing}; "
            "link one by hand"
            if len(found) > 1
            else f"{target} {config.object_type} {found[0].id} matches {what} by {found[0].matched_by} but is already "
            f"linked to {found[0].linked_to}; check for a duplicate"
        )
        return Plan(
            link=LinkChange(
                state="needs_review", reason=reason, flagged=True, hubspot_id=hubspot_id, accelo_id=accelo_id
            ),
            ledger=[LedgerDraft("needs_review", reason=reason, details={"candidates": [c.id for c in found]})],
        )

    if config.object_type == "contact" and from_hubspot and company_twin is None:
        company = record.company_id if isinstance(record, HubSpotRecord) else None
        reason = (
            f"waiting for its company (HubSpot {company}) to be synced to Accelo"
            if company
            else "has no company in HubSpot, and every Accelo contact belongs to a company"
        )
        plan = Plan(
            link=LinkChange(state="waiting", reason=reason, hubspot_id=hubspot_id, accelo_id=accelo_id),
            ledger=[LedgerDraft("waiting", reason=f"{what} not created yet: {reason}")],
        )
        plan.waiting_for_company = company
        return plan
    return _create(config, record, trigger, company_twin, decision)


def _create(
    config: SyncConfig,
    record: HubSpotRecord | AcceloRecord,
    trigger: Trigger,
    company_twin: str | None,
    decision: RuleResult,
) -> Plan:
    change = LinkChange(state="in_sync", matched_by="created")
    written = 0
    if isinstance(record, HubSpotRecord):
        change.hubspot_id = record.id
        write = AcceloWrite(record_id=None, company_id=company_twin)
        for rule in config.fields:
            if not rule.to_accelo:
                continue
            value = rule.codec.from_hubspot(record.properties.get(rule.hubspot_property))
            change.snapshot_after_accelo[rule.key] = value
            if value is not None:
                write.fields[rule.accelo_field] = rule.codec.to_accelo(value)
                written += 1
        status = record.properties.get(config.status_property) or None
        if status and status in config.status_maps.h2a:
            write.status = config.status_maps.h2a[status]
            change.snapshot_after_accelo[STATUS_KEY] = {"hubspot": status, "accelo": write.status}
        plan = Plan(link=change, accelo=write)
        target = "Accelo"
    else:
        change.accelo_id = record.id
        hubspot_write = HubSpotWrite(record_id=None, associate_company=company_twin)
        for rule in config.fields:
            if not rule.to_hubspot:
                continue
            value = rule.codec.from_accelo(record.fields.get(rule.accelo_field))
            change.snapshot_after_hubspot[rule.key] = value
            if value is not None:
                hubspot_write.properties[rule.hubspot_property] = rule.codec.to_hubspot(value)
                written += 1
        if record.status and record.status in config.status_maps.a2h:
            mapped = config.status_maps.a2h[record.status]
            hubspot_write.properties[config.status_property] = mapped
            change.snapshot_after_hubspot[STATUS_KEY] = {"hubspot": mapped, "accelo": record.status}
        plan = Plan(link=change, hubspot=hubspot_write)
        target = "HubSpot"
    plan.ledger.append(
        LedgerDraft(
            "created",
            reason=f"created in {target} with {written} field(s): {decision.reason}",
            details={"rule": decision.reason},
        )
    )
    return plan
