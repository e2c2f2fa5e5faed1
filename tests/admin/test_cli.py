"""`interlink users ...` as an operator runs it: a real subprocess, the password on standard input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from starlette.testclient import TestClient

from interlink.db import Database
from tests.admin.support import Admin, sign_in
from tests.fixtures.factories import Tenant


def users(db: Database, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"INTERLINK_DATABASE_URL": db.settings.database_url, "INTERLINK_DATA_DIR": str(db.settings.data_dir)}
    base = {k: v for k, v in os.environ.items() if not k.startswith("INTERLINK_") or k.startswith("INTERLINK_TEST_")}
    return subprocess.run(
        [sys.executable, "-m", "interlink", "users", *args, *(["--password-stdin"] if password is not None else [])],
        env={**base, **env, "INTERLINK_SECRET_KEY": str(db.settings.secret_keys()[0])},
        input=(password or "") + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(db.settings.data_dir),
    )


def test_an_operator_creates_a_user_who_then_signs_in(db: Database, tenant: Tenant, browser_client: TestClient) -> None:
    slug = tenant.workspace.slug
    created = users(db, "create", "--workspace", slug, "grace@acme.example", password="a long enough passphrase")
    assert created.returncode == 0, created.stderr
    assert "grace@acme.example can now sign in" in created.stdout
    weak = users(db, "create", "--workspace", slug, "bob@acme.example", password="short")
    assert weak.returncode == 1
    assert "at least 12 characters" in weak.stderr
    listed = users(db, "list", "--workspace", slug)
    assert listed.stdout.split() == ["grace@acme.example", "ok", "never", "signed", "in"]
    admin = Admin(email="grace@acme.example", password="a long enough passphrase", workspace=tenant.workspace)
    assert sign_in(browser_client, admin).status_code == 303  # type: ignore[attr-defined]
    assert users(db, "disable", "--workspace", slug, "grace@acme.example").returncode == 0
    assert browser_client.get("/admin/").status_code == 303  # signed out at once
