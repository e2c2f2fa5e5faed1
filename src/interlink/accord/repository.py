from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from interlink.kit.repository import WorkspaceRepository
from interlink.models import AccordLink, AccordSettings


class AccordLinkRepo(WorkspaceRepository[AccordLink]):
    model = AccordLink

    def by_accord(self, accord_id: str) -> AccordLink | None:
        return self.one_or_none(self.base_statement().where(AccordLink.accord_id == accord_id))

    def by_accords(self, accord_ids: Collection[str]) -> dict[str, AccordLink]:
        found: dict[str, AccordLink] = {}
        ids = sorted(set(accord_ids))
        for start in range(0, len(ids), 500):
            statement = self.base_statement().where(AccordLink.accord_id.in_(ids[start : start + 500]))
            found.update((link.accord_id, link) for link in self.all(statement))
        return found

    def by_deal(self, deal_id: str) -> AccordLink | None:
        return self.one_or_none(self.base_statement().where(AccordLink.deal_id == deal_id))

    def list_statement(
        self, *, flagged: bool | None, deal_id: str | None, after_accord_id: str | None, limit: int
    ) -> Select[AccordLink]:
        statement = self.base_statement()
        if flagged is not None:
            statement = statement.where(AccordLink.flagged == flagged)
        if deal_id is not None:
            statement = statement.where(AccordLink.deal_id == deal_id)
        if after_accord_id is not None:
            statement = statement.where(AccordLink.accord_id > after_accord_id)
        return statement.order_by(AccordLink.accord_id).limit(limit)

    def list(
        self, *, flagged: bool | None, deal_id: str | None, after_accord_id: str | None, limit: int
    ) -> Sequence[AccordLink]:
        return self.all(
            self.list_statement(flagged=flagged, deal_id=deal_id, after_accord_id=after_accord_id, limit=limit)
        )


class AccordSettingsRepo:
    """One row per workspace, made on first write; reads of a workspace without one see the defaults."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def get(self) -> AccordSettings | None:
        return self.session.scalars(
            select(AccordSettings).where(AccordSettings.workspace_id == self.workspace_id)
        ).one_or_none()

    def get_or_create(self) -> AccordSettings:
        settings = self.get()
        if settings is not None:
            return settings
        try:
            with self.session.begin_nested():
                settings = AccordSettings(workspace_id=self.workspace_id, property_names={})
                self.session.add(settings)
        except IntegrityError:  # made meanwhile by a concurrent request
            settings = self.get()
            assert settings is not None
        return settings
