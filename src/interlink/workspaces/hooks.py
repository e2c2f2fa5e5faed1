"""What other features do when a workspace is created (e.g. install the built-in field mappings).

Features register here instead of the workspace service importing them, so tenancy does not depend on
every feature that keeps per-workspace defaults.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from interlink.models import Workspace

WorkspaceCreatedHook = Callable[[Session, Workspace], None]
_ON_CREATED: list[WorkspaceCreatedHook] = []


def on_workspace_created(hook: WorkspaceCreatedHook) -> WorkspaceCreatedHook:
    if hook not in _ON_CREATED:
        _ON_CREATED.append(hook)
    return hook


def run_workspace_created(session: Session, workspace: Workspace) -> None:
    for hook in _ON_CREATED:
        hook(session, workspace)
