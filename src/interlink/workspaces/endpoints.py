from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from interlink.deps import SessionDep, WorkspaceDep
from interlink.errors import NotFound
from interlink.models import Workspace
from interlink.workspaces import service
from interlink.workspaces.schemas import (
    TokenCreate,
    TokenCreated,
    TokenRead,
    WorkspaceOptionsUpdate,
    WorkspaceRead,
)

router = APIRouter(tags=["workspace"])


def _read(workspace: Workspace) -> WorkspaceRead:
    return WorkspaceRead.model_validate(workspace)


@router.get("/workspace", summary="The workspace this token belongs to")
def get_current_workspace(workspace: WorkspaceDep) -> WorkspaceRead:
    return _read(workspace)


@router.get("/workspaces/{workspace_id}", summary="A workspace by id (only your own)")
def get_workspace(workspace_id: uuid.UUID, workspace: WorkspaceDep) -> WorkspaceRead:
    if workspace_id != workspace.id:
        raise NotFound(f"workspace {workspace_id} not found")
    return _read(workspace)


@router.patch("/workspace/options", summary="Change workspace options")
def update_options(body: WorkspaceOptionsUpdate, workspace: WorkspaceDep, session: SessionDep) -> WorkspaceRead:
    return _read(service.update_options(session, workspace, body))


@router.get("/tokens", summary="Active API tokens")
def list_tokens(workspace: WorkspaceDep, session: SessionDep) -> list[TokenRead]:
    return [TokenRead.model_validate(token) for token in service.list_tokens(session, workspace.id)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, summary="Create an API token (shown once)")
def create_token(body: TokenCreate, workspace: WorkspaceDep, session: SessionDep) -> TokenCreated:
    issued = service.create_token(session, workspace, body.name)
    return TokenCreated(**TokenRead.model_validate(issued.record).model_dump(), token=issued.token)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API token")
def revoke_token(token_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> None:
    service.revoke_token(session, workspace.id, token_id)
