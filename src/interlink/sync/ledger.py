"""The ledger: one append-only row per sync decision, tied to the events or job that caused it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.orm import Session

from interlink.kit.time import utc_now
from interlink.models import LedgerEntry
from interlink.sync.plan import LedgerDraft


def record(
    session: Session,
    workspace_id: uuid.UUID,
    drafts: Sequence[LedgerDraft],
    *,
    object_type: str | None,
    link_id: uuid.UUID | None = None,
    hubspot_id: str | None = None,
    accelo_id: str | None = None,
    event_ids: Sequence[int] = (),
    job_id: uuid.UUID | None = None,
) -> None:
    if not drafts:
        return
    now = utc_now()
    session.execute(
        insert(LedgerEntry),
        [
            {
                "workspace_id": workspace_id,
                "created_at": now,
                "action": draft.action,
                "link_id": link_id,
                "object_type": object_type,
                "hubspot_id": hubspot_id,
                "accelo_id": accelo_id,
                "field": draft.field,
                "direction": draft.direction,
                "old_value": draft.old_value,
                "new_value": draft.new_value,
                "reason": draft.reason,
                "details": draft.details,
                "event_ids": list(event_ids),
                "job_id": job_id,
            }
            for draft in drafts
        ],
    )
