"""Helpers for the admin UI tests: admin users, signing in through the real form, reading tokens from pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.testclient import TestClient

from interlink.admin import auth
from interlink.db import Database
from interlink.models import Workspace

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Admin:
    email: str
    password: str
    workspace: Workspace


def create_admin(db: Database, workspace: Workspace, email: str = "admin@example.com") -> Admin:
    with db.transaction() as session:
        auth.create_user(session, workspace, email, PASSWORD)
    return Admin(email=email, password=PASSWORD, workspace=workspace)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} in the page"
    return found.group(1)


def sign_in(client: TestClient, admin: Admin, *, password: str | None = None) -> object:
    page = client.get("/admin/sign-in")
    assert page.status_code == 200
    return client.post(
        "/admin/sign-in",
        data={
            "workspace": admin.workspace.slug,
            "email": admin.email,
            "password": password if password is not None else admin.password,
            "sign_in_token": hidden(page.text, "sign_in_token"),
            "next": "/admin/",
        },
        follow_redirects=False,
    )


def csrf(client: TestClient, path: str = "/admin/") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    return hidden(page.text, "csrf_token")
