"""The `interlink` command as a user runs it: a real subprocess, real exit codes, real stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from interlink.config import Settings
from interlink.db import Database
from tests.fixtures.database import TEST_SECRET_KEY


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
