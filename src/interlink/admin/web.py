"""What every admin page shares: who is signed in, CSRF checks, rendering, redirects and flash messages."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from interlink.admin import auth
from interlink.admin import charts as charts
from interlink.admin.auth import Principal
from interlink.config import Settings
from interlink.deps import SessionDep
from interlink.errors import InterlinkError, NotFound
from interlink.kit.time import utc_now

HERE = Path(__file__).parent
SESSION_COOKIE = "interlink_admin"
SIGN_IN_CSRF_COOKIE = "interlink_admin_signin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """No valid session: the handler sends the browser to the sign-in page (and back here afterwards)."""


class CsrfRefused(Exception):
    """A form came back without the token of the session that rendered it."""


# -- templates and static files ----------------------------------------------------------------------------


def _static_versions() -> dict[str, str]:
    versions = {}
    for path in (HERE / "static").iterdir():
        if path.is_file():
            versions[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    return versions


def _when(value: datetime | None) -> str:
    if value is None:
        return "never"
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(value: datetime | None) -> str:
    if value is None:
        return "never"
    seconds = (utc_now() - value).total_seconds()
    if seconds < 60:
        return "just now" if seconds < 5 else f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _value(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value) or "(empty)"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


STATE_LABELS = {
    "in_sync": "In sync",
    "needs_review": "Needs review",
    "failed": "Failed",
    "paused": "Paused",
    "waiting": "Waiting",
    "closed": "Closed",
}


def _state(value: str) -> str:
    return STATE_LABELS.get(value, value.replace("_", " ").capitalize())


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters.update(when=_when, ago=_ago, duration=_duration, value=_value, state=_state)
templates.globals.update(charts=charts, STATE_LABELS=STATE_LABELS)
STATIC_VERSIONS = _static_versions()


def base_path(request: Request) -> str:
    """Where the admin app is mounted (``/admin``)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def url(request: Request, path: str, **query: Any) -> str:
    params = {k: v for k, v in query.items() if v not in (None, "")}
    return base_path(request) + path + (("?" + urlencode(params)) if params else "")


# -- who is signed in ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WorkspaceView:
    name: str
    slug: str


@dataclass(frozen=True)
class _UserView:
    email: str


@dataclass(frozen=True)
class PrincipalView:
    """What the layout shows of the signed-in user, detached from the database (for error pages, which render
    after the request's transaction has been rolled back)."""

    workspace: _WorkspaceView
    user: _UserView
    csrf_token: str


def current_principal(request: Request, session: SessionDep) -> Principal:
    principal = auth.resolve_session(session, request.cookies.get(SESSION_COOKIE))
    if principal is None:
        raise SignInRequired()
    request.state.principal_view = PrincipalView(
        workspace=_WorkspaceView(name=principal.workspace.name, slug=principal.workspace.slug),
        user=_UserView(email=principal.user.email),
        csrf_token=principal.csrf_token,
    )
    # End the transaction at once (it may have noted last_seen_at): a page that calls a vendor must not hold the
    # database while the vendor client stores a refreshed token in a transaction of its own.
    session.commit()
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def csrf_protect(request: Request, principal: PrincipalDep) -> None:
    """Every state-changing request carries the session's CSRF token (form field, or header for scripts)."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, principal.csrf_token):
        raise CsrfRefused()


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def secure_cookies(request: Request) -> bool:
    return settings_of(request).public_base_url.startswith("https://")


# -- rendering -----------------------------------------------------------------------------------------------


@dataclass
class Page:
    """What the layout needs besides the page's own context."""

    title: str
    nav: str
    principal: Principal | PrincipalView | None = None
    flashes: list[dict[str, str]] = field(default_factory=list)


def render(
    request: Request,
    template: str,
    *,
    title: str,
    nav: str = "",
    session: Session | None = None,
    principal: Principal | PrincipalView | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    flashes = auth.pop_flash(session, principal) if (session is not None and isinstance(principal, Principal)) else []
    page = Page(title=title, nav=nav, principal=principal, flashes=flashes)
    body = templates.get_template(template).render(
        page=page,
        base=base_path(request),
        static=lambda name: f"{base_path(request)}/static/{name}?v={STATIC_VERSIONS.get(name, '0')}",
        url=lambda path, **query: url(request, path, **query),
        csrf=Markup(  # noqa: S704 - our own token, escaped by quote
            f'<input type="hidden" name="{CSRF_FIELD}" value="{quote(principal.csrf_token) if principal else ""}">'
        ),
        csrf_token=principal.csrf_token if principal else "",
        request_path=request.url.path,
        **context,
    )
    return HTMLResponse(body, status_code=status_code)


def redirect(request: Request, path: str, **query: Any) -> RedirectResponse:
    """After a POST: see the result with a GET (303), so a reload does not send the form again."""
    return RedirectResponse(url(request, path, **query), status_code=303)


def flash(session: Session, principal: Principal, message: str, kind: str = "success") -> None:
    auth.push_flash(session, principal, kind, message)


def actor(principal: Principal) -> str:
    return principal.user.email


@contextmanager
def attempt(session: Session) -> Iterator[list[InterlinkError]]:
    """Run a service call in a savepoint; a domain error rolls back only that call and is handed to the page
    (to show next to the form), instead of failing the request."""
    errors: list[InterlinkError] = []
    savepoint = session.begin_nested()
    try:
        yield errors
    except InterlinkError as exc:
        savepoint.rollback()
        if isinstance(exc, NotFound):
            raise  # not this workspace's, or gone: a 404 page, not a message on some other page
        errors.append(exc)
    else:
        if savepoint.is_active:
            savepoint.commit()


def problem_fields(error: InterlinkError) -> dict[str, str]:
    """A validation error's per-field messages (``details`` as the services give them), for showing next to
    each input."""
    details = error.details
    items = details if isinstance(details, list) else [details] if isinstance(details, dict) else []
    found: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict) and item.get("field"):
            text = str(item.get("message") or error.message)
            if item.get("fix"):
                text += f" — {item['fix']}"
            found.setdefault(str(item["field"]), text)
    return found
