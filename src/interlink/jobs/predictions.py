"""A dry run's predictions, made as the real run will make its decisions.

A dry run asks the engine for plans and writes nothing, so the engine sees the world as it is before the run.
The real run changes that world as it goes: a company it creates is there, linked, when its contacts come up;
a record it links is taken when a second record with the same key looks for a twin. A dry run that ignored
this would predict those contacts as waiting for their company and that second record as linked, and the real
run would then do something else.

So a dry run remembers what it predicted, in the job's index (``planned`` rows: source record -> its twin, a
placeholder when the twin would be created, and the placeholder's match keys), and for every unlinked record
whose decision depends on an earlier prediction (a candidate the run would have linked already, a company
the run would have synced) decides again with the same pure ``reconcile``, given what the real run will see.

A record the real run links to an existing twin then gets its first reconcile through the new link (the job's
follow-up). ``after_match`` predicts it with the same ``reconcile``, on the link as the real run makes it (no
snapshot yet) and the twin as it is now.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from interlink.db import Database
from interlink.jobs.index import IndexMatcher, key_rows, keys_of, planned_digest
from interlink.jobs.repository import PLANNED, MatchIndex
from interlink.sync.links import LinkRepo
from interlink.sync.matching import KeyKind
from interlink.sync.outcomes import RecordOutcome, categorise
from interlink.sync.plan import GONE, AcceloRecord, Candidate, HubSpotRecord, LinkState, Side, SyncConfig, _Gone
from interlink.sync.reconcile import Trigger, reconcile

PLACEHOLDER = "planned:"
UNLINKED_OUTCOMES = {"created", "linked", "needs_review", "waiting"}

Row = tuple[str, str, str, str | None]


def placeholder_for(source_id: str) -> str:
    """The id a dry run gives the twin it predicts would be created for ``source_id``."""
    return PLACEHOLDER + source_id


@dataclass
class Predicted:
    outcomes: list[RecordOutcome]
    rows: list[Row] = field(default_factory=list)  # to remember, with the batch's bookkeeping
    corrected: int = 0
    twins: dict[str, str] = field(default_factory=dict)  # source id -> the existing twin it would be linked to


def predict(
    db: Database,
    *,
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    config: SyncConfig,
    source: Side,
    records: Sequence[HubSpotRecord | AcceloRecord],
    outcomes: Sequence[RecordOutcome],
    matcher: IndexMatcher,
    companies: Mapping[str, str | None],
    now: datetime,
) -> Predicted:
    """Correct a dry-run batch's outcomes for what this run predicted before, and say what to remember."""
    object_type = config.object_type
    target: Side = "accelo" if source == "hubspot" else "hubspot"
    by_id = {record.id: record for record in records}
    unlinked = [o for o in outcomes if o.outcome in UNLINKED_OUTCOMES and o.record_id in by_id]
    found = {o.record_id: matcher.candidates(by_id[o.record_id]) for o in unlinked}
    candidate_ids = {record_id for hit in found.values() if hit for record_id in hit[1]}
    waiting_companies = {
        o.record_id: companies.get(o.record_id)
        for o in unlinked
        if o.outcome == "waiting" and object_type == "contact" and source == "hubspot"
    }
    with db.transaction() as session:
        links = LinkRepo(session, workspace_id)
        opened = links.open_by_hubspot if source == "hubspot" else links.open_by_accelo
        paired = {
            record_id
            for record_id, link in opened(object_type, [o.record_id for o in unlinked]).items()
            if link.hubspot_id and link.accelo_id
        }
        taken_by_link = links.open_by_accelo if target == "accelo" else links.open_by_hubspot
        real_owner = {
            record_id: (link.hubspot_id if source == "hubspot" else link.accelo_id) or ""
            for record_id, link in taken_by_link(object_type, candidate_ids).items()
        }
        planned_owner = MatchIndex(session, job_id, object_type).planned_owners(candidate_ids)
        company_digests = {planned_digest(c): c for c in waiting_companies.values() if c}
        planned_companies = MatchIndex(session, job_id, "company").planned_twins(company_digests)
    company_twins = {company_digests[digest]: twin for digest, twin in planned_companies.items()}

    result = Predicted(outcomes=list(outcomes))
    position = {o.record_id: index for index, o in enumerate(outcomes)}
    for outcome in unlinked:
        if outcome.record_id in paired:  # reconciled through its link, as in the real run
            continue
        record = by_id[outcome.record_id]
        hit = found[outcome.record_id]
        kind, ids = hit if hit else ("email", [])
        matched_by = cast(KeyKind, kind)
        seen = [Candidate(i, matched_by, real_owner.get(i)) for i in ids]
        truth = [Candidate(i, matched_by, real_owner.get(i) or planned_owner.get(i)) for i in ids]
        company = waiting_companies.get(outcome.record_id)
        twin = company_twins.get(company) if company else None
        final = outcome
        if truth != seen or twin is not None:
            final = _decide_again(config, source, record, truth, twin, company, now)
            result.outcomes[position[outcome.record_id]] = final
            result.corrected += 1
        result.rows += _remember(final, record, object_type, truth)
        if final.outcome == "linked":
            free = [candidate.id for candidate in truth if candidate.linked_to is None]
            if len(free) == 1:
                result.twins[record.id] = free[0]
    return result


def _decide_again(
    config: SyncConfig,
    source: Side,
    record: HubSpotRecord | AcceloRecord,
    candidates: list[Candidate],
    company_twin: str | None,
    company: str | None,
    now: datetime,
) -> RecordOutcome:
    if isinstance(record, HubSpotRecord) and company is not None:
        record = HubSpotRecord(record.id, record.properties, record.updated_at, company, record.merged_ids)
    hubspot = record if isinstance(record, HubSpotRecord) else None
    accelo = record if isinstance(record, AcceloRecord) else None
    plan = reconcile(
        config, None, hubspot, accelo, Trigger(origin=source, now=now), candidates=candidates, company_twin=company_twin
    )
    outcome, reason = categorise(plan, [], [])
    return RecordOutcome(source, config.object_type, record.id, outcome, reason)


def _remember(
    outcome: RecordOutcome, record: HubSpotRecord | AcceloRecord, object_type: str, candidates: list[Candidate]
) -> list[Row]:
    """What the real run will have done by the time later records come up: a created twin (a placeholder,
    findable by the record's keys), or the existing twin this record takes."""
    if outcome.outcome == "created":
        twin = placeholder_for(record.id)
        return [
            *key_rows(keys_of(object_type, record), twin, record.id),
            (PLANNED, planned_digest(record.id), twin, record.id),
        ]
    if outcome.outcome == "linked":
        free = [candidate.id for candidate in candidates if candidate.linked_to is None]
        if len(free) == 1:
            return [(PLANNED, planned_digest(record.id), free[0], record.id)]
    return []


def after_match(
    config: SyncConfig,
    source: Side,
    pairs: Sequence[tuple[HubSpotRecord | AcceloRecord, str, HubSpotRecord | AcceloRecord | _Gone]],
    now: datetime,
) -> list[RecordOutcome]:
    """The first reconcile of each ``(source record, its twin's id, the twin as read now)`` the run links, as
    the job's follow-up will make it: through a fresh link with no snapshot, where the side the job reads from
    wins."""
    outcomes = []
    for record, twin_id, twin in pairs:
        if isinstance(record, HubSpotRecord):
            hubspot: HubSpotRecord | _Gone = record
            accelo: AcceloRecord | _Gone = twin if isinstance(twin, AcceloRecord) else GONE
            ids = (record.id, twin_id)
        else:
            hubspot, accelo = (twin if isinstance(twin, HubSpotRecord) else GONE), record
            ids = (twin_id, record.id)
        link = LinkState(id=None, hubspot_id=ids[0], accelo_id=ids[1], state="in_sync", snapshot={}, field_states={})
        plan = reconcile(config, link, hubspot, accelo, Trigger(origin=source, now=now))
        outcome, reason = categorise(plan, [], [])
        outcomes.append(RecordOutcome(source, config.object_type, record.id, outcome, reason))
    return outcomes
