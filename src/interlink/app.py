"""The FastAPI application factory."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interlink import __version__, wiring
from interlink.admin.app import create_admin_app
from interlink.api import api_router, webhooks_router
from interlink.config import Settings, load_settings
from interlink.db import Database
from interlink.errors import InterlinkError
from interlink.health import router as health_router
from interlink.kit.crypto import CredentialCipher
from interlink.logging import configure_logging, request_id_var
from interlink.metrics import DatabaseCollector
from interlink.worker.embedded import EmbeddedWorker

log = logging.getLogger("interlink.http")

REQUEST_ID_HEADER = "x-request-id"


class RequestContextMiddleware:
    """Gives every request an id (the caller's ``X-Request-ID`` or a new one), echoes it, and writes the
    access log line. Pure ASGI, so the context variable is set for everything the request runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming[:100] if incoming.isprintable() and incoming else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_code = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status_code, response_started
            if message["type"] == "http.response.start":
                status_code, response_started = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Handled here rather than by an app-level handler, which Starlette runs outside this
            # middleware, after the request id is gone.
            log.exception("unhandled error")
            if response_started:
                raise
            message = f"an internal error occurred (request id {request_id})"
            response = JSONResponse(error_body("internal_error", message), status_code=500)
            await response(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status_code,
                (time.perf_counter() - started) * 1000,
            )
            request_id_var.reset(token)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InterlinkError)
    async def interlink_error(_request: Request, exc: InterlinkError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(exc.to_body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(part) for part in error["loc"] if part != "body") or "body",
                "message": error["msg"],
                "type": error["type"],
            }
            for error in exc.errors()
        ]
        if any(problem["type"] == "json_invalid" for problem in problems):
            return JSONResponse(error_body("bad_request", "the request body is not valid JSON", problems), 400)
        summary = "; ".join(f"{problem['field']}: {problem['message']}" for problem in problems[:5])
        return JSONResponse(error_body("validation_error", summary, problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        code = codes.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    embedded_worker: bool | None = None,
) -> FastAPI:
    """Build the app. With no broker configured, the embedded worker runs inside the server process
    (``embedded_worker=False`` turns it off, e.g. for a web-only replica or API tests)."""
    settings = settings or load_settings()
    wiring.load()
    db = database or Database(settings)
    run_embedded = settings.uses_embedded_worker if embedded_worker is None else embedded_worker
    worker = EmbeddedWorker(db, settings) if run_embedded else None
    if settings.broker_url is not None and worker is None:
        from interlink.worker.celery_app import CeleryDispatcher, create_celery_app

        db.dispatcher = CeleryDispatcher(create_celery_app(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if database is None:
                db.dispose()

    app = FastAPI(
        title="Interlink",
        version=__version__,
        summary="Two-way HubSpot <-> Accelo sync, and Accord -> HubSpot deal pushes.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.embedded_worker = worker
    app.state.cipher = CredentialCipher(settings.secret_keys())
    app.state.metrics_registry = CollectorRegistry(auto_describe=False)  # no DB query at registration
    app.state.metrics_registry.register(DatabaseCollector(db))
    app.add_middleware(RequestContextMiddleware)
    _install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(api_router)
    app.include_router(webhooks_router)
    app.mount("/admin", create_admin_app(settings, db, app.state.cipher))
    return app


def app_factory() -> FastAPI:
    """Entry point for ``uvicorn --factory interlink.app:app_factory``."""
    settings = load_settings()
    configure_logging(level=settings.log_level, json_lines=settings.json_logs)
    return create_app(settings)
