"""``interlink users ...``: the people who may sign in to a workspace's admin UI.

Passwords are asked for twice without echo, or read from standard input with ``--password-stdin`` (one
line, for scripts); they are never taken as a command-line argument, where shell history and ``ps`` would
keep them. Failures are ``InterlinkError`` s, which ``interlink.cli.main`` prints as one line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from interlink.errors import ValidationFailed
from interlink.models import Workspace

app = typer.Typer(help="Admin UI users: create, list, reset passwords, unlock, disable.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)

WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug or id")]
EmailArgument = Annotated[str, typer.Argument(help="The person's email address (their sign-in name)")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input (one line) instead of asking")
]


@contextmanager
def _workspace(slug_or_id: str) -> Iterator[tuple[Session, Workspace]]:
    from interlink import wiring
    from interlink.config import load_settings
    from interlink.db import Database
    from interlink.logging import configure_logging
    from interlink.workspaces.service import find_workspace

    settings = load_settings()
    wiring.load()
    configure_logging(level=settings.log_level, json_lines=settings.json_logs)
    db = Database(settings)
    try:
        with db.transaction() as session:
            yield session, find_workspace(session, slug_or_id)
    finally:
        db.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ValidationFailed("no password on standard input")
        return password
    prompted: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return prompted


@app.command("create")
def create(workspace: WorkspaceOption, email: EmailArgument, password_stdin: PasswordStdin = False) -> None:
    """Let someone sign in to the workspace's admin UI."""
    from interlink.admin import auth

    password = _read_password(password_stdin)
    with _workspace(workspace) as (session, found):
        user = auth.create_user(session, found, email, password)
        out.print(f"{user.email} can now sign in to workspace {found.slug} at /admin")


@app.command("list")
def list_users(workspace: WorkspaceOption) -> None:
    """Who may sign in, when they last did, and whether they are locked out."""
    from interlink.admin import auth
    from interlink.kit.time import utc_now

    with _workspace(workspace) as (session, found):
        now = utc_now()
        for user in auth.list_users(session, found.id):
            last = user.last_signed_in_at.isoformat(timespec="seconds") if user.last_signed_in_at else "never signed in"
            state = "disabled" if user.disabled else "locked" if user.locked_until and user.locked_until > now else "ok"
            out.print(f"{user.email}\t{state}\t{last}")


@app.command("set-password")
def set_password(workspace: WorkspaceOption, email: EmailArgument, password_stdin: PasswordStdin = False) -> None:
    """Give someone a new password (signs them out everywhere, and unlocks them)."""
    from interlink.admin import auth

    password = _read_password(password_stdin)
    with _workspace(workspace) as (session, found):
        auth.set_password(session, auth.get_user(session, found.id, email), password)
        out.print(f"new password set for {email}; their other sessions are signed out")


@app.command("unlock")
def unlock(workspace: WorkspaceOption, email: EmailArgument) -> None:
    """Let someone locked out by wrong passwords try again now."""
    from interlink.admin import auth

    with _workspace(workspace) as (session, found):
        auth.unlock(session, auth.get_user(session, found.id, email))
        out.print(f"{email} is unlocked")


@app.command("disable")
def disable(workspace: WorkspaceOption, email: EmailArgument) -> None:
    """Stop someone signing in (and sign them out now)."""
    from interlink.admin import auth

    with _workspace(workspace) as (session, found):
        auth.set_disabled(session, auth.get_user(session, found.id, email), True)
        out.print(f"{email} can no longer sign in")


@app.command("enable")
def enable(workspace: WorkspaceOption, email: EmailArgument) -> None:
    """Let a disabled user sign in again."""
    from interlink.admin import auth

    with _workspace(workspace) as (session, found):
        auth.set_disabled(session, auth.get_user(session, found.id, email), False)
        out.print(f"{email} can sign in again")
