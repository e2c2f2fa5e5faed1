"""Helpers for the admin UI tests: admin users, signing in through the real form, reading tokens from pages."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.routing import Mount, Route
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


def admin_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the admin sub-app serves, the path relative to /admin. FastAPI keeps included routers
    unflattened; their effective routes carry the full path, prefixes and all."""
    (mount,) = [route for route in app.routes if isinstance(route, Mount) and route.path == "/admin"]
    found: set[tuple[str, str]] = set()
    for route in mount.routes:
        if isinstance(route, Route):
            found.update((method, route.path) for method in route.methods or ())
        for context in getattr(route, "effective_route_contexts", list)():
            if isinstance(context.original_route, Route):
                found.update((method, context.path) for method in context.original_route.methods or ())
    found -= {(method, path) for method, path in set(found) if method == "HEAD"}  # Starlette adds HEAD to GET
    return sorted(found)


PATH_VALUES = {"object_type": "contact", "direction": "pull", "system": "hubspot"}


def concrete(path: str, **values: str) -> str:
    """An admin route's path with its parameters filled in: known words, the given values, a fresh id otherwise."""
    known = {**PATH_VALUES, **values}
    return "/admin" + re.sub(r"\{(\w+)\}", lambda match: known.get(match.group(1), str(uuid.uuid4())), path)
