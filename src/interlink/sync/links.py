"""Links: the pairing of one HubSpot record and one Accelo record, with the snapshot both last agreed on."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, Text, cast, func, or_, select

from interlink.kit.repository import WorkspaceRepository
from interlink.models import Link
from interlink.sync.plan import LinkState

OPEN = Link.state != "closed"


class LinkRepo(WorkspaceRepository[Link]):
    model = Link

    def open_by_hubspot(self, object_type: str, ids: Iterable[str]) -> dict[str, Link]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        statement = self.base_statement().where(Link.object_type == object_type, Link.hubspot_id.in_(wanted), OPEN)
        return {link.hubspot_id: link for link in self.all(statement) if link.hubspot_id}

    def open_by_accelo(self, object_type: str, ids: Iterable[str]) -> dict[str, Link]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        statement = self.base_statement().where(Link.object_type == object_type, Link.accelo_id.in_(wanted), OPEN)
        return {link.accelo_id: link for link in self.all(statement) if link.accelo_id}

    def waiting_contacts(self, limit: int = 500) -> Sequence[Link]:
        statement = (
            self.base_statement()
            .where(Link.object_type == "contact", Link.state == "waiting")
            .order_by(Link.updated_at)
            .limit(limit)
        )
        return self.all(statement)

    def list_statement(
        self,
        *,
        state: str | None = None,
        flagged: bool | None = None,
        object_type: str | None = None,
        search: str | None = None,
        after: uuid.UUID | None = None,
        limit: int = 50,
    ) -> Select[Link]:
        statement = self.base_statement()
        if state:
            statement = statement.where(Link.state == state)
        if flagged is not None:
            statement = statement.where(Link.flagged.is_(flagged))
        if object_type:
            statement = statement.where(Link.object_type == object_type)
        if search:
            # A record id on either side, or text in a synced value (a name, an email, a domain).
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            statement = statement.where(
                or_(
                    Link.hubspot_id == search,
                    Link.accelo_id == search,
                    cast(Link.snapshot, Text).ilike(pattern, escape="\\"),
                )
            )
        if after is not None:
            statement = statement.where(Link.id > after)
        return statement.order_by(Link.id).limit(limit)

    def count_by_state(self) -> dict[str, int]:
        statement = select(Link.state, func.count()).where(Link.workspace_id == self.workspace_id).group_by(Link.state)
        return {state: count for state, count in self.session.execute(statement).all()}

    def count_flagged(self) -> int:
        statement = select(func.count()).where(Link.workspace_id == self.workspace_id, Link.flagged.is_(True))
        return int(self.session.execute(statement).scalar() or 0)


def state_of(link: Link) -> LinkState:
    side = link.last_written_side if link.last_written_side in {"hubspot", "accelo"} else None
    return LinkState(
        id=link.id,
        hubspot_id=link.hubspot_id,
        accelo_id=link.accelo_id,
        state=link.state,
        snapshot=dict(link.snapshot or {}),
        field_states=dict(link.field_states or {}),
        last_written_side=side,  # type: ignore[arg-type]
    )
