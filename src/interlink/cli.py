"""The ``interlink`` command. Every failure ends in one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import click
import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from interlink import wiring
from interlink.accord.cli import app as accord_app
from interlink.admin.cli import app as users_app
from interlink.config import ConfigurationError, Settings, load_settings
from interlink.errors import InterlinkError
from interlink.jobs import cli as jobs_cli
from interlink.logging import configure_logging

app = typer.Typer(
    name="interlink",
    help="Interlink keeps HubSpot and Accelo in two-way sync and pushes Accord data into HubSpot deals.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
workspaces_app = typer.Typer(help="Create and list workspaces.", no_args_is_help=True)
tokens_app = typer.Typer(help="Create, list and revoke workspace API tokens.", no_args_is_help=True)
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(tokens_app, name="tokens")
app.add_typer(accord_app, name="accord")
app.add_typer(users_app, name="users")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

HostOption = Annotated[str, typer.Option(help="Address to listen on")]
PortOption = Annotated[int, typer.Option(help="Port to listen on", min=1, max=65535)]


class CommandFailed(Exception):
    """A CLI-level failure with a message for the user."""


def fail(message: str) -> NoReturn:
    raise CommandFailed(message)


def _settings() -> Settings:
    settings = load_settings()
    wiring.load()
    configure_logging(level=settings.log_level, json_lines=settings.json_logs)
    return settings


@contextmanager
def _transaction(settings: Settings) -> Iterator[Session]:
    from interlink.db import Database

    db = Database(settings)
    try:
        with db.transaction() as session:
            yield session
    finally:
        db.dispose()


# -- serving and working -----------------------------------------------------------------------------------


@app.command()
def serve(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Run the HTTP server (and, with no broker configured, the embedded worker in the same process)."""
    settings = _settings()
    _serve(settings, host, port)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from interlink.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(ctx: typer.Context) -> None:
    """Run a Celery worker (needs INTERLINK_BROKER_URL). Extra arguments go to `celery worker`."""
    settings = _settings()
    if settings.broker_url is None:
        fail("INTERLINK_BROKER_URL is not set; without a broker, `interlink serve` runs the worker itself")
    from interlink.worker.celery_app import QUEUE, get_celery_app

    get_celery_app().worker_main(["worker", "--loglevel", settings.log_level, "-Q", QUEUE, *ctx.args])


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def beat(ctx: typer.Context) -> None:
    """Run Celery beat, which schedules the periodic tasks (run exactly one)."""
    settings = _settings()
    if settings.broker_url is None:
        fail("INTERLINK_BROKER_URL is not set; without a broker, `interlink serve` schedules periodic work")
    from interlink.worker.celery_app import get_celery_app

    schedule = settings.data_dir / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    get_celery_app().start(["beat", "--loglevel", settings.log_level, "--schedule", str(schedule), *ctx.args])


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
    downgrade: Annotated[bool, typer.Option(help="Go down to REVISION instead of up")] = False,
) -> None:
    """Bring the database schema up to date (the only way Interlink's schema is made)."""
    settings = _settings()
    from interlink import schema

    if downgrade:
        schema.downgrade(settings.database_url, revision)
    else:
        schema.upgrade(settings.database_url, revision)
    out.print(f"database at {'revision ' + revision if revision != 'head' else 'the latest revision'}")


# -- workspaces and tokens ---------------------------------------------------------------------------------


@workspaces_app.command("create")
def workspaces_create(
    name: Annotated[str, typer.Argument(help="A name people will recognise")],
    slug: Annotated[str | None, typer.Option(help="URL-safe id; derived from the name if omitted")] = None,
) -> None:
    """Create a workspace."""
    from interlink.workspaces import service

    with _transaction(_settings()) as session:
        workspace = service.create_workspace(session, name, slug=slug)
        out.print(f"created workspace [bold]{workspace.slug}[/bold] ({workspace.id})")
        out.print(f"next: interlink tokens create --workspace {workspace.slug}")


@workspaces_app.command("list")
def workspaces_list() -> None:
    """List workspaces."""
    from interlink.workspaces import service

    with _transaction(_settings()) as session:
        for workspace in service.list_workspaces(session):
            out.print(f"{workspace.slug}\t{workspace.name}\t{workspace.id}")


WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug or id")]


@tokens_app.command("create")
def tokens_create(
    workspace: WorkspaceOption,
    name: Annotated[str, typer.Option(help="What the token is for")] = "cli",
) -> None:
    """Create an API token. It is printed once; only its hash is stored."""
    from interlink.workspaces import service

    with _transaction(_settings()) as session:
        issued = service.create_token(session, service.find_workspace(session, workspace), name)
        err.print(f"token {issued.record.prefix}… for workspace {workspace} (shown once, keep it safe):")
        out.print(issued.token)


@tokens_app.command("list")
def tokens_list(workspace: WorkspaceOption) -> None:
    """List a workspace's active tokens (prefixes only)."""
    from interlink.workspaces import service

    with _transaction(_settings()) as session:
        found = service.find_workspace(session, workspace)
        for token in service.list_tokens(session, found.id):
            used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never used"
            out.print(f"{token.id}\t{token.prefix}…\t{token.name}\t{used}")


@tokens_app.command("revoke")
def tokens_revoke(workspace: WorkspaceOption, token_id: Annotated[str, typer.Argument(help="Token id")]) -> None:
    """Revoke a token; requests with it get 401 from now on."""
    import uuid

    from interlink.workspaces import service

    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        fail(f"{token_id!r} is not a token id (see `interlink tokens list`)")
    with _transaction(_settings()) as session:
        service.revoke_token(session, service.find_workspace(session, workspace).id, parsed)
        out.print(f"revoked {token_id}")


# -- simulators --------------------------------------------------------------------------------------------

SIMULATED_VENDORS = ("hubspot", "accelo", "accord")
# What to connect a sandbox with (the simulators' well-known, public credentials).
SANDBOX_HELP = {
    "hubspot": (
        "private-app token  pat-na1-sandbox-0000-0000-0000-000000000000",
        "OAuth client       sandbox-client-id / sandbox-client-secret (the secret also signs webhooks)",
        "portal id          1234567",
    ),
    "accelo": (
        "deployment         simulator",
        "access token       accelo-simulator-token",
        "service app        interlink-service@simulator.accelo.com / accelo-simulator-service-secret",
        "webhook secret     accelo-simulator-webhook-secret",
    ),
    "accord": ("signing secret     accord-sandbox-signing-secret-0000",),
}


@app.command()
def simulate(
    vendor: Annotated[str, typer.Argument(help="hubspot, accelo or accord")],
    host: HostOption = "127.0.0.1",
    port: PortOption = 8100,
    state_file: Annotated[
        str | None, typer.Option(help="Keep the simulator's records in this JSON file across restarts")
    ] = None,
    webhook_url: Annotated[
        list[str] | None, typer.Option(help="Deliver the simulator's webhooks here (repeatable)")
    ] = None,
) -> None:
    """Run a vendor simulator alone: a sandbox that speaks the vendor's API and sends its webhooks."""
    import importlib
    from pathlib import Path

    import uvicorn

    if vendor not in SIMULATED_VENDORS:
        fail(f"no simulator for {vendor!r}; choose one of {', '.join(SIMULATED_VENDORS)}")
    settings = _settings()
    module = importlib.import_module(f"interlink.simulators.{vendor}")
    simulator = module.create_app(
        state_file=Path(state_file) if state_file else None, webhook_urls=list(webhook_url or [])
    )
    out.print(f"{vendor} simulator on http://{host}:{port} (control surface under /_sim)")
    for line in SANDBOX_HELP.get(vendor, ()):
        out.print(f"  {line}")
    uvicorn.run(
        simulator,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        log_level=settings.log_level.lower(),
    )


# -- demo --------------------------------------------------------------------------------------------------


@app.command()
def demo(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """The whole loop in one process: Interlink, its worker, and simulated HubSpot, Accelo and Accord, with a
    connected demo workspace and a few records. Prints what to try."""
    settings = _settings()
    import uvicorn

    from interlink import demo as demo_setup

    base_url = f"http://{host}:{port}"
    if settings.public_base_url != base_url:  # webhooks are signed for the URL they are sent to
        settings = settings.model_copy(update={"public_base_url": base_url})
    ready = demo_setup.build(settings, base_url)
    out.print()
    for line in demo_setup.instructions(ready):
        out.print(line)
    out.print()
    uvicorn.run(ready.app, host=host, port=port, log_config=None, access_log=False)


jobs_cli.register(app)  # pull, push and jobs: bulk jobs


# -- entry point -------------------------------------------------------------------------------------------


# Newer Typer releases vendor click and raise their own copies of its exceptions; older ones raise click's.
EXIT_ERRORS = (click.exceptions.Exit, typer.Exit)
USAGE_ERRORS = (click.ClickException, getattr(typer, "TyperException", click.ClickException))
ABORT_ERRORS = (click.exceptions.Abort, typer.Abort)


def main(argv: list[str] | None = None) -> None:
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="interlink", standalone_mode=False)
        if isinstance(code, int) and code:  # typer returns exit codes (Ctrl-C: 130) instead of raising them
            sys.exit(code)
    except EXIT_ERRORS as exc:
        sys.exit(exc.exit_code)
    except USAGE_ERRORS as exc:
        show = getattr(exc, "show", None)
        if callable(show):
            show()  # a usage error: the usage line, then "Error: ..."
        else:
            _die(str(exc), exc.exit_code)
        sys.exit(exc.exit_code)
    except ABORT_ERRORS:
        err.print("aborted")
        sys.exit(130)
    except ConfigurationError as exc:
        _die(str(exc), 2)
    except (CommandFailed, InterlinkError) as exc:
        _die(str(exc), 1)
    except (OperationalError, ProgrammingError) as exc:
        _die(
            f"database error: {_first_line(exc)} (is the database up and migrated? `interlink migrate`)",
            1,
        )
    except DBAPIError as exc:
        _die(f"database error: {_first_line(exc)}", 1)
    except KeyboardInterrupt:
        sys.exit(130)


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig or exc).strip().splitlines()[0]


def _die(message: str, code: int) -> NoReturn:
    err.print(f"interlink: {message}", markup=False, soft_wrap=True)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
