"""``interlink pull`` / ``interlink push`` as ops run them: a real subprocess that starts a job and follows it
to the end with a progress bar; Ctrl-C leaves the job running and says how to follow it; errors in one line.
This process plays the worker (the CLI's own process has none)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import select

from interlink.models.job import Job
from tests.fixtures.database import TEST_SECRET_KEY
from tests.fixtures.world import World
from tests.jobs.support import create_everything, job_row, run_to_end, seed_hubspot, start_job
from tests.support.waiting import wait_for


def cli(world: World, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERLINK_")}
    env.update(
        {
            "INTERLINK_DATABASE_URL": world.settings.database_url,
            "INTERLINK_SECRET_KEY": TEST_SECRET_KEY,
            "INTERLINK_DATA_DIR": str(tmp_path),
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "160",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "interlink", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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


def test_ctrl_c_stops_following_and_leaves_the_job_running(world: World, tmp_path: Path) -> None:
    create_everything(world, direction="push")
    slug = world.tenant.workspace.slug
    process = cli(world, tmp_path, "push", "-w", slug, "--object-type", "contacts")
    assert process.stdout is not None
    started = process.stdout.readline()
    job_id = newest_job(world)
    assert f"job {job_id}" in started

    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert f"stopped following; job {job_id} keeps running" in err
    assert f"interlink jobs follow {job_id} -w {slug}" in err
    assert "Traceback" not in err
    assert job_id is not None
    job = job_row(world.db, job_id)
    assert (job.status, job.cancel_requested) == ("queued", False)

    cancel = cli(world, tmp_path, "jobs", "cancel", str(job_id), "-w", slug)
    out, err = cancel.communicate(timeout=30)
    assert cancel.returncode == 0, err
    assert f"job {job_id} cancelled" in out
    listed = cli(world, tmp_path, "jobs", "list", "-w", slug)
    out, _ = listed.communicate(timeout=30)
    assert str(job_id) in out
    assert "cancelled" in out


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
