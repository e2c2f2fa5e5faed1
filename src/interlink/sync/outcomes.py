"""What became of each record a reconcile looked at, in the words ops use: created, linked, updated,
unchanged, skipped, needs review, waiting, failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from interlink.sync.plan import Plan, Side


@dataclass(frozen=True)
class RecordOutcome:
    """What became of one record: ``created``, ``linked`` (matched an existing twin), ``updated``, ``unchanged``,
    ``skipped`` (by rule, or no match key), ``needs_review``, ``waiting`` (for its company) or ``failed``."""

    system: Side
    object_type: str
    record_id: str
    outcome: str
    reason: str | None
    retryable: bool = True


def categorise(item_plan: Plan | None, failures: Sequence[str], warnings: Sequence[str]) -> tuple[str, str | None]:
    if item_plan is None:
        return "unchanged", None
    reasons = [entry.reason for entry in item_plan.ledger if entry.reason]
    reason = "; ".join([*failures, *warnings, *reasons][:3]) or None
    if failures:
        return "failed", reason
    actions = {entry.action for entry in item_plan.ledger}
    for action, outcome in (
        ("created", "created"),
        ("linked_by_match", "linked"),
        ("waiting", "waiting"),
        ("needs_review", "needs_review"),
        ("skipped_by_rule", "skipped"),
        ("skipped", "skipped"),
        ("updated", "updated"),
        ("conflict_resolved", "updated"),
        ("link_closed", "needs_review"),
        ("deleted", "updated"),
    ):
        if action in actions:
            return ("needs_review" if warnings else outcome), reason
    return ("needs_review" if warnings else "unchanged"), reason
