from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from interlink.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from interlink.kit.crypto import hash_api_token, new_api_token, token_display_prefix
from interlink.kit.time import utc_now
from interlink.models import ApiToken, Workspace
from interlink.workspaces import hooks
from interlink.workspaces.repository import ApiTokenRepo, TokenLookup, WorkspaceRepo
from interlink.workspaces.schemas import WorkspaceOptions, WorkspaceOptionsUpdate

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Writing last_used_at on every request would turn every read into a write; once a minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
    return slug or "workspace"


def create_workspace(session: Session, name: str, *, slug: str | None = None) -> Workspace:
    name = name.strip()
    if not name:
        raise ValidationFailed("a workspace needs a name", details={"field": "name"})
    repository = WorkspaceRepo(session)
    if slug is not None:
        if not SLUG_PATTERN.match(slug):
            raise ValidationFailed(
                f"slug {slug!r} must be lowercase letters, digits and dashes (at most 63)",
                details={"field": "slug"},
            )
        if repository.get_by_slug(slug) is not None:
            raise Conflict(f"a workspace with slug {slug!r} already exists", details={"field": "slug"})
    else:
        base = slugify(name)
        slug, counter = base, 2
        while repository.get_by_slug(slug) is not None:
            suffix = f"-{counter}"
            slug, counter = base[: 63 - len(suffix)] + suffix, counter + 1
    workspace = repository.add(Workspace(name=name, slug=slug, options=WorkspaceOptions().model_dump()))
    hooks.run_workspace_created(session, workspace)
    return workspace


def find_workspace(session: Session, slug_or_id: str) -> Workspace:
    workspace = WorkspaceRepo(session).find(slug_or_id)
    if workspace is None:
        raise NotFound(f"no workspace {slug_or_id!r}")
    return workspace


def list_workspaces(session: Session) -> Sequence[Workspace]:
    return WorkspaceRepo(session).list_all()


def options_of(workspace: Workspace) -> WorkspaceOptions:
    return WorkspaceOptions.model_validate(workspace.options)


def update_options(session: Session, workspace: Workspace, update: WorkspaceOptionsUpdate) -> Workspace:
    merged = options_of(workspace).model_copy(update=update.model_dump(exclude_none=True))
    workspace.options = merged.model_dump()
    session.flush()
    return workspace


@dataclass(frozen=True)
class IssuedToken:
    record: ApiToken
    token: str


def create_token(session: Session, workspace: Workspace, name: str = "default") -> IssuedToken:
    plain = new_api_token()
    record = ApiTokenRepo(session, workspace.id).add(
        ApiToken(
            workspace_id=workspace.id,
            name=name,
            prefix=token_display_prefix(plain),
            token_hash=hash_api_token(plain),
        )
    )
    return IssuedToken(record=record, token=plain)


def list_tokens(session: Session, workspace_id: uuid.UUID) -> Sequence[ApiToken]:
    return ApiTokenRepo(session, workspace_id).list_active()


def revoke_token(session: Session, workspace_id: uuid.UUID, token_id: uuid.UUID) -> ApiToken:
    token = ApiTokenRepo(session, workspace_id).get(token_id)
    if token is None or token.revoked_at is not None:
        raise NotFound(f"token {token_id} not found")
    token.revoked_at = utc_now()
    session.flush()
    return token


def authenticate(session: Session, bearer: str) -> tuple[Workspace, ApiToken]:
    token = TokenLookup(session).active_by_hash(hash_api_token(bearer))
    if token is None:
        raise Unauthorized("the bearer token is not valid (unknown or revoked)")
    workspace = WorkspaceRepo(session).get(token.workspace_id)
    if workspace is None:  # pragma: no cover - the foreign key cascades
        raise Unauthorized("the bearer token's workspace no longer exists")
    now = utc_now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.flush()
    return workspace, token
