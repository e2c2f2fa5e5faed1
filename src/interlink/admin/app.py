"""The admin sub-app: mounted at /admin by ``interlink.app.create_app``; HTML pages over the same services
the REST API uses. Its own error handling (HTML pages and redirects, not the API's JSON envelope), and
security headers on every answer: no framing, no inline script, nothing cached."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interlink.admin import web
from interlink.admin.pages import (
    accord,
    connections,
    dashboard,
    jobs,
    mappings,
    records,
    review,
    rules,
    signin,
    statuses,
)
from interlink.config import Settings
from interlink.db import Database
from interlink.errors import InterlinkError
from interlink.kit.crypto import CredentialCipher

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *SECURITY_HEADERS]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def create_admin_app(settings: Settings, db: Database, cipher: CredentialCipher) -> FastAPI:
    app = FastAPI(title="Interlink admin", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.db = db
    app.state.cipher = cipher
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=web.HERE / "static"), name="static")
    for module in (signin, dashboard, connections, mappings, statuses, rules, accord, records, review, jobs):
        app.include_router(module.router)
    _install_error_pages(app)
    return app


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(web.SignInRequired)
    async def sign_in_required(request: Request, _exc: web.SignInRequired) -> Response:
        target = request.url.path
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        response = RedirectResponse(web.url(request, "/sign-in", next=target), status_code=303)
        response.delete_cookie(web.SESSION_COOKIE, path=web.base_path(request) or "/")
        return response

    @app.exception_handler(web.CsrfRefused)
    async def csrf_refused(request: Request, _exc: web.CsrfRefused) -> HTMLResponse:
        return _error_page(
            request,
            403,
            "This form has expired",
            "The page was opened in another session, or too long ago. Go back, reload the page and try again.",
        )

    @app.exception_handler(InterlinkError)
    async def domain_error(request: Request, exc: InterlinkError) -> HTMLResponse:
        titles = {404: "Not found", 409: "That cannot be done now", 422: "That cannot be saved"}
        return _error_page(request, exc.status_code, titles.get(exc.status_code, "Something went wrong"), exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> HTMLResponse:
        if any(error["loc"][:1] == ("path",) for error in exc.errors()):
            return _error_page(request, 404, "Not found", "There is no such page or record in this workspace.")
        fields = ", ".join(str(error["loc"][-1]) for error in exc.errors())
        return _error_page(request, 400, "That request is not complete", f"Missing or invalid: {fields}.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        if exc.status_code == 404:
            return _error_page(request, 404, "Not found", "There is no such page or record in this workspace.")
        return _error_page(request, exc.status_code, "Something went wrong", str(exc.detail))


def _error_page(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    principal = getattr(request.state, "principal_view", None)
    return web.render(request, "error.html", title=title, principal=principal, status_code=status_code, message=message)
