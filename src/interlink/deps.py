"""Dependency aliases for endpoints. The session dependency owns the request's transaction: it commits
before the response is sent (``scope="function"``), so a 2xx always means the work is stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from interlink.config import Settings
from interlink.db import Database
from interlink.errors import Unauthorized
from interlink.kit.crypto import CredentialCipher
from interlink.models import Workspace
from interlink.workspaces.service import authenticate


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_cipher(request: Request) -> CredentialCipher:
    cipher: CredentialCipher = request.app.state.cipher
    return cipher


DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CipherDep = Annotated[CredentialCipher, Depends(get_cipher)]


def get_session(db: DatabaseDep) -> Iterator[Session]:
    with db.transaction() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="A workspace API token (`interlink tokens create`)")


def current_workspace(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Workspace:
    if credentials is None:
        raise Unauthorized("send a workspace API token as `Authorization: Bearer <token>`")
    workspace, _token = authenticate(session, credentials.credentials)
    return workspace


WorkspaceDep = Annotated[Workspace, Depends(current_workspace)]
