"""Sign in and sign out. The sign-in form is protected by a double-submit token (a cookie and a hidden field
that must match), since there is no session yet to hold one."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from interlink.admin import auth, web
from interlink.admin.auth import SESSION_ABSOLUTE, SignInRefused
from interlink.deps import SessionDep

router = APIRouter()
LAST_WORKSPACE_COOKIE = "interlink_admin_workspace"


def _safe_next(request: Request, target: str | None) -> str:
    """Only a path inside the admin UI: never an open redirect to somewhere else."""
    base = web.base_path(request)
    if target and target.startswith(base + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return base + "/"


def _form(request: Request, *, error: str | None, workspace: str, email: str, next_url: str) -> HTMLResponse:
    token = request.cookies.get(web.SIGN_IN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = web.render(
        request,
        "sign_in.html",
        title="Sign in",
        status_code=401 if error else 200,
        error=error,
        workspace=workspace,
        email=email,
        next_url=next_url,
        sign_in_token=token,
    )
    response.set_cookie(
        web.SIGN_IN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=web.secure_cookies(request),
        path=web.base_path(request) or "/",
    )
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None, workspace: str | None = None) -> HTMLResponse:
    return _form(
        request,
        error=None,
        workspace=workspace or request.cookies.get(LAST_WORKSPACE_COOKIE, ""),
        email="",
        next_url=_safe_next(request, next),
    )


@router.post("/sign-in")
def sign_in(
    request: Request,
    session: SessionDep,
    workspace: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    sign_in_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    cookie = request.cookies.get(web.SIGN_IN_CSRF_COOKIE)
    if not cookie or not sign_in_token or not secrets.compare_digest(cookie, sign_in_token):
        raise web.CsrfRefused()
    target = _safe_next(request, next)
    if not (workspace.strip() and email.strip() and password):
        return _form(
            request,
            error="Fill in the workspace, your email and your password.",
            workspace=workspace,
            email=email,
            next_url=target,
        )
    try:
        signed_in = auth.sign_in(session, workspace, email, password, user_agent=request.headers.get("user-agent"))
    except SignInRefused as refused:
        # No exception leaves the request, so the failed attempt it counted is committed with it.
        message = refused.message[:1].upper() + refused.message[1:]
        return _form(request, error=message, workspace=workspace, email=email, next_url=target)
    response = RedirectResponse(target, status_code=303)
    path = web.base_path(request) or "/"
    response.set_cookie(
        web.SESSION_COOKIE,
        signed_in.token,
        max_age=int(SESSION_ABSOLUTE.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=web.secure_cookies(request),
        path=path,
    )
    response.set_cookie(
        LAST_WORKSPACE_COOKIE,
        workspace.strip().lower(),
        max_age=90 * 86400,
        httponly=True,
        samesite="lax",
        secure=web.secure_cookies(request),
        path=path,
    )
    response.delete_cookie(web.SIGN_IN_CSRF_COOKIE, path=path)
    return response


@router.post("/sign-out", dependencies=[Depends(web.csrf_protect)])
def sign_out(request: Request, session: SessionDep, principal: web.PrincipalDep) -> Response:
    auth.sign_out(session, request.cookies.get(web.SESSION_COOKIE))
    response = RedirectResponse(web.url(request, "/sign-in", workspace=principal.workspace.slug), status_code=303)
    response.delete_cookie(web.SESSION_COOKIE, path=web.base_path(request) or "/")
    return response
