"""Accord's rows on the audit ledger (``sync_ledger``): every push, every skipped no-op, every link change.

Rows carry ``object_type="deal"`` and the deal in ``hubspot_id``; the Accord is in ``details.accord_id``
(``link_id`` refers to the HubSpot/Accelo links table, so it stays empty here). Actions:

- ``accord_pushed``: one row per property written (``field``, ``old_value``, ``new_value``);
- ``accord_unchanged``: the events' data equals what the deal already has from us, so nothing was written;
- ``accord_stale``: the events are older than data already applied;
- ``accord_held``: the link is flagged, so the data is kept for later and not pushed;
- ``accord_linked`` / ``accord_relinked`` / ``accord_unlinked`` / ``accord_flagged`` / ``accord_unflagged``;
- ``accord_failed``: HubSpot refused the write (the events are retried with the reason);
- ``accord_provisioned``: the property group and properties were checked or created.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from interlink.kit.time import utc_now
from interlink.models import LedgerEntry

OBJECT_TYPE = "deal"


@dataclass
class Entry:
    action: str
    accord_id: str | None
    deal_id: str | None
    event_ids: Sequence[int] = ()
    field: str | None = None
    old_value: Any = None
    new_value: Any = None
    reason: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


def record(session: Session, workspace_id: uuid.UUID, entries: Sequence[Entry]) -> None:
    if not entries:
        return
    now = utc_now()
    session.execute(
        insert(LedgerEntry),
        [
            {
                "workspace_id": workspace_id,
                "created_at": now,
                "action": entry.action,
                "object_type": OBJECT_TYPE,
                "hubspot_id": entry.deal_id,
                "field": entry.field,
                "direction": "to_hubspot" if entry.action == "accord_pushed" else None,
                "old_value": entry.old_value,
                "new_value": entry.new_value,
                "reason": entry.reason,
                "details": {**({"accord_id": entry.accord_id} if entry.accord_id else {}), **entry.details},
                "event_ids": list(entry.event_ids),
            }
            for entry in entries
        ],
    )
