"""Helpers for the admin UI tests: admin users, signing in through the real form, reading tokens from pages."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

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


# -- forms, read from a page and sent back as a browser sends them ---------------------------------------------


@dataclass
class Field:
    name: str
    value: str
    element_id: str | None


@dataclass
class Form:
    action: str
    element_id: str | None
    fields: list[Field] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.open: Form | None = None
        self.owned_elsewhere: list[tuple[str, Field]] = []  # inputs with form="id", outside their form
        self.select: tuple[dict[str, str | None], list[tuple[str, bool]]] | None = None
        self.button: list[str] | None = None
        self.textarea: tuple[dict[str, str | None], list[str]] | None = None

    def _add(self, attrs: dict[str, str | None], value: str) -> None:
        if not attrs.get("name"):
            return
        found = Field(str(attrs["name"]), value, attrs.get("id"))
        if attrs.get("form"):
            self.owned_elsewhere.append((str(attrs["form"]), found))
        elif self.open is not None:
            self.open.fields.append(found)

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attr_list)
        if tag == "form":
            self.open = Form(action=str(attrs.get("action") or ""), element_id=attrs.get("id"))
            self.forms.append(self.open)
        elif tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in {"submit", "button", "reset", "image"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self._add(attrs, attrs.get("value") or ("on" if kind in {"checkbox", "radio"} else ""))
        elif tag == "select":
            self.select = (attrs, [])
        elif tag == "option" and self.select is not None:
            self.select[1].append((attrs.get("value") or "", "selected" in attrs))
        elif tag == "textarea":
            self.textarea = (attrs, [])
        elif tag == "button":
            self.button = []

    def handle_data(self, data: str) -> None:
        if self.button is not None:
            self.button.append(data)
        if self.textarea is not None:
            self.textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.open = None
        elif tag == "select" and self.select is not None:
            attrs, options = self.select
            chosen = [value for value, selected in options if selected] or [value for value, _ in options[:1]]
            self._add(attrs, chosen[0] if chosen else "")
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self._add(self.textarea[0], "".join(self.textarea[1]))
            self.textarea = None
        elif tag == "button" and self.button is not None:
            if self.open is not None:
                self.open.buttons.append(" ".join("".join(self.button).split()))
            self.button = None


def forms_in(html: str) -> list[Form]:
    reader = _FormReader()
    reader.feed(html)
    by_id = {form.element_id: form for form in reader.forms if form.element_id}
    for form_id, owned in reader.owned_elsewhere:
        by_id[form_id].fields.append(owned)
    return reader.forms


def submit(
    client: TestClient,
    html: str,
    button: str,
    *,
    near: str | None = None,
    fill: dict[str, str] | None = None,
    choose: dict[str, str] | None = None,
) -> Any:
    """Press the button labelled ``button`` (in the first form from the tag holding ``near``, if given): post the form's
    fields as the page holds them, with ``fill`` (by field name) and ``choose`` (by element id) typed in."""
    page = html[html.rfind("<", 0, html.index(near)) :] if near is not None else html  # from the tag holding it
    matching = [form for form in forms_in(page) if button in form.buttons]
    assert matching, f"no form with a {button!r} button" + (f" after {near!r}" if near else "")
    form = matching[0]
    data: dict[str, list[str]] = {}
    filled = dict(fill or {})
    for entry in form.fields:
        value = (choose or {}).get(entry.element_id or "", entry.value)
        if entry.name in filled:
            value = filled.pop(entry.name)
        data.setdefault(entry.name, []).append(value)
    assert not filled, f"the form has no fields named {sorted(filled)}"
    return client.post(form.action, data=data, follow_redirects=False)
