"""``interlink pull`` / ``interlink push`` as ops run them: a real subprocess that starts a job and follows it
to the end, drawing a live progress bar on a terminal (a pseudo-terminal here: counts, rate, ETA); Ctrl-C while
a worker runs the job leaves it running and says how to follow it; errors in one line. This process plays the
worker (the CLI's own process has none), and holds it mid-job where a test needs the job to stand still."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import select, text

from interlink.models.job import Job
from tests.fixtures.database import TEST_SECRET_KEY
from tests.fixtures.world import World
from tests.jobs.support import create_everything, job_row, run_to_end, seed_hubspot, start_job
from tests.support.waiting import wait_for


def cli(world: World, tmp_path: Path, *args: str, stdout: int | IO[Any] = subprocess.PIPE) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTERLINK_", "TTY_", "FORCE_COLOR", "NO_COLOR"))}
    env.update(
        {
            "INTERLINK_DATABASE_URL": world.settings.database_url,
            "INTERLINK_SECRET_KEY": TEST_SECRET_KEY,
            "INTERLINK_DATA_DIR": str(tmp_path),
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "160",
            "TERM": "xterm-256color",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "interlink", *args],
        env=env,
        cwd=tmp_path,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


class Terminal:
    """A pseudo-terminal for the CLI's standard output, as ops' terminals are; everything drawn on it is kept."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self._chunks: list[bytes] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the CLI exited and closed its side
                return
            if not chunk:
                return
            with self._lock:
                self._chunks.append(chunk)

    def lines(self) -> list[str]:
        """What was drawn, one line (or redrawn line) each, without the escape codes that position and colour it."""
        with self._lock:
            raw = b"".join(self._chunks).decode(errors="replace")
        plain = re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]", "", raw)
        return [line for line in re.split(r"[\r\n]+", plain) if line.strip()]

    def close(self) -> None:
        os.close(self.slave)
        self._reader.join(10)
        os.close(self.master)


class Gate:
    """An ``observe`` for ``run_slice`` that holds the worker after its ``after``-th batch until opened: the
    job stays running, its claim held and its heartbeat beating, while the test looks at it."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.batches = 0
        self.reached = threading.Event()
        self.opened = threading.Event()

    def __call__(self, _object_type: str, _outcomes: object) -> None:
        self.batches += 1
        if self.batches == self.after:
            self.reached.set()
            assert self.opened.wait(120), "the test never let the worker go on"


def work_in_background(world: World, job_id: uuid.UUID, gate: Gate) -> tuple[threading.Thread, list[BaseException]]:
    """A worker running the job in this process (a thread), held at ``gate``."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_to_end(world.db, job_id, observe=gate)
        except BaseException as exc:  # the test reports it
            errors.append(exc)

    worker = threading.Thread(target=work, name="job-worker", daemon=True)
    worker.start()
    return worker, errors


def newest_job(world: World) -> uuid.UUID | None:
    with world.db.transaction() as session:
        return session.scalars(select(Job.id).order_by(Job.created_at.desc()).limit(1)).first()


def test_pull_starts_a_job_and_follows_it_to_the_end(world: World, tmp_path: Path) -> None:
    create_everything(world)
    seed_hubspot(world.hubspot, companies=4, contacts_per_company=5)
    slug = world.tenant.workspace.slug
    process = cli(world, tmp_path, "pull", "--workspace", slug, "--dry-run")
    job_id = wait_for(lambda: newest_job(world), timeout=30, what="the CLI to start a job")
    run_to_end(world.db, job_id)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert f"started dry run of a pull of both for {slug}: job {job_id}" in out
    assert f"job {job_id} completed (dry run: nothing was written)" in out
    assert "companies: 4 scanned; 4 would be created" in out
    assert "contacts: 20 scanned; 20 would be created" in out
    assert "Traceback" not in err


def test_on_a_terminal_the_progress_bar_shows_counts_rate_and_eta(
    world: World, tmp_path: Path, job_settings: Callable[..., None]
) -> None:
    create_everything(world)
    seed_hubspot(world.hubspot, companies=4, contacts_per_company=10)
    job_settings(job_max_batch=5)
    terminal = Terminal()
    try:
        process = cli(world, tmp_path, "pull", "-w", world.tenant.workspace.slug, stdout=terminal.slave)
        job_id = wait_for(lambda: newest_job(world), timeout=30, what="the CLI to start a job")
        gate = Gate(after=3)  # the companies' batch and two of contacts: 14 of 44 records, all created
        worker, errors = work_in_background(world, job_id, gate)
        try:
            assert gate.reached.wait(60), errors
            frame = wait_for(
                lambda: next((line for line in reversed(terminal.lines()) if "14/44" in line), None),
                timeout=30,
                what=f"the bar to show the held job\n{terminal.lines()[-5:]}",
            )
        finally:
            gate.opened.set()
        worker.join(60)
        assert not errors, errors
        _out, err = process.communicate(timeout=60)
    finally:
        terminal.close()

    assert process.returncode == 0, err
    assert "syncing contacts" in frame
    assert "━" in frame  # the bar itself
    assert re.search(r" 14/44 +\d+(\.\d)?/s +ETA \d+:\d\d ", frame), frame  # records so far, rate, time to go
    assert frame.rstrip().endswith("created 14"), frame
    lines = terminal.lines()
    assert f"job {job_id} completed" in lines
    assert "  contacts: 40 scanned; 40 created" in lines


def test_ctrl_c_while_a_worker_runs_the_job_stops_following_and_the_job_runs_to_the_end(
    world: World, tmp_path: Path, job_settings: Callable[..., None]
) -> None:
    create_everything(world, direction="push")
    world.accelo.generate(companies=2, contacts_per_company=5)
    job_settings(job_max_batch=2)
    slug = world.tenant.workspace.slug
    process = cli(world, tmp_path, "push", "-w", slug, "--object-type", "contacts")
    assert process.stdout is not None
    started = process.stdout.readline()
    job_id = newest_job(world)
    assert job_id is not None
    assert f"job {job_id}" in started
    gate = Gate(after=1)
    worker, errors = work_in_background(world, job_id, gate)
    try:
        assert gate.reached.wait(60), errors
        held = job_row(world.db, job_id)
        assert (held.status, held.claim_token is not None) == ("running", True)  # a worker is on it right now

        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
        assert process.returncode == 130
        assert f"stopped following; job {job_id} keeps running" in err
        assert f"interlink jobs follow {job_id} -w {slug}" in err
        assert "Traceback" not in err
        job = job_row(world.db, job_id)
        assert (job.status, job.cancel_requested, job.claim_token) == ("running", False, held.claim_token)
    finally:
        gate.opened.set()
    worker.join(60)
    assert not errors, errors
    assert job_row(world.db, job_id).status == "completed"  # the worker carried on to the end
    assert world.hubspot.count("contacts") == 10

    queued = start_job(world, kind="push")
    cancel = cli(world, tmp_path, "jobs", "cancel", str(queued), "-w", slug)
    out, err = cancel.communicate(timeout=30)
    assert cancel.returncode == 0, err
    assert f"job {queued} cancelled" in out
    listed = cli(world, tmp_path, "jobs", "list", "-w", slug)
    out, _ = listed.communicate(timeout=30)
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert " completed " in rows[str(job_id)]
    assert " cancelled " in rows[str(queued)]


def test_ctrl_c_during_a_slow_database_read_stops_following_cleanly_and_a_second_one_at_once(
    world: World, tmp_path: Path
) -> None:
    if world.db.is_sqlite:
        pytest.skip("only PostgreSQL can hold a read (SQLite in WAL mode never blocks readers)")
    create_everything(world, direction="push")
    world.accelo.generate(companies=1, contacts_per_company=2)
    slug = world.tenant.workspace.slug
    job_id = start_job(world, kind="push")  # queued: no worker runs in this test
    for presses in (1, 2):
        process = cli(world, tmp_path, "jobs", "follow", str(job_id), "-w", slug)
        with world.db.engine.connect() as locker:
            # every read of the jobs table waits until this transaction ends
            locker.execute(text("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE"))
            wait_for(lambda: reads_waiting_on_a_lock(world) > 0, timeout=30, what="the CLI to wait on its read")
            for _ in range(presses):
                process.send_signal(signal.SIGINT)
                time.sleep(0.3)
            if presses == 1:
                assert process.poll() is None  # one Ctrl-C is acted on once the read returns...
                locker.rollback()
            _out, err = process.communicate(timeout=30)  # ...two stop it at once, the lock still held
        assert process.returncode == 130, err
        assert f"stopped following; job {job_id} keeps running" in err
        assert "Traceback" not in err
    job = job_row(world.db, job_id)
    assert (job.status, job.cancel_requested) == ("queued", False)


def reads_waiting_on_a_lock(world: World) -> int:
    with world.db.engine.connect() as connection:
        statement = text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return int(connection.execute(statement).scalar_one())


def test_a_second_job_or_a_bad_filter_is_refused_in_one_line(world: World, tmp_path: Path) -> None:
    create_everything(world)
    running = start_job(world, kind="pull")
    slug = world.tenant.workspace.slug
    for args, expected in (
        (("pull", "-w", slug), f"interlink: job {running} is queued; a workspace runs one job at a time"),
        (("push", "-w", slug, "--filter", "{nope"), "interlink: --filter is not JSON"),
        (("pull", "-w", slug, "--object-type", "deals"), "--object-type must be companies, contacts or both"),
        (("jobs", "follow", "not-an-id", "-w", slug), "'not-an-id' is not a job id"),
    ):
        process = cli(world, tmp_path, *args)
        _out, err = process.communicate(timeout=30)
        assert process.returncode == 1, (args, err)
        assert expected in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err
