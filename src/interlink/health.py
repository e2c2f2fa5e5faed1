"""Liveness, readiness and metrics. ``/healthz``: the process answers. ``/readyz``: the database is reachable and
migrated, and the worker side is reachable (the broker, or the embedded worker's threads)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from interlink.db import Database
from interlink.schema import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus exposition: process counters, plus inbox lag and link states read from the database."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from interlink.metrics import registry

    body = generate_latest(registry) + generate_latest(request.app.state.metrics_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/readyz", summary="Ready to serve: database, migrations and worker side reachable")
def readyz(request: Request) -> JSONResponse:
    db: Database = request.app.state.db
    checks: dict[str, str] = {}
    ready = True
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
            revision, head = current_revision(connection), head_revision()
            if revision == head:
                checks["migrations"] = "ok"
            else:
                ready = False
                checks["migrations"] = f"at {revision or 'nothing'}, code expects {head}: run `interlink migrate`"
    except Exception as exc:
        ready = False
        checks["database"] = f"unreachable: {_one_line(exc)}"
    broker_ok, checks["worker"] = _worker_check(request)
    ready = ready and broker_ok
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    failing = ", ".join(f"{name}: {state}" for name, state in checks.items() if state != "ok")
    body: dict[str, Any] = {"error": {"code": "not_ready", "message": failing, "details": checks}}
    return JSONResponse(body, status_code=503)


def _worker_check(request: Request) -> tuple[bool, str]:
    settings = request.app.state.settings
    if settings.broker_url is None:
        worker = request.app.state.embedded_worker
        if worker is None:
            return True, "ok"  # this process runs no worker by choice (tests, a web-only replica)
        return (True, "ok") if worker.alive else (False, "embedded worker is not running")
    import redis

    client = redis.Redis.from_url(settings.broker_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        return True, "ok"
    except Exception as exc:
        return False, f"broker unreachable: {_one_line(exc)}"
    finally:
        client.close()


def _one_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
