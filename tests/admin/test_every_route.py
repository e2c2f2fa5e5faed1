"""Checks over every route of the admin app, read from its router, so a page or form added later is covered without
anyone remembering to: every form refuses a post without its CSRF token; every page loads its assets from
Interlink alone, under a CSP that allows nothing else; every URL naming a record by id answers 404 for another
workspace's record, and changes nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from fastapi import FastAPI
from sqlalchemy import inspect
from starlette.testclient import TestClient

from interlink.db import Database
from interlink.models import FieldMapping, Job, Link, Model
from tests.admin.support import PATH_VALUES, Admin, admin_routes, concrete, csrf
from tests.fixtures.factories import create_tenant

ORIGIN = "http://testserver"  # where the TestClient's pages come from


# -- CSRF ------------------------------------------------------------------------------------------------------


def test_every_form_refuses_a_post_without_its_csrf_token(signed_in: TestClient, app: FastAPI) -> None:
    posts = [path for method, path in admin_routes(app) if method == "POST"]
    assert len(posts) >= 20, posts
    token = csrf(signed_in)
    for path in posts:
        for sent in ({}, {"csrf_token": token[:-2] + "xx", "sign_in_token": "forged"}):
            response = signed_in.post(concrete(path), data=sent)
            assert response.status_code == 403, (path, sent, response.status_code)
            assert "This form has expired" in response.text or path == "/sign-in", path
    assert signed_in.get("/admin/").status_code == 200  # refused, and still signed in


# -- assets and the CSP ------------------------------------------------------------------------------------------

ASSET_ATTRIBUTES = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "form": ("action",),
}


class Assets(HTMLParser):
    """Every URL a page makes the browser load (or post to) by itself; links people click are not assets."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for attribute in ASSET_ATTRIBUTES.get(tag, ()):
            value = values.get(attribute)
            if value is None:
                continue
            candidates = [part.strip().split(" ")[0] for part in value.split(",")] if attribute == "srcset" else [value]
            self.urls.extend((tag, candidate) for candidate in candidates if candidate)
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", values.get("style") or ""):
            self.urls.append((tag, url))

    def handle_data(self, data: str) -> None:
        for url in re.findall(r"@import\s+(?:url\()?['\"]?([^'\")\s;]+)|url\(\s*['\"]?([^'\")]+)", data):
            self.urls.append(("style", url[0] or url[1]))


def is_interlinks(page_url: str, tag: str, url: str) -> bool:
    if url.startswith("data:"):
        return tag == "img"  # the CSP allows data: images, nothing else
    resolved = urlsplit(urljoin(page_url, url))
    return f"{resolved.scheme}://{resolved.netloc}" == ORIGIN


def assert_csp_allows_only_interlink(policy: str) -> None:
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives.get("default-src") == ["'self'"], policy
    for name, sources in directives.items():
        allowed = {"'self'", "'none'"} | ({"data:"} if name == "img-src" else set())
        assert set(sources) <= allowed, f"{name} lets the browser load from {set(sources) - allowed}"


def test_every_page_loads_its_assets_from_interlink_alone(
    signed_in: TestClient, app: FastAPI, db: Database, admin: Admin
) -> None:
    ours = add_records(db, admin.workspace.id)
    pages = [path for method, path in admin_routes(app) if method == "GET"]
    assert len(pages) >= 12, pages
    static: set[str] = set()
    for path in pages:
        response = signed_in.get(concrete(path, **{key: str(value) for key, value in ours.items()}))
        if response.is_redirect:  # the OAuth callback without a pending authorization goes back to its page
            response = signed_in.get(response.headers["location"])
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        if not response.headers["content-type"].startswith("text/html"):
            continue
        assert_csp_allows_only_interlink(response.headers["content-security-policy"])
        parser = Assets()
        parser.feed(response.text)
        assert any(tag == "script" for tag, _ in parser.urls), f"{path}: no script found; is the parser blind?"
        page_url = str(response.url)
        foreign = [(tag, url) for tag, url in parser.urls if not is_interlinks(page_url, tag, url)]
        assert not foreign, f"{path} loads from elsewhere: {foreign}"
        static.update(
            urljoin(page_url, url)
            for tag, url in parser.urls
            if tag in {"script", "link", "img"} and "data:" not in url
        )
    assert static, "no stylesheet or script found on any page"
    for url in sorted(static):
        asset = signed_in.get(url)
        assert asset.status_code == 200, url  # served by Interlink itself
        assert "content-security-policy" in asset.headers
        for found in re.findall(r"(?:@import|url\()\s*['\"]?(https?:)?//", asset.text):
            raise AssertionError(f"{url} loads something from another host ({found})")


# -- one workspace's admin cannot reach another's records by URL -------------------------------------------------


def add_records(db: Database, workspace_id: uuid.UUID, marker: str = "Ours") -> dict[str, uuid.UUID]:
    """One of each thing an admin URL names by id, in ``workspace_id``: {path parameter: id}."""
    with db.transaction() as session:
        link = Link(
            workspace_id=workspace_id,
            object_type="contact",
            hubspot_id="4242",
            accelo_id="77",
            state="needs_review",
            flagged=True,
            snapshot={"firstname|firstname": f"{marker} Secret"},
            field_states={},
        )
        job = Job(workspace_id=workspace_id, kind="pull", object_types=["contact"], filter=None, dry_run=True)
        mapping = FieldMapping(
            workspace_id=workspace_id,
            object_type="contact",
            hubspot_property=f"{marker.lower()}_secret_property",
            accelo_field="profile:9",
            direction="both",
            conflict_policy="latest",
            value_map=None,
        )
        session.add_all([link, job, mapping])
        session.flush()
        return {"link_id": link.id, "job_id": job.id, "mapping_id": mapping.id}


MODELS: dict[str, type[Model]] = {"link_id": Link, "job_id": Job, "mapping_id": FieldMapping}


def rows(db: Database, ids: dict[str, uuid.UUID]) -> dict[str, dict[str, Any]]:
    with db.transaction() as session:
        found = {}
        for name, record_id in ids.items():
            record = session.get(MODELS[name], record_id)
            assert record is not None
            found[name] = {column.key: getattr(record, column.key) for column in inspect(record).mapper.column_attrs}
        return found


def test_no_url_opens_or_changes_another_workspaces_record(
    signed_in: TestClient, app: FastAPI, db: Database, admin: Admin
) -> None:
    other = create_tenant(db, "Other Co")
    theirs = add_records(db, other.workspace.id, marker="Theirs")
    before = rows(db, theirs)
    by_id = [
        (method, path) for method, path in admin_routes(app) if set(re.findall(r"\{(\w+)\}", path)) - set(PATH_VALUES)
    ]
    assert len(by_id) >= 10, by_id
    token = csrf(signed_in)
    form = {
        "csrf_token": token,
        "field": "firstname|firstname",
        "keep": "hubspot",
        "other_id": "99",
        "prefer": "hubspot",
        "direction": "to_hubspot",
        "conflict_policy": "hubspot_wins",
        "enabled": "",
        "back": "",
    }
    request: dict[str, Callable[..., Any]] = {"GET": signed_in.get, "POST": signed_in.post}
    for method, path in by_id:
        names = set(re.findall(r"\{(\w+)\}", path)) - set(PATH_VALUES)
        unknown = names - set(theirs)
        assert not unknown, f"{path}: add a record for {unknown} to add_records, so this URL is checked"
        url = concrete(path, **{name: str(theirs[name]) for name in names})
        response = request[method](url, **({"data": form} if method == "POST" else {}))
        assert response.status_code == 404, (method, path, response.status_code)
        assert "Theirs" not in response.text, (method, path)
        assert "theirs_secret" not in response.text, (method, path)
    assert rows(db, theirs) == before
