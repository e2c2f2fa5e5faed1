"""``interlink pull`` / ``interlink push`` (start a bulk job and follow it with a live progress bar) and
``interlink jobs ...`` (list, show, follow, cancel, resume).

Ctrl-C stops following, never the job: it keeps running on the workers, and the command says how to follow
it again. Failures are ``InterlinkError`` s or one-line messages, which ``interlink.cli.main`` prints without
a traceback.
"""

from __future__ import annotations

import json
import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from interlink.config import Settings
from interlink.db import Database
from interlink.errors import BadRequest, InterlinkError
from interlink.jobs.schemas import JobCreate, JobRead, JobSummary, ObjectTypeChoice

app = typer.Typer(help="Bulk pulls and pushes: list, show, follow, cancel and resume them.", no_args_is_help=True)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug or id")]
JobIdArgument = Annotated[str, typer.Argument(help="The job's id (see `interlink jobs list`)")]
ObjectTypeOption = Annotated[
    str, typer.Option("--object-type", "-t", help="companies, contacts, or both (companies first)")
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Plan everything and write nothing")]
FilterOption = Annotated[
    str | None,
    typer.Option(
        help='Only source records matching, per object type, as JSON: \'{"contacts": {"field": "lifecyclestage", '
        '"op": "eq", "value": "customer"}}\''
    ),
]
ShareOption = Annotated[
    float | None, typer.Option(help="Part of each rate window the job may spend (default INTERLINK_JOB_SHARE)")
]
DetachOption = Annotated[bool, typer.Option("--detach", help="Start the job and return; do not follow it")]

FOLLOW_INTERVAL = 0.5


class Stopped(InterlinkError):
    """The job ended without completing; the message says how (one line, exit code 1)."""

    code = "job_stopped"


def register(main: typer.Typer) -> None:
    """Add ``pull``, ``push`` and the ``jobs`` group to the ``interlink`` command."""
    main.command("pull")(pull)
    main.command("push")(push)
    main.add_typer(app, name="jobs")


# -- plumbing ------------------------------------------------------------------------------------------------


@contextmanager
def _database() -> Iterator[Database]:
    from interlink import wiring
    from interlink.config import load_settings
    from interlink.logging import configure_logging

    settings = load_settings()
    wiring.load()
    configure_logging(level=settings.log_level, json_lines=settings.json_logs)
    db = Database(settings, dispatcher=_dispatcher(settings))
    try:
        yield db
    finally:
        db.dispose()


def _dispatcher(settings: Settings) -> Any:
    """With a broker the job goes straight to the workers; without one, the server's embedded worker finds it
    (its sweeper sends every job that is due)."""
    if settings.broker_url is None:
        return None
    from interlink.worker.celery_app import CeleryDispatcher, create_celery_app

    return CeleryDispatcher(create_celery_app(settings))


def _workspace_id(session: Session, workspace: str) -> uuid.UUID:
    from interlink.workspaces.service import find_workspace

    return find_workspace(session, workspace).id


def _job_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadRequest(f"{value!r} is not a job id (see `interlink jobs list`)") from None


def _fail(message: str) -> NoReturn:
    raise Stopped(message)


# -- starting ------------------------------------------------------------------------------------------------


def pull(
    workspace: WorkspaceOption,
    object_type: ObjectTypeOption = "both",
    dry_run: DryRunOption = False,
    filter: FilterOption = None,
    share: ShareOption = None,
    detach: DetachOption = False,
) -> None:
    """Pull HubSpot into Accelo: create or link every record the sync rules allow, and reconcile the linked."""
    _start("pull", workspace, object_type, dry_run, filter, share, detach)


def push(
    workspace: WorkspaceOption,
    object_type: ObjectTypeOption = "both",
    dry_run: DryRunOption = False,
    filter: FilterOption = None,
    share: ShareOption = None,
    detach: DetachOption = False,
) -> None:
    """Push Accelo into HubSpot: create or link every record the sync rules allow, and reconcile the linked."""
    _start("push", workspace, object_type, dry_run, filter, share, detach)


def _start(
    kind: str,
    workspace: str,
    object_type: str,
    dry_run: bool,
    filter_json: str | None,
    share: float | None,
    detach: bool,
) -> None:
    from pydantic import ValidationError

    from interlink.connections.registry import connectors_for
    from interlink.jobs import service
    from interlink.mappings.live import LiveSchemaSource
    from interlink.workspaces.service import find_workspace

    if object_type not in ObjectTypeChoice.__args__:  # type: ignore[attr-defined]
        raise BadRequest(f"--object-type must be companies, contacts or both, not {object_type!r}")
    try:
        body = JobCreate.model_validate(
            {
                "kind": kind,
                "object_type": object_type,
                "dry_run": dry_run,
                "share": share,
                "filter": json.loads(filter_json) if filter_json else None,
            }
        )
    except json.JSONDecodeError as exc:
        raise BadRequest(f"--filter is not JSON: {exc}") from None
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise BadRequest(f"{where}: {problem['msg']}") from None
    with _database() as db:
        with db.transaction() as session:
            found = find_workspace(session, workspace)
            source = LiveSchemaSource.for_workspace(session, found, connectors_for(db))
            job = service.start_job(session, found, body, source, db.settings)
            job_id, workspace_id, slug = job.id, found.id, found.slug
        what = f"{'dry run of a ' if dry_run else ''}{kind} of {object_type}"
        out.print(f"started {what} for {slug}: job {job_id}")
        if db.settings.broker_url is None:
            out.print("  (no broker configured: `interlink serve` runs it once its worker picks it up)")
        if detach:
            out.print(f"follow it with: interlink jobs follow {job_id} -w {slug}")
            return
        _follow_until_done(db, workspace_id, job_id, slug)


# -- following -----------------------------------------------------------------------------------------------


def _read(db: Database, workspace_id: uuid.UUID, job_id: uuid.UUID) -> JobRead:
    from interlink.jobs import service

    with db.transaction() as session:
        return service.describe(service.get_job(session, workspace_id, job_id))


def _follow_until_done(db: Database, workspace_id: uuid.UUID, job_id: uuid.UUID, slug: str) -> None:
    with _CtrlC() as ctrl_c:
        try:
            view = _follow(db, workspace_id, job_id, ctrl_c)
        except KeyboardInterrupt:  # a second Ctrl-C, wherever it landed
            view = None
    if view is None:
        err.print(
            f"stopped following; job {job_id} keeps running.\n"
            f"  follow it again:  interlink jobs follow {job_id} -w {slug}\n"
            f"  stop it:          interlink jobs cancel {job_id} -w {slug}"
        )
        raise KeyboardInterrupt  # `interlink` exits 130, as for any Ctrl-C
    _summary(view)
    if view.status == "failed":
        _fail(f"job {job_id} failed: {view.error}")
    if view.status == "cancelled":
        _fail(f"job {job_id} was cancelled (what it did stays done; `interlink jobs resume` carries on)")


class _CtrlC:
    """Ctrl-C while following is noted and acted on between two reads of the job, never inside a database call
    (an interrupt landing there can leave the driver's connection lock taken, and the exit would hang on it).
    A second Ctrl-C interrupts at once, whatever it lands in."""

    def __init__(self) -> None:
        self.pressed = threading.Event()
        self._previous: Any = None
        self._installed = threading.current_thread() is threading.main_thread()

    def __enter__(self) -> _CtrlC:
        if self._installed:
            self._previous = signal.signal(signal.SIGINT, self._on_signal)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)

    def _on_signal(self, _signum: int, _frame: object) -> None:
        if self.pressed.is_set():
            raise KeyboardInterrupt
        self.pressed.set()


def _follow(db: Database, workspace_id: uuid.UUID, job_id: uuid.UUID, ctrl_c: _CtrlC) -> JobRead | None:
    """Draw the job's progress until it ends (its last view) or Ctrl-C is pressed (None)."""
    progress = Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        TextColumn("{task.fields[scanned]}"),
        TextColumn("{task.fields[rate]}"),
        TextColumn("{task.fields[eta]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[counts]}"),
        console=out,
    )
    with progress:
        task = progress.add_task("queued", total=None, scanned="", rate="", eta="", counts="")
        while True:
            view = _read(db, workspace_id, job_id)
            state = view.progress
            totals = view.totals
            stage = state.stage if state.object_type is None else f"{state.stage} {state.object_type}"
            total = state.total_estimate
            progress.update(
                task,
                description=("dry run: " if view.dry_run else "") + stage,
                total=max(total, totals.scanned) if total else None,
                completed=totals.scanned,
                scanned=f"{totals.scanned:,}/{total:,}" if total else f"{totals.scanned:,}",
                rate=f"{state.rate_per_second:,.1f}/s" if state.rate_per_second else "",
                eta=f"ETA {_duration(state.eta_seconds)}" if state.eta_seconds is not None else "",
                counts=_brief(view),
            )
            if view.status in {"completed", "failed", "cancelled"}:
                return view
            if ctrl_c.pressed.wait(FOLLOW_INTERVAL):
                return None


def _duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _brief(view: JobSummary) -> str:
    totals = view.totals
    parts = [
        ("created", totals.created),
        ("matched", totals.matched_existing),
        ("updated", totals.updated),
        ("review", totals.needs_review),
        ("failed", totals.failed),
    ]
    return " · ".join(f"{name} {count:,}" for name, count in parts if count)


COUNTED = (
    ("scanned", "scanned"),
    ("created", "created"),
    ("matched_existing", "matched an existing record"),
    ("updated", "updated (already linked)"),
    ("unchanged", "unchanged (already linked)"),
    ("skipped_by_rule", "skipped by the sync rule"),
    ("skipped_no_key", "skipped: nothing to match on"),
    ("needs_review", "need review"),
    ("waiting", "waiting for their company"),
    ("failed", "failed"),
    ("filtered_out", "filtered out"),
)


def _summary(view: JobRead) -> None:
    verb = "would be " if view.dry_run else ""
    out.print(f"job {view.id} {view.status}{' (dry run: nothing was written)' if view.dry_run else ''}")
    for object_type, counts in view.by_object_type.items():
        shown = [
            f"{getattr(counts, field):,} {verb if field not in {'scanned', 'filtered_out'} else ''}{label}"
            for field, label in COUNTED
            if getattr(counts, field)
        ]
        out.print(f"  {object_type}: " + ("; ".join(shown) if shown else "nothing"))
    for outcomes in view.samples.values():
        for outcome in ("needs_review", "failed"):
            for sample in outcomes.get(outcome, [])[:3]:
                who = f"{sample.system} {sample.record_id}" + (f" ({sample.label})" if sample.label else "")
                out.print(f"  {outcome.replace('_', ' ')}: {who}: {sample.reason}", markup=False)


# -- the jobs group ------------------------------------------------------------------------------------------


@app.command("list")
def list_jobs(
    workspace: WorkspaceOption,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
) -> None:
    """The workspace's jobs, newest first."""
    from interlink.jobs import service

    with _database() as db, db.transaction() as session:
        for job in service.list_jobs(session, _workspace_id(session, workspace), limit=limit):
            view = service.summarise(job)
            when = view.created_at.isoformat(timespec="seconds")
            kind = f"{view.kind}{' (dry run)' if view.dry_run else ''}"
            out.print(
                f"{view.id}  {when}  {kind:<15} {'+'.join(view.object_types):<19} {view.status:<10} "
                f"scanned {view.totals.scanned:,}  {_brief(view)}",
                markup=False,
            )


@app.command("show")
def show(workspace: WorkspaceOption, job_id: JobIdArgument) -> None:
    """One job's counts, progress and samples, as JSON (what GET /api/v1/jobs/{id} answers)."""
    with _database() as db, db.transaction() as session:
        from interlink.jobs import service

        view = service.describe(service.get_job(session, _workspace_id(session, workspace), _job_id(job_id)))
    out.print_json(view.model_dump_json())


@app.command("follow")
def follow(workspace: WorkspaceOption, job_id: JobIdArgument) -> None:
    """Follow a job with a live progress bar until it ends (Ctrl-C stops following, not the job)."""
    with _database() as db:
        with db.transaction() as session:
            from interlink.workspaces.service import find_workspace

            found = find_workspace(session, workspace)
            workspace_id, slug = found.id, found.slug
        _follow_until_done(db, workspace_id, _job_id(job_id), slug)


@app.command("cancel")
def cancel(workspace: WorkspaceOption, job_id: JobIdArgument) -> None:
    """Stop a job after the batch it is on (what is done stays done)."""
    from interlink.jobs import service

    with _database() as db, db.transaction() as session:
        job = service.cancel_job(session, _workspace_id(session, workspace), _job_id(job_id))
        status = job.status
    out.print(f"job {job_id} {'cancelled' if status == 'cancelled' else 'stops after its current batch'}")


@app.command("resume")
def resume(workspace: WorkspaceOption, job_id: JobIdArgument) -> None:
    """Carry on with a failed or cancelled job from its checkpoint."""
    from interlink.jobs import service

    with _database() as db, db.transaction() as session:
        service.resume_job(session, _workspace_id(session, workspace), _job_id(job_id), db.settings)
    out.print(f"job {job_id} queued again; follow it with: interlink jobs follow {job_id} -w {workspace}")
