"""HubSpot merges: the merged-away ids' links are re-pointed to the record the merge made."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from interlink.sync import ledger
from interlink.sync.links import LinkRepo
from interlink.sync.plan import LedgerDraft
from interlink.sync.touches import Merge


def apply_merges(session: Session, workspace_id: uuid.UUID, merges: Sequence[Merge]) -> None:
    """Re-point the links of merged-away HubSpot ids to the new id. If two different Accelo records were
    linked, the primary's link survives and the other Accelo record is flagged as a duplicate, never
    merged automatically."""
    repository = LinkRepo(session, workspace_id)
    for merge in merges:
        old_ids = [merge.primary_id, *merge.merged_ids] if merge.primary_id else list(merge.merged_ids)
        linked = repository.open_by_hubspot(merge.object_type, [i for i in old_ids if i and i != merge.new_id])
        existing = repository.open_by_hubspot(merge.object_type, [merge.new_id]).get(merge.new_id)
        ordered = sorted(linked.values(), key=lambda link: 0 if link.hubspot_id == merge.primary_id else 1)
        survivor = existing
        for link in ordered:
            if survivor is None:
                survivor = link
                old = link.hubspot_id
                link.hubspot_id = merge.new_id
                session.flush()
                ledger.record(
                    session,
                    workspace_id,
                    [
                        LedgerDraft(
                            "relinked",
                            reason=f"HubSpot merged {old} into {merge.new_id}; link re-pointed",
                            details={"merged_ids": list(merge.merged_ids), "new_id": merge.new_id},
                        )
                    ],
                    object_type=merge.object_type,
                    link_id=link.id,
                    hubspot_id=merge.new_id,
                    accelo_id=link.accelo_id,
                    event_ids=[merge.event_id],
                )
                continue
            reason = (
                f"HubSpot merged {link.hubspot_id} into {merge.new_id}, which is linked to Accelo "
                f"{survivor.accelo_id}; Accelo {link.accelo_id} is now a likely duplicate (not merged in Accelo)"
            )
            link.state, link.flagged, link.state_reason = "closed", True, reason
            session.flush()
            ledger.record(
                session,
                workspace_id,
                [LedgerDraft("needs_review", reason=reason, details={"duplicate": True})],
                object_type=merge.object_type,
                link_id=link.id,
                hubspot_id=link.hubspot_id,
                accelo_id=link.accelo_id,
                event_ids=[merge.event_id],
            )
