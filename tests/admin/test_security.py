"""The admin UI's security: no page or form without a session, CSRF tokens on every form, one workspace never
sees another's data, passwords and session tokens never stored in clear, lock-out after wrong passwords."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient

from interlink.admin import auth
from interlink.admin.auth import MAX_FAILED_ATTEMPTS
from interlink.db import Database
from interlink.models import AdminSession, AdminUser, Link
from tests.admin.support import PASSWORD, Admin, concrete, create_admin, csrf, hidden, sign_in
from tests.admin.support import admin_routes as support_admin_routes
from tests.fixtures.factories import create_tenant

PUBLIC = {"/sign-in"}


def admin_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the admin sub-app but the sign-in form."""
    return [(method, path) for method, path in support_admin_routes(app) if path not in PUBLIC]


def test_every_page_and_form_sends_a_stranger_to_sign_in(browser_client: TestClient, app: FastAPI) -> None:
    routes = admin_routes(app)
    assert len(routes) >= 30, routes  # every screen and every action is in the list
    for method, path in routes:
        response = browser_client.request(method, concrete(path), data={"csrf_token": "x"})
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/admin/sign-in"), (method, path)


def test_after_sign_in_the_browser_returns_to_the_page_it_asked_for(browser_client: TestClient, admin: Admin) -> None:
    response = browser_client.get("/admin/records?state=failed")
    assert response.headers["location"] == "/admin/sign-in?next=%2Fadmin%2Frecords%3Fstate%3Dfailed"
    page = browser_client.get(response.headers["location"])
    assert hidden(page.text, "next") == "/admin/records?state=failed"
    signed = browser_client.post(
        "/admin/sign-in",
        data={
            "workspace": admin.workspace.slug,
            "email": admin.email,
            "password": PASSWORD,
            "sign_in_token": hidden(page.text, "sign_in_token"),
            "next": "/admin/records?state=failed",
        },
    )
    assert signed.headers["location"] == "/admin/records?state=failed"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/admin/", "/api/v1/workspace"])
def test_sign_in_never_redirects_out_of_the_admin_ui(browser_client: TestClient, admin: Admin, target: str) -> None:
    page = browser_client.get("/admin/sign-in")
    signed = browser_client.post(
        "/admin/sign-in",
        data={
            "workspace": admin.workspace.slug,
            "email": admin.email,
            "password": PASSWORD,
            "sign_in_token": hidden(page.text, "sign_in_token"),
            "next": target,
        },
    )
    assert signed.headers["location"] == "/admin/"


def test_a_form_without_its_csrf_token_is_refused(signed_in: TestClient) -> None:
    token = csrf(signed_in)
    for path in ("/admin/sign-out", "/admin/connections/hubspot/test", "/admin/accord/provision"):
        missing = signed_in.post(path, data={})
        assert missing.status_code == 403, path
        assert "This form has expired" in missing.text
        wrong = signed_in.post(path, data={"csrf_token": token[:-2] + "xx"})
        assert wrong.status_code == 403, path
    still_signed_in = signed_in.get("/admin/")
    assert still_signed_in.status_code == 200
    assert signed_in.post("/admin/sign-out", data={"csrf_token": token}).status_code == 303
    assert signed_in.get("/admin/").status_code == 303


def test_the_sign_in_form_needs_its_own_token(browser_client: TestClient, admin: Admin) -> None:
    browser_client.get("/admin/sign-in")
    forged = browser_client.post(
        "/admin/sign-in",
        data={"workspace": admin.workspace.slug, "email": admin.email, "password": PASSWORD, "sign_in_token": "x"},
    )
    assert forged.status_code == 403


def test_one_workspaces_admin_cannot_open_anothers_records(
    db: Database, browser_client: TestClient, admin: Admin
) -> None:
    other = create_tenant(db, "Other Co")
    with db.transaction() as session:
        theirs = Link(
            workspace_id=other.workspace.id,
            object_type="contact",
            hubspot_id="42",
            accelo_id="7",
            state="needs_review",
            flagged=True,
            snapshot={"firstname|firstname": "Secret"},
            field_states={},
        )
        session.add(theirs)
        session.flush()
        link_id = theirs.id
    sign_in(browser_client, admin)
    token = csrf(browser_client)
    page = browser_client.get(f"/admin/records/{link_id}")
    assert page.status_code == 404
    assert "Secret" not in page.text
    assert admin.workspace.name in page.text  # the error page keeps the layout of the signed-in user
    for action in ("retry", "ignore", "unlink", "resync"):
        response = browser_client.post(f"/admin/records/{link_id}/{action}", data={"csrf_token": token})
        assert response.status_code == 404, action
    assert "No records match" in browser_client.get("/admin/records?q=Secret").text
    assert "Secret" not in browser_client.get("/admin/review").text
    with db.transaction() as session:
        untouched = session.get(Link, link_id)
        assert untouched is not None
        assert (untouched.state, untouched.flagged) == ("needs_review", True)


def test_passwords_and_session_tokens_are_not_stored_in_clear(
    db: Database, browser_client: TestClient, admin: Admin
) -> None:
    sign_in(browser_client, admin)
    cookie = browser_client.cookies.get("interlink_admin")
    assert cookie
    with db.transaction() as session:
        user = session.scalars(select(AdminUser)).one()
        stored = session.scalars(select(AdminSession)).one()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert cookie not in (stored.token_hash, stored.csrf_token)
    assert stored.token_hash == auth.token_hash(cookie)


def test_session_cookies_are_http_only_same_site_and_secure_over_https(
    browser_client: TestClient, admin: Admin, settings: object, db: Database
) -> None:
    response = sign_in(browser_client, admin)
    header = response.headers["set-cookie"]  # type: ignore[attr-defined]
    session_cookie = next(part for part in header.split(", interlink") if "interlink_admin=" in part)
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie
    assert "Path=/admin" in session_cookie
    assert "Secure" not in session_cookie  # http:// public base URL (tests)

    from interlink.app import create_app

    https = create_app(
        settings.model_copy(update={"public_base_url": "https://interlink.example"}),
        database=db,  # type: ignore[attr-defined]
        embedded_worker=False,
    )
    with TestClient(https, base_url="https://interlink.example", follow_redirects=False) as client:
        secure = sign_in(client, admin)
    assert "Secure" in secure.headers["set-cookie"]  # type: ignore[attr-defined]


def test_repeated_wrong_passwords_lock_the_account(db: Database, browser_client: TestClient, admin: Admin) -> None:
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        wrong = sign_in(browser_client, admin, password="wrong password!")
        assert wrong.status_code == 401  # type: ignore[attr-defined]
        assert "not right" in wrong.text  # type: ignore[attr-defined]
    locked = sign_in(browser_client, admin, password="wrong password!")
    assert "locked for 15 more minutes" in locked.text  # type: ignore[attr-defined]
    refused = sign_in(browser_client, admin)  # the right password does not open a locked account
    assert refused.status_code == 401  # type: ignore[attr-defined]
    assert "locked" in refused.text  # type: ignore[attr-defined]
    with db.transaction() as session:
        auth.unlock(session, auth.get_user(session, admin.workspace.id, admin.email))
    assert sign_in(browser_client, admin).status_code == 303  # type: ignore[attr-defined]


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(browser_client: TestClient, admin: Admin) -> None:
    stranger = Admin(email="nobody@acme.example", password=PASSWORD, workspace=admin.workspace)
    unknown = sign_in(browser_client, stranger)
    wrong = sign_in(browser_client, admin, password="wrong password!")
    assert unknown.text.count("not right") == wrong.text.count("not right") == 1  # type: ignore[attr-defined]


def test_pages_carry_security_headers(signed_in: TestClient) -> None:
    page = signed_in.get("/admin/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text  # no inline script: the CSP would block it anyway


def test_a_password_change_signs_the_user_out_everywhere(
    db: Database, browser_client: TestClient, admin: Admin
) -> None:
    sign_in(browser_client, admin)
    assert browser_client.get("/admin/").status_code == 200
    with db.transaction() as session:
        auth.set_password(session, auth.get_user(session, admin.workspace.id, admin.email), "a new long passphrase")
    assert browser_client.get("/admin/").status_code == 303


def test_weak_passwords_and_duplicate_users_are_refused(db: Database, admin: Admin) -> None:
    from interlink.errors import Conflict, ValidationFailed

    with db.transaction() as session, pytest.raises(ValidationFailed, match="at least 12"):
        auth.create_user(session, admin.workspace, "bob@acme.example", "short")
    with db.transaction() as session, pytest.raises(Conflict):
        auth.create_user(session, admin.workspace, admin.email.upper(), PASSWORD)
    other = create_tenant(db, "Elsewhere")
    assert create_admin(db, other.workspace, admin.email).email == admin.email  # one email, two workspaces
