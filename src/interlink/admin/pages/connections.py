"""Connect HubSpot (OAuth or a private-app token), Accelo (a service app) and Accord (a signing secret); test
each connection; show the webhook URL to paste into each vendor."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from interlink.admin import auth, web
from interlink.admin.auth import Principal
from interlink.connections import oauth
from interlink.connections import service as connections
from interlink.connections.checks import ConnectionCheck, check_connection
from interlink.connections.registry import connectors_for
from interlink.connections.schemas import CREDENTIAL_MODELS
from interlink.connectors.hubspot.credentials import HUBSPOT_API_BASE_URL
from interlink.db import Database
from interlink.deps import CipherDep, DatabaseDep, SessionDep, SettingsDep
from interlink.errors import ValidationFailed
from interlink.kit.crypto import CredentialCipher
from interlink.models import Connection

router = APIRouter()
guarded = APIRouter(dependencies=[Depends(web.csrf_protect)])
OAUTH_PENDING = "hubspot_oauth"
SYSTEMS = ("hubspot", "accelo", "accord")
NAMES = {"hubspot": "HubSpot", "accelo": "Accelo", "accord": "Accord"}


def _page(
    request: Request,
    session: SessionDep,
    principal: web.PrincipalDep,
    cipher: CipherDep,
    settings: SettingsDep,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    workspace = principal.workspace
    stored = {c.system: c for c in connections.list_connections(session, workspace.id)}
    reads = {
        system: connections.to_read(connection, workspace, cipher, settings.public_base_url)
        for system, connection in stored.items()
    }
    webhooks = {system: connections.webhook_url(system, workspace, settings.public_base_url) for system in SYSTEMS}
    return web.render(
        request,
        "connections.html",
        title="Connections",
        nav="connections",
        session=session,
        principal=principal,
        status_code=status_code,
        connections=reads,
        webhooks=webhooks,
        errors=errors or {},
        values=values or {},
        hubspot_default_base_url=HUBSPOT_API_BASE_URL,
        redirect_uri=_redirect_uri(request, settings.public_base_url),
    )


def _redirect_uri(request: Request, public_base_url: str) -> str:
    return public_base_url + web.base_path(request) + "/connections/hubspot/oauth/callback"


@router.get("/connections")
def connections_page(
    request: Request, session: SessionDep, principal: web.PrincipalDep, cipher: CipherDep, settings: SettingsDep
) -> HTMLResponse:
    return _page(request, session, principal, cipher, settings)


def _pydantic_problems(exc: ValidationError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "form"
        problems.setdefault(name, str(error["msg"]).removeprefix("Value error, "))
    return problems


def _clean(form: dict[str, Any]) -> dict[str, Any]:
    """Blank inputs mean "not given" (for secrets: keep the stored one)."""
    return {key: value.strip() if isinstance(value, str) else value for key, value in form.items() if value != ""}


def _save(
    request: Request,
    session: SessionDep,
    principal: web.PrincipalDep,
    cipher: CipherDep,
    settings: SettingsDep,
    db: DatabaseDep,
    system: str,
    form: dict[str, Any],
) -> Response:
    shown = {k: v for k, v in form.items() if "secret" not in k and "token" not in k}
    try:
        credentials = CREDENTIAL_MODELS[system].model_validate({"system": system, **_clean(form)})
    except ValidationError as exc:
        return _page(
            request,
            session,
            principal,
            cipher,
            settings,
            errors={system: _pydantic_problems(exc)},
            values={system: shown},
            status_code=422,
        )
    with web.attempt(session) as failures:
        connection = connections.save_connection(session, principal.workspace, credentials, cipher)
    if failures:
        return _page(
            request,
            session,
            principal,
            cipher,
            settings,
            errors={system: {"form": failures[0].message, **web.problem_fields(failures[0])}},
            values={system: shown},
            status_code=failures[0].status_code,
        )
    check = _saved_then_checked(session, principal, connection, db, cipher)
    web.flash(session, principal, f"{NAMES[system]} saved. {check.message}", "success" if check.ok else "error")
    return web.redirect(request, "/connections")


def _saved_then_checked(
    session: Session, principal: Principal, connection: Connection, db: Database, cipher: CredentialCipher
) -> ConnectionCheck:
    """Commit the new credentials first: the vendor clients keep their tokens in the connection row and read and
    write it in transactions of their own, which must see it (and, on SQLite, must not wait on this one)."""
    session.commit()
    return check_connection(
        session, principal.workspace, connection.system, connectors_for(db), cipher, connection=connection
    )


@guarded.post("/connections/hubspot/token")
def save_hubspot_token(
    request: Request,
    session: SessionDep,
    principal: web.PrincipalDep,
    cipher: CipherDep,
    settings: SettingsDep,
    db: DatabaseDep,
    portal_id: Annotated[str, Form()] = "",
    access_token: Annotated[str, Form()] = "",
    client_secret: Annotated[str, Form()] = "",
    app_id: Annotated[str, Form()] = "",
    rate_limit_tier: Annotated[str, Form()] = "starter",
    base_url: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "portal_id": portal_id,
        "auth_type": "private_app",
        "access_token": access_token,
        "client_secret": client_secret,
        "app_id": app_id,
        "rate_limit_tier": rate_limit_tier,
        "base_url": base_url.rstrip("/"),
    }
    return _save(request, session, principal, cipher, settings, db, "hubspot", form)


@guarded.post("/connections/hubspot/oauth")
def start_hubspot_oauth(
    request: Request,
    session: SessionDep,
    principal: web.PrincipalDep,
    cipher: CipherDep,
    settings: SettingsDep,
    db: DatabaseDep,
    client_id: Annotated[str, Form()] = "",
    client_secret: Annotated[str, Form()] = "",
    app_id: Annotated[str, Form()] = "",
    base_url: Annotated[str, Form()] = "",
) -> Response:
    """Remember the app (its secret encrypted) and a one-time state with this session, then go to HubSpot."""
    problems = {}
    if not client_id.strip():
        problems["client_id"] = "the app's client id is needed"
    if not client_secret.strip():
        problems["client_secret"] = "the app's client secret is needed"  # noqa: S105 - a message
    if app_id.strip() and not app_id.strip().isdigit():
        problems["app_id"] = "the app id is a number"
    base = (base_url.strip() or HUBSPOT_API_BASE_URL).rstrip("/")
    if not base.startswith(("https://", "http://")):
        problems["base_url"] = "must start with https://"
    if problems:
        values = {"oauth_client_id": client_id, "oauth_app_id": app_id, "oauth_base_url": base_url}
        return _page(
            request,
            session,
            principal,
            cipher,
            settings,
            errors={"hubspot_oauth": problems},
            values={"hubspot": values},
            status_code=422,
        )
    state = secrets.token_urlsafe(24)
    pending: dict[str, Any] = {
        "client_id": client_id.strip(),
        "client_secret": client_secret.strip(),
        "app_id": int(app_id) if app_id.strip() else None,
        "base_url": base,
    }
    auth.remember(session, principal, OAUTH_PENDING, {"state": state, "app": cipher.encrypt(pending)})
    target = oauth.authorize_url(
        connectors_for(db),
        base_url=base,
        client_id=pending["client_id"],
        client_secret=pending["client_secret"],
        redirect_uri=_redirect_uri(request, settings.public_base_url),
        state=state,
    )
    return RedirectResponse(target, status_code=303)


@router.get("/connections/hubspot/oauth/callback")
def finish_hubspot_oauth(
    request: Request,
    session: SessionDep,
    principal: web.PrincipalDep,
    cipher: CipherDep,
    settings: SettingsDep,
    db: DatabaseDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    pending = auth.take(session, principal, OAUTH_PENDING)
    if error:
        web.flash(session, principal, f"HubSpot did not connect: {error_description or error}", "error")
        return web.redirect(request, "/connections")
    if not isinstance(pending, dict) or not state or not secrets.compare_digest(str(pending.get("state")), state):
        web.flash(
            session,
            principal,
            "That HubSpot authorization did not start here (or was already used). Start again with "
            "“Continue to HubSpot”.",
            "error",
        )
        return web.redirect(request, "/connections")
    if not code:
        raise ValidationFailed("HubSpot sent no authorization code")
    app = cipher.decrypt(str(pending["app"]))
    with web.attempt(session) as failures:
        connection = oauth.complete(
            session,
            principal.workspace,
            cipher,
            connectors_for(db),
            code=code,
            redirect_uri=_redirect_uri(request, settings.public_base_url),
            base_url=app["base_url"],
            client_id=app["client_id"],
            client_secret=app["client_secret"],
            app_id=app.get("app_id"),
        )
    if failures:
        web.flash(session, principal, failures[0].message, "error")
    else:
        check = _saved_then_checked(session, principal, connection, db, cipher)
        web.flash(
            session,
            principal,
            f"HubSpot account {connection.external_account_id} connected with OAuth. {check.message}",
            "success" if check.ok else "error",
        )
    return web.redirect(request, "/connections")


@guarded.post("/connections/accelo")
def save_accelo(
    request: Request,
    session: SessionDep,
    principal: web.PrincipalDep,
    cipher: CipherDep,
    settings: SettingsDep,
    db: DatabaseDep,
    deployment: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    client_secret: Annotated[str, Form()] = "",
    webhook_secret: Annotated[str, Form()] = "",
    base_url: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "deployment": deployment.lower(),
        "auth_type": "service",
        "client_id": client_id,
        "client_secret": client_secret,
        "webhook_secret": webhook_secret,
        "base_url": base_url.rstrip("/"),
    }
    return _save(request, session, principal, cipher, settings, db, "accelo", form)


@guarded.post("/connections/accord")
def save_accord(
    request: Request,
    session: SessionDep,
    principal: web.PrincipalDep,
    cipher: CipherDep,
    settings: SettingsDep,
    db: DatabaseDep,
    signing_secret: Annotated[str, Form()] = "",
    account_id: Annotated[str, Form()] = "",
) -> Response:
    form = {"signing_secret": signing_secret, "account_id": account_id}
    return _save(request, session, principal, cipher, settings, db, "accord", form)


@guarded.post("/connections/{system}/test")
def test_connection(
    request: Request, system: str, session: SessionDep, principal: web.PrincipalDep, cipher: CipherDep, db: DatabaseDep
) -> Response:
    if system not in SYSTEMS:
        raise ValidationFailed(f"unknown system {system!r}")
    check = check_connection(session, principal.workspace, system, connectors_for(db), cipher)
    web.flash(session, principal, f"{NAMES[system]}: {check.message}", "success" if check.ok else "error")
    return web.redirect(request, "/connections")


@guarded.post("/connections/{system}/disconnect")
def disconnect(request: Request, system: str, session: SessionDep, principal: web.PrincipalDep) -> Response:
    if system not in SYSTEMS:
        raise ValidationFailed(f"unknown system {system!r}")
    connection = connections.get_by_system(session, principal.workspace.id, system)
    connections.delete_connection(session, principal.workspace.id, connection.id)
    web.flash(session, principal, f"{NAMES[system]} disconnected. Its stored credentials are deleted.")
    return web.redirect(request, "/connections")


router.include_router(guarded)
