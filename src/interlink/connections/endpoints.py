from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, status

from interlink.connections import service
from interlink.connections.checks import ConnectionCheck, check_connection
from interlink.connections.registry import connectors_for
from interlink.connections.schemas import ConnectionInput, ConnectionRead
from interlink.connections.usage import LimitUsage, api_usage
from interlink.deps import CipherDep, DatabaseDep, SessionDep, SettingsDep, WorkspaceDep
from interlink.errors import ValidationFailed

router = APIRouter(prefix="/connections", tags=["connections"])


@router.get("", summary="This workspace's connections (secrets masked)")
def list_connections(
    workspace: WorkspaceDep, session: SessionDep, cipher: CipherDep, settings: SettingsDep
) -> list[ConnectionRead]:
    return [
        service.to_read(connection, workspace, cipher, settings.public_base_url)
        for connection in service.list_connections(session, workspace.id)
    ]


@router.get("/usage", summary="How much of each vendor's rate limits the workspace is using now")
def usage(workspace: WorkspaceDep, session: SessionDep, db: DatabaseDep) -> list[LimitUsage]:
    return api_usage(session, workspace.id, connectors_for(db))


@router.put(
    "/{system}",
    summary="Connect a system, or replace its settings (secrets left out keep their stored value)",
)
def save_connection(
    system: str,
    body: Annotated[ConnectionInput, Body()],
    workspace: WorkspaceDep,
    session: SessionDep,
    cipher: CipherDep,
    settings: SettingsDep,
) -> ConnectionRead:
    if body.system != system:
        raise ValidationFailed(
            f"the body describes a {body.system} connection but the URL says {system}",
            details={"field": "system"},
        )
    connection = service.save_connection(session, workspace, body, cipher)
    return service.to_read(connection, workspace, cipher, settings.public_base_url)


@router.post("/{system}/test", summary="Test a connection with one read-only call; the answer says what happened")
def test_connection(
    system: Annotated[str, Path(pattern="^(hubspot|accelo|accord)$")],
    workspace: WorkspaceDep,
    session: SessionDep,
    cipher: CipherDep,
    db: DatabaseDep,
) -> ConnectionCheck:
    return check_connection(session, workspace, system, connectors_for(db), cipher)


@router.get("/{connection_id}", summary="One connection")
def get_connection(
    connection_id: uuid.UUID,
    workspace: WorkspaceDep,
    session: SessionDep,
    cipher: CipherDep,
    settings: SettingsDep,
) -> ConnectionRead:
    connection = service.get_connection(session, workspace.id, connection_id)
    return service.to_read(connection, workspace, cipher, settings.public_base_url)


@router.delete("/{connection_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Disconnect")
def delete_connection(connection_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> None:
    service.delete_connection(session, workspace.id, connection_id)
