"""The `interlink` command as a user runs it: a real subprocess, real exit codes, real stderr."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from interlink import schema
from interlink.cli import main
from interlink.config import Settings
from interlink.db import Database, create_db_engine
from interlink.models import Model
from interlink.worker import registry
from interlink.worker.celery_app import QUEUE
from tests.fixtures.database import TEST_SECRET_KEY, create_scratch_postgres, drop_scratch_postgres, unique_suffix
from tests.fixtures.services import TEST_DATABASE_URL, require_postgres, require_redis
from tests.support.servers import free_port
from tests.support.waiting import wait_for


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("INTERLINK_") or k.startswith("INTERLINK_TEST_")}
    return subprocess.run(
        [sys.executable, "-m", "interlink", *args],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"INTERLINK_DATABASE_URL": "::not-a-url::"}, "INTERLINK_DATABASE_URL is not a valid database URL"),
        ({"INTERLINK_ENVIRONMENT": "production"}, "INTERLINK_SECRET_KEY must be set to a random value"),
        (
            {"INTERLINK_ENVIRONMENT": "production", "INTERLINK_SECRET_KEY": "change-me"},
            "INTERLINK_SECRET_KEY must be set to a random value",
        ),
    ],
)
def test_bad_configuration_exits_with_one_line_and_no_traceback(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("serve", "--prot", "8000"), "No such option: --prot"),
        (("serve", "--port", "eighty"), "'--port'"),
        (("sreve",), "No such command 'sreve'"),
    ],
)
def test_a_mistyped_command_is_a_usage_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    with pytest.raises(SystemExit) as exited:  # main() as the console script calls it, in-process: it is quicker
        main(list(args))
    assert exited.value.code == 2
    printed = capsys.readouterr()
    assert expected in printed.err
    assert "Try 'interlink" in printed.err  # where to look next
    assert "Traceback" not in printed.err + printed.out


def test_unmigrated_database_is_explained(tmp_path: Path) -> None:
    result = run_cli("workspaces", "list", cwd=tmp_path)
    assert result.returncode == 1
    assert "interlink migrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_worker_without_a_broker_says_what_to_do(tmp_path: Path) -> None:
    result = run_cli("worker", cwd=tmp_path)
    assert result.returncode == 1
    assert "INTERLINK_BROKER_URL is not set" in result.stderr


def test_workspace_and_token_created_by_the_cli_work_on_the_api(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    env = {"INTERLINK_DATABASE_URL": settings.database_url, "INTERLINK_SECRET_KEY": TEST_SECRET_KEY}
    created = run_cli("workspaces", "create", "Acme Field Services", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert "acme-field-services" in created.stdout

    issued = run_cli("tokens", "create", "--workspace", "acme-field-services", env=env, cwd=tmp_path)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("il_")

    from interlink.app import create_app

    with TestClient(create_app(settings, database=db, embedded_worker=False)) as client:
        response = client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.json()["slug"] == "acme-field-services"

    duplicate = run_cli("workspaces", "create", "Other", "--slug", "acme-field-services", env=env, cwd=tmp_path)
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr

    missing = run_cli("tokens", "create", "--workspace", "nobody", env=env, cwd=tmp_path)
    assert missing.returncode == 1
    assert "no workspace 'nobody'" in missing.stderr


# -- the commands docker-compose runs: migrate, serve, beat ------------------------------------------------


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind this run uses (PostgreSQL when configured, as in production)."""
    if TEST_DATABASE_URL:
        url = create_scratch_postgres(TEST_DATABASE_URL, f"cli_{unique_suffix()}")
        yield url
        drop_scratch_postgres(url)
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"


def tables_and_revision(url: str) -> tuple[set[str], str | None]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names()) - {"alembic_version"}, schema.current_revision(connection)
    finally:
        engine.dispose()


def test_migrate_makes_the_schema_then_does_nothing_then_goes_down(fresh_database_url: str, tmp_path: Path) -> None:
    env = {"INTERLINK_DATABASE_URL": fresh_database_url, "INTERLINK_SECRET_KEY": TEST_SECRET_KEY}
    first = run_cli("migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "database at the latest revision" in first.stdout
    assert "Running upgrade" in first.stderr
    assert tables_and_revision(fresh_database_url) == (set(Model.metadata.tables), schema.head_revision())

    again = run_cli("migrate", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Running upgrade" not in again.stderr  # already at head: nothing to run
    assert tables_and_revision(fresh_database_url) == (set(Model.metadata.tables), schema.head_revision())

    down = run_cli("migrate", "base", "--downgrade", env=env, cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert "Running downgrade" in down.stderr
    assert tables_and_revision(fresh_database_url) == (set(), None)


@contextmanager
def running(*args: str, env: dict[str, str], cwd: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`interlink ARGS` in the background, its output in a file; stopped with SIGTERM as a supervisor does."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("INTERLINK_") or k.startswith("INTERLINK_TEST_")}
    log_path = cwd / f"{args[0]}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "interlink", *args],
            env={**base, **env},
            cwd=cwd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, log_path
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.TransportError:
        return None


def stop(process: subprocess.Popen[bytes], log_path: Path, *, exit_codes: tuple[int, ...] = (0,)) -> str:
    """SIGTERM, as `docker compose stop` sends; the process must finish what it does and exit, without a traceback."""
    process.terminate()
    code = process.wait(20)
    log = log_path.read_text(errors="replace")
    assert code in exit_codes, log[-3000:]
    assert "Traceback" not in log
    return log


def stop_server(process: subprocess.Popen[bytes], log_path: Path) -> None:
    # uvicorn shuts down gracefully, then re-raises the signal so its exit status says what stopped it.
    log = stop(process, log_path, exit_codes=(0, -signal.SIGTERM))
    assert "Application shutdown complete" in log


def test_serve_answers_health_and_readiness_on_its_port(settings: Settings, tmp_path: Path) -> None:
    """The one-process default: no broker, so the embedded worker runs in the server."""
    port = free_port()
    env = {
        "INTERLINK_DATABASE_URL": settings.database_url,
        "INTERLINK_SECRET_KEY": TEST_SECRET_KEY,
        "INTERLINK_DATA_DIR": str(tmp_path),
    }
    with running("serve", "--port", str(port), env=env, cwd=tmp_path) as (process, log_path):
        healthz = wait_for(lambda: get(f"http://127.0.0.1:{port}/healthz"), what="interlink serve to listen")
        assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})
        readyz = httpx.get(f"http://127.0.0.1:{port}/readyz")
        assert readyz.status_code == 200, readyz.text
        assert readyz.json()["checks"] == {"database": "ok", "migrations": "ok", "worker": "ok"}
        stop_server(process, log_path)


def test_serve_in_production_logs_json_lines_with_the_request_id(settings: Settings, tmp_path: Path) -> None:
    """What docker-compose's web service runs: production settings, PostgreSQL, a broker, no embedded worker."""
    require_postgres()
    broker = require_redis()
    port = free_port()
    env = {
        "INTERLINK_ENVIRONMENT": "production",
        "INTERLINK_DATABASE_URL": settings.database_url,
        "INTERLINK_BROKER_URL": broker,
        "INTERLINK_SECRET_KEY": TEST_SECRET_KEY,
        "INTERLINK_DATA_DIR": str(tmp_path),
    }
    with running("serve", "--port", str(port), env=env, cwd=tmp_path) as (process, log_path):
        wait_for(lambda: get(f"http://127.0.0.1:{port}/healthz"), what="interlink serve to listen")
        readyz = httpx.get(f"http://127.0.0.1:{port}/readyz", headers={"X-Request-ID": "compose-web-1"})
        assert readyz.status_code == 200, readyz.text
        assert readyz.json()["checks"]["worker"] == "ok"  # the broker answered
        assert readyz.headers["x-request-id"] == "compose-web-1"
        stop_server(process, log_path)
    entries = [json.loads(line) for line in log_path.read_text().splitlines()]  # nothing but JSON lines
    of_request = [entry for entry in entries if entry["request_id"] == "compose-web-1"]
    (access,) = [entry for entry in of_request if entry["logger"] == "interlink.http"]
    assert access["message"].startswith("GET /readyz 200")
    assert [entry["logger"] for entry in of_request][-1] == "interlink.http"  # the access line closes the request


def queued_tasks(broker: str) -> list[str]:
    """The names of the task messages waiting in Interlink's queue on the broker."""
    client = redis.Redis.from_url(broker)
    try:
        return [json.loads(message)["headers"]["task"] for message in client.lrange(QUEUE, 0, -1)]
    finally:
        client.close()


def test_beat_sends_the_periodic_tasks_to_the_broker_and_stops_cleanly(broker_url: str, tmp_path: Path) -> None:
    env = {
        "INTERLINK_BROKER_URL": broker_url,
        "INTERLINK_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",  # beat never opens it
        "INTERLINK_SECRET_KEY": TEST_SECRET_KEY,
        "INTERLINK_DATA_DIR": str(tmp_path),
        "INTERLINK_INBOX_SWEEP_INTERVAL_SECONDS": "0.5",
    }
    with running("beat", env=env, cwd=tmp_path) as (process, log_path):
        # Every half second, the inbox sweep is put on the queue the workers listen to (no worker runs here).
        wait_for(lambda: queued_tasks(broker_url).count("inbox.sweep") >= 2, what="beat to send the inbox sweep twice")
        stop(process, log_path)
    registry.load_tasks()
    assert set(queued_tasks(broker_url)) <= {spec.task_name for spec in registry.PERIODIC}
