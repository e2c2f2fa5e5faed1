"""A bulk pull of 100,000 HubSpot contacts (with their companies) into an empty Accelo, as production runs it,
and what it cost: wall time against the least the rate limits allow, 429s, duplicates and records missed, the
worker's peak memory; then a second pull, which must create nothing.

    .venv/bin/python bench/jobs_pull.py [--contacts 100000] [--per-company 20] [--kills 0]
        [--accelo-limit 9000] [--accelo-window 60] [--share 0.7] [--database-url URL] [--redis-url URL]

Production's shape: PostgreSQL, Redis, an ``interlink worker`` Celery process (concurrency 1, with beat for the
sweepers) running the job, Interlink's API in this process, and the simulators in a process of their own over
loopback HTTP. HubSpot enforces its Starter limit (100 calls per 10 s); Accelo's hour is compressed to
``--accelo-limit`` requests per ``--accelo-window`` seconds (the job's clients know it, as they know the
real hour), so the pull takes minutes, not a day. ``--kills 3`` SIGKILLs the worker at 25, 50 and 75% while it
holds the job and starts another; the figures to read then are the duplicates and records missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interlink import schema
from interlink.app import create_app
from interlink.config import Settings
from interlink.db import Database
from interlink.simulators.accelo.simulator import DEFAULT_ACCESS_TOKEN, DEFAULT_WEBHOOK_SECRET
from interlink.simulators.hubspot.oauth import DEFAULT_APP_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PRIVATE_APP_TOKEN
from interlink.simulators.hubspot.simulator import DEFAULT_PORTAL_ID
from interlink.worker.celery_app import CeleryDispatcher, create_celery_app
from interlink.workspaces import service as workspaces

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-0123456789abcdef0123456789abcdef"  # noqa: S105 - a throwaway database's key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--per-company", type=int, default=20)
    parser.add_argument("--kills", type=int, default=0, choices=range(0, 10))
    parser.add_argument("--accelo-limit", type=int, default=9_000)
    parser.add_argument("--accelo-window", type=int, default=60)
    parser.add_argument("--share", type=float, default=0.7)
    parser.add_argument(
        "--lease", type=float, default=None, help="INTERLINK_JOB_LEASE_SECONDS (default: 60, 15 with kills)"
    )
    parser.add_argument("--second-pull", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--database-url", default=None, help="default: a scratch PostgreSQL database on 127.0.0.1")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    options = parser.parse_args()
    companies = math.ceil(options.contacts / options.per_company)
    total = companies + companies * options.per_company
    lease = options.lease or (15.0 if options.kills else 60.0)

    work = Path(tempfile.mkdtemp(prefix="interlink-bench-jobs-"))
    database_url, scratch = options.database_url, None
    if database_url is None:
        database_url = scratch = scratch_postgres()
    redis.Redis.from_url(options.redis_url).flushdb()
    schema.upgrade(database_url)
    print(f"records         {companies:,} companies + {companies * options.per_company:,} contacts in HubSpot")
    print(f"database        {database_url.split('@')[-1]}  broker {options.redis_url}")

    simulators = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "bench" / "jobs_simulators.py"),
            "--companies",
            str(companies),
            "--per-company",
            str(options.per_company),
            "--accelo-limit",
            str(options.accelo_limit),
            "--accelo-window",
            str(options.accelo_window),
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert simulators.stdout is not None
    urls = json.loads(simulators.stdout.readline())
    print(
        f"simulators      seeded in {urls['seeded_seconds']}s; HubSpot 100 calls/10 s, "
        f"Accelo {options.accelo_limit:,} requests/{options.accelo_window} s; the job's share {options.share:.0%}"
    )
    settings = Settings(
        database_url=database_url,
        broker_url=options.redis_url,
        secret_key=SECRET,
        data_dir=work,
        public_base_url="http://interlink.bench",
    )
    web = Database(settings, dispatcher=CeleryDispatcher(create_celery_app(settings)))
    workers: list[subprocess.Popen[bytes]] = []
    peaks: dict[str, int] = {"pool": 0, "main": 0}
    try:
        with TestClient(create_app(settings, database=web, embedded_worker=False)) as api:
            headers = connect(api, web, urls)
            workers.append(start_worker(settings, work, options, lease, len(workers)))
            first = run_job(api, headers, web, options, total, workers, peaks, settings, work, lease)
            report = httpx.get(f"{urls['accelo']}/_bench/report", timeout=60).json()
            print_first(first, report, options, peaks, total)
            if options.second_pull:
                httpx.post(f"{urls['accelo']}/_bench/reset-counts", timeout=60)
                second = run_job(api, headers, web, options, total, workers, peaks, settings, work, lease, kills=0)
                again = httpx.get(f"{urls['accelo']}/_bench/report", timeout=60).json()
                totals = second["totals"]
                print(
                    f"second pull     {second['seconds']:.0f}s: created {totals['created']:,}, matched "
                    f"{totals['matched_existing']:,}, unchanged {totals['unchanged']:,}, failed {totals['failed']:,}; "
                    f"Accelo calls {again['accelo']['calls']:,} (reads only), records still "
                    f"{again['accelo']['contacts']:,} contacts / {again['accelo']['companies']:,} companies"
                )
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(30)
        os.killpg(simulators.pid, signal.SIGTERM)
        simulators.wait(30)
        web.dispose()
        if scratch is not None:
            drop_scratch(scratch)


# -- setting up ------------------------------------------------------------------------------------------------


def scratch_postgres() -> str:
    from sqlalchemy import create_engine, text

    name = f"interlink_bench_jobs_{uuid.uuid4().hex[:6]}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_scratch(url: str) -> None:
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[-1]
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def connect(api: TestClient, db: Database, urls: dict[str, str]) -> dict[str, str]:
    with db.transaction() as session:
        workspace = workspaces.create_workspace(session, "Bench", slug="bench")
        token = workspaces.create_token(session, workspace, "bench").token
    headers = {"Authorization": f"Bearer {token}"}
    bodies = {
        "hubspot": {
            "system": "hubspot",
            "portal_id": DEFAULT_PORTAL_ID,
            "access_token": DEFAULT_PRIVATE_APP_TOKEN,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "app_id": DEFAULT_APP_ID,
            "base_url": urls["hubspot"],
        },
        "accelo": {
            "system": "accelo",
            "deployment": "bench",
            "client_id": "interlink-service@simulator.accelo.com",
            "access_token": DEFAULT_ACCESS_TOKEN,
            "access_token_expires_at": time.time() + 30 * 86400,
            "webhook_secret": DEFAULT_WEBHOOK_SECRET,
            "base_url": urls["accelo"],
        },
    }
    for system, body in bodies.items():
        response = api.put(f"/api/v1/connections/{system}", json=body, headers=headers)
        response.raise_for_status()
    for object_type, field in (("company", "name"), ("contact", "email")):
        rule = {"object_type": object_type, "direction": "pull", "condition": {"field": field, "op": "is_set"}}
        api.post("/api/v1/sync-rules", json=rule, headers=headers).raise_for_status()
    return headers


def start_worker(
    settings: Settings, work: Path, options: argparse.Namespace, lease: float, index: int
) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INTERLINK_")},
        "INTERLINK_DATABASE_URL": settings.database_url,
        "INTERLINK_BROKER_URL": str(settings.broker_url),
        "INTERLINK_SECRET_KEY": SECRET,
        "INTERLINK_DATA_DIR": str(work),
        "INTERLINK_LOG_LEVEL": "WARNING",
        "INTERLINK_POLL_INTERVAL_SECONDS": "3600",  # no polling: this measures the job
        "INTERLINK_JOB_LEASE_SECONDS": str(lease),
        "INTERLINK_JOB_SWEEP_INTERVAL_SECONDS": "5",
        "INTERLINK_TEST_ACCELO_BUDGET": json.dumps(
            {"requests_per_window": options.accelo_limit, "window_seconds": options.accelo_window}
        ),
        "PYTHONPATH": str(REPO),
    }
    log = (work / f"worker-{index}.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "interlink",
            "worker",
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            f"bench{index}@%h",
            "--include",
            "tests.jobs.worker_budget",
            "--beat",
            "--schedule",
            str(work / f"beat-{index}"),
        ],  # fmt: skip
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


# -- running -----------------------------------------------------------------------------------------------------


def run_job(
    api: TestClient,
    headers: dict[str, str],
    db: Database,
    options: argparse.Namespace,
    total: int,
    workers: list[subprocess.Popen[bytes]],
    peaks: dict[str, int],
    settings: Settings,
    work: Path,
    lease: float,
    *,
    kills: int | None = None,
) -> dict[str, Any]:
    kills = options.kills if kills is None else kills
    body = {"kind": "pull", "object_type": "both", "share": options.share}
    response = api.post("/api/v1/jobs", json=body, headers=headers)
    response.raise_for_status()
    job_id = response.json()["id"]
    started = time.monotonic()
    targets = [(n + 1) / (kills + 1) for n in range(kills)]
    last_print = 0.0
    while True:
        view = api.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        measure_memory(workers[-1].pid, peaks)
        scanned = view["totals"]["scanned"]
        if targets and scanned >= targets[0] * total and held(db, job_id):
            os.killpg(workers[-1].pid, signal.SIGKILL)
            workers[-1].wait(10)
            print(f"  killed the worker at {scanned:,} records scanned ({time.monotonic() - started:.0f}s)")
            targets.pop(0)
            workers.append(start_worker(settings, work, options, lease, len(workers)))
        if view["status"] in {"completed", "failed", "cancelled"}:
            break
        if time.monotonic() - last_print > 30:
            progress = view["progress"]
            print(
                f"  {time.monotonic() - started:5.0f}s  {progress['stage']} {progress['object_type'] or ''}  "
                f"{scanned:,}/{progress['total_estimate'] or '?'}  {progress['rate_per_second'] or 0:.0f}/s  "
                f"ETA {progress['eta_seconds'] or 0:.0f}s"
            )
            last_print = time.monotonic()
        time.sleep(0.5)
    view["seconds"] = time.monotonic() - started
    if view["status"] != "completed":
        raise SystemExit(f"the job ended {view['status']}: {view['error']}")
    return dict(view)


def held(db: Database, job_id: str) -> bool:
    from interlink.models.job import Job

    with db.transaction() as session:
        job = session.get(Job, uuid.UUID(job_id))
        return job is not None and job.claim_token is not None


def measure_memory(worker_pid: int, peaks: dict[str, int]) -> None:
    """Peak resident memory (VmHWM) of the worker's main process and of its pool process (which runs tasks)."""
    for pid in [worker_pid, *children_of(worker_pid)]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
        role = "main" if pid == worker_pid else "pool"
        peaks[role] = max(peaks[role], hwm)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def print_first(
    view: dict[str, Any], report: dict[str, Any], options: argparse.Namespace, peaks: dict[str, int], total: int
) -> None:
    totals = view["totals"]
    accelo, hubspot = report["accelo"], report["hubspot"]
    accelo_calls = int(accelo["rate_limit"]["counted"])
    hubspot_calls = int(hubspot["rate_limit"]["stats"]["accepted"]) + sum(
        hubspot["rate_limit"]["stats"]["rejected"].values()
    )
    accelo_quota = options.share * options.accelo_limit
    hubspot_quota = options.share * 100
    fastest_accelo = (math.ceil(accelo_calls / accelo_quota) - 1) * options.accelo_window
    fastest_hubspot = (math.ceil(hubspot_calls / hubspot_quota) - 1) * 10
    fastest = max(fastest_accelo, fastest_hubspot)
    seconds = view["seconds"]
    print(
        f"first pull      {view['status']} in {seconds:.0f}s ({total / seconds:,.0f} records/s); "
        f"restarts after a dead worker: {view['restarts']}"
    )
    print(
        f"  outcomes      created {totals['created']:,}, matched existing {totals['matched_existing']:,}, "
        f"linked {totals['linked']:,} of {totals['scanned']:,} scanned; failed {totals['failed']:,}"
    )
    print(
        f"  Accelo        {accelo['contacts']:,} contacts, {accelo['companies']:,} companies; emails twice "
        f"{accelo['emails_twice']}, missing {accelo['emails_missing']}; company names twice "
        f"{accelo['names_twice']}, missing {accelo['names_missing']}"
    )
    print(f"  calls         Accelo {accelo_calls:,} ({accelo_calls / total:.2f} per record), HubSpot {hubspot_calls:,}")
    print(
        f"  rate limits   fastest allowed at the job's share: Accelo {fastest_accelo:.0f}s "
        f"({accelo_calls:,} calls, {accelo_quota:,.0f} per {options.accelo_window} s), HubSpot {fastest_hubspot:.0f}s "
        f"({hubspot_calls:,} calls, {hubspot_quota:.0f} per 10 s)"
    )
    if not options.kills:
        print(
            f"  wall time     {seconds:.0f}s = {seconds / fastest:.3f} x the minimum the limits allow ({fastest:.0f}s)"
        )
    print(
        f"  429s          answered by Accelo {accelo['rate_limit']['rejected']}, by HubSpot "
        f"{sum(hubspot['rate_limit']['stats']['rejected'].values())}; in the job's failed count: {totals['failed']}"
    )
    print(
        f"  most in any window  Accelo {accelo['rate_limit']['max_in_any_window']:,} (limit {options.accelo_limit:,}), "
        f"HubSpot {hubspot['rate_limit']['stats']['peak']} (limit 100)"
    )
    print(
        f"  peak memory   worker pool process {peaks['pool'] / 1024:.0f} MB, worker main process "
        f"{peaks['main'] / 1024:.0f} MB (VmHWM)"
    )


if __name__ == "__main__":
    main()
