"""Repository base: all SQL lives in repositories; services compose them.

``WorkspaceRepository`` scopes every statement to one workspace, so a row of another workspace is simply
not found (the API answers 404, never 403, and never reveals that it exists).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from interlink.kit.model import Model

M = TypeVar("M", bound=Model)


class Repository(Generic[M]):
    model: type[M]

    def __init__(self, session: Session) -> None:
        self.session = session

    def base_statement(self) -> Select[M]:
        return select(self.model)

    def get(self, id: Any) -> M | None:
        model: Any = self.model  # every model with a repository has an id
        return self.one_or_none(self.base_statement().where(model.id == id))

    def one_or_none(self, statement: Select[M]) -> M | None:
        return self.session.scalars(statement).one_or_none()

    def all(self, statement: Select[M]) -> Sequence[M]:
        return self.session.scalars(statement).all()

    def add(self, obj: M, *, flush: bool = True) -> M:
        self.session.add(obj)
        if flush:
            self.session.flush()
        return obj

    def delete(self, obj: M) -> None:
        self.session.delete(obj)
        self.session.flush()


class WorkspaceRepository(Repository[M]):
    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        super().__init__(session)
        self.workspace_id = workspace_id

    def base_statement(self) -> Select[M]:
        model: Any = self.model  # every workspace-owned model has workspace_id
        return select(self.model).where(model.workspace_id == self.workspace_id)
