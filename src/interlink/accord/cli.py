"""``interlink accord ...``: provision the deal properties, look at links, link and push by hand.

Failures are ``InterlinkError`` s, which ``interlink.cli.main`` prints as one line (no traceback).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.orm import Session

from interlink.db import Database
from interlink.errors import Conflict, ValidationFailed

app = typer.Typer(help="Accord -> HubSpot deals: provision the properties, list and fix links.", no_args_is_help=True)

out = Console(highlight=False, soft_wrap=True)

WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug or id")]


@contextmanager
def _workspace_transaction(workspace: str) -> Iterator[tuple[Database, Session, str]]:
    from interlink import wiring
    from interlink.config import load_settings
    from interlink.logging import configure_logging
    from interlink.workspaces.service import find_workspace

    settings = load_settings()
    wiring.load()
    configure_logging(level=settings.log_level, json_lines=settings.json_logs)
    db = Database(settings)
    try:
        with db.transaction() as session:
            found = find_workspace(session, workspace)
            yield db, session, str(found.id)
    finally:
        db.dispose()


@app.command("provision")
def provision(workspace: WorkspaceOption) -> None:
    """Create the deal property group "Accord Customer Collaboration Data" and its seven properties in HubSpot.

    Safe to run again: what exists is kept. A property of the same name with another type is reported, never
    changed, and makes the command fail.
    """
    import uuid

    from interlink.accord import service

    with _workspace_transaction(workspace) as (db, session, workspace_id):
        report = service.provision(db, session, uuid.UUID(workspace_id))
    group = report.group
    out.print(f"group  {group.name:<34} {group.status}{_note(group.message)}")
    for check in report.properties:
        note = check.message if check.status in {"clash", "error"} else _cosmetic(check.cosmetic)
        out.print(f"{check.key:<19} {check.name:<34} {check.type:<7} {check.status}{_note(note)}")
    problems = report.problems
    if problems:
        names = ", ".join(problem.name for problem in problems)
        raise Conflict(f"{len(problems)} of the Accord properties could not be provisioned: {names} (see above)")


@app.command("links")
def links(
    workspace: WorkspaceOption,
    flagged: Annotated[bool, typer.Option("--flagged", help="Only links that need a person")] = False,
    limit: Annotated[int, typer.Option(min=1, max=5000)] = 500,
) -> None:
    """List Accords, their deals and when they were last pushed."""
    import uuid

    from interlink.accord import service

    with _workspace_transaction(workspace) as (_db, session, workspace_id):
        found = service.list_links(
            session,
            uuid.UUID(workspace_id),
            flagged=True if flagged else None,
            deal_id=None,
            after_accord_id=None,
            limit=limit,
        )
        for link in found:
            pushed = link.last_pushed_at.isoformat(timespec="seconds") if link.last_pushed_at else "never pushed"
            state = f"FLAGGED {link.flag_reason}: {link.flag_detail}" if link.flagged else "ok"
            out.print(f"{link.accord_id}\tdeal {link.deal_id or '-'}\t{pushed}\t{state}")


@app.command("link")
def link(
    workspace: WorkspaceOption,
    accord_id: Annotated[str, typer.Argument(help="The Accord's id")],
    deal_id: Annotated[str, typer.Argument(help="The HubSpot deal id")],
) -> None:
    """Link an Accord to a deal, or relink it to another one (clears its flag and pushes its latest data)."""
    import uuid

    from interlink.accord import service
    from interlink.accord.schemas import LinkRequest

    try:
        deal = LinkRequest.model_validate({"deal_id": deal_id}).deal_id
    except ValidationError:
        raise ValidationFailed(f"{deal_id!r} is not a HubSpot deal id (digits)") from None
    with _workspace_transaction(workspace) as (db, session, workspace_id):
        linked, queued = service.link_to_deal(db, session, uuid.UUID(workspace_id), accord_id, deal)
        out.print(f"Accord {linked.accord_id} -> deal {linked.deal_id}" + ("; push queued" if queued else ""))


@app.command("push")
def push(
    workspace: WorkspaceOption,
    accord_id: Annotated[str, typer.Argument(help="The Accord's id")],
    force: Annotated[bool, typer.Option(help="Write every property, changed or not")] = False,
) -> None:
    """Queue a push of the Accord's latest data to its deal."""
    import uuid

    from interlink.accord import service

    with _workspace_transaction(workspace) as (_db, session, workspace_id):
        _link, queued = service.request_push(session, uuid.UUID(workspace_id), accord_id, force=force)
    out.print("push queued" if queued else "nothing to push yet: no Accord data has been received for it")


def _note(text: str | None) -> str:
    return f"  ({text})" if text else ""


def _cosmetic(differences: dict[str, list[object]]) -> str | None:
    if not differences:
        return None
    return "kept as is: " + ", ".join(f"{name} is {have!r}" for name, (have, _want) in differences.items())
