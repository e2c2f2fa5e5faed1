"""The HTTP edge: health, readiness, the error envelope, request ids and JSON logs, OpenAPI, and the transaction
boundary."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from interlink.app import create_app
from interlink.config import Environment, Settings
from interlink.db import Database
from interlink.deps import SessionDep
from interlink.logging import configure_logging
from interlink.models import Link, Workspace
from tests.fixtures.database import make_settings
from tests.fixtures.factories import create_tenant


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "worker": "ok"}


def test_readyz_polled_by_a_load_balancer_keeps_the_logs_quiet(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            assert client.get("/readyz").status_code == 200
    server_lines = [r for r in caplog.records if r.levelno >= logging.INFO and not r.name.startswith("httpx")]
    # one access line per probe, and nothing else (no migration-context set-up on every probe)
    assert [record.name for record in server_lines] == ["interlink.http"] * 3


def test_readyz_reports_an_unreachable_database(tmp_path: Path) -> None:
    settings = make_settings("postgresql://nobody@127.0.0.1:1/nowhere", tmp_path)
    with TestClient(create_app(settings, embedded_worker=False)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "not_ready"
    assert error["details"]["database"].startswith("unreachable:")
    assert "database: unreachable" in error["message"]


def test_readyz_reports_missing_migrations(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    with TestClient(create_app(settings, embedded_worker=False)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "interlink migrate" in response.json()["error"]["details"]["migrations"]


def test_readyz_reports_an_unreachable_broker(settings: Settings, db: Database, tmp_path: Path) -> None:
    broken = make_settings(settings.database_url, tmp_path, broker_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(broken, database=db, embedded_worker=False)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["details"]["worker"].startswith("broker unreachable")


def test_readyz_with_the_embedded_worker_running(settings: Settings, db: Database) -> None:
    with TestClient(create_app(settings, database=db, embedded_worker=True)) as client:
        assert client.get("/readyz").json()["checks"]["worker"] == "ok"


def test_unknown_route_uses_the_error_envelope(client: TestClient) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found", "details": None}}


def test_malformed_json_is_a_400_with_the_reason(client: TestClient, tenant_headers: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/tokens", content=b"{not json", headers={**tenant_headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert "not valid JSON" in response.json()["error"]["message"]


def test_invalid_fields_are_a_422_naming_the_field(client: TestClient, tenant_headers: dict[str, str]) -> None:
    response = client.post("/api/v1/tokens", json={"name": ""}, headers=tenant_headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "name"


def test_request_id_is_echoed_or_made_and_reaches_the_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    from interlink.logging import RequestIdFilter

    handler_filter = RequestIdFilter()
    caplog.handler.addFilter(handler_filter)
    with caplog.at_level(logging.INFO, logger="interlink.http"):
        given = client.get("/healthz", headers={"X-Request-ID": "req-abc-123"})
        made = client.get("/healthz")
    assert given.headers["x-request-id"] == "req-abc-123"
    assert len(made.headers["x-request-id"]) == 32
    access = [record for record in caplog.records if record.name == "interlink.http"]
    assert [record.request_id for record in access] == ["req-abc-123", made.headers["x-request-id"]]  # type: ignore[attr-defined]


def test_unexpected_errors_are_json_with_the_request_id(settings: Settings, db: Database) -> None:
    app = create_app(settings, database=db, embedded_worker=False)
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "trace-me"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "trace-me" in response.json()["error"]["message"]
    assert "kaboom" not in response.text


def test_the_transaction_commits_before_the_response_is_sent(settings: Settings, db: Database) -> None:
    """A write that cannot commit must not be answered with a 2xx."""
    app: FastAPI = create_app(settings, database=db, embedded_worker=False)
    router = APIRouter()

    @router.post("/twice")
    def twice(session: SessionDep) -> dict[str, str]:
        session.add(Workspace(slug="same", name="one", options={}))
        session.add(Workspace(slug="same", name="two", options={}))
        return {"status": "written"}  # the unique violation only surfaces at commit

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/twice")
    assert response.status_code == 500
    with db.transaction() as session:
        assert session.query(Workspace).filter_by(slug="same").count() == 0


def test_openapi_documents_every_api_route_behind_the_bearer_token(app: FastAPI, client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert "/openapi.json" in docs.text
    spec = client.get("/openapi.json").json()
    bearer = [
        name
        for name, scheme in spec["components"]["securitySchemes"].items()
        if (scheme["type"], scheme.get("scheme")) == ("http", "bearer")
    ]
    assert len(bearer) == 1, spec["components"]["securitySchemes"]
    api_routes = sorted(
        (path, method.lower())
        for path, route in served_routes(app)
        if path.startswith("/api/v1/") and route.include_in_schema
        for method in route.methods
    )
    assert len(api_routes) >= 30, api_routes
    for path, method in api_routes:
        operation = spec["paths"].get(path, {}).get(method)
        assert operation is not None, f"{method.upper()} {path} is missing from /openapi.json"
        assert operation.get("security") == [{bearer[0]: []}], f"{method.upper()} {path} has no bearer security"


def served_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every API route with the full path it is served at (FastAPI keeps included routers unflattened)."""
    for route in app.routes:
        if isinstance(route, APIRoute):
            yield route.path, route
        for context in getattr(route, "effective_route_contexts", list)():
            if isinstance(context.original_route, APIRoute):
                yield context.path, context.original_route


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging replaces the root handlers (pytest's capture among them); put everything back."""
    root = logging.getLogger()
    touched = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery")]
    touched += [logging.getLogger(name) for name in ("httpx", "httpcore", "alembic.runtime.plugins")]
    saved = [(log, list(log.handlers), log.level, log.propagate, log.disabled) for log in [root, *touched]]
    yield
    for log, handlers, level, propagate, disabled in saved:
        log.handlers[:] = handlers
        log.setLevel(level)
        log.propagate, log.disabled = propagate, disabled


def test_in_production_every_line_a_request_logs_is_json_with_its_request_id(
    settings: Settings, db: Database, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    """Installed as `interlink serve` installs it. The request (retrying a failed record) makes the app's own
    modules log too: the database layer cannot hand the follow-up to an unreachable broker, and says so."""
    tenant = create_tenant(db, "Logged")
    with db.transaction() as session:
        link = Link(
            workspace_id=tenant.workspace.id,
            object_type="contact",
            hubspot_id="101",
            accelo_id="202",
            state="failed",
            flagged=True,
            snapshot={},
            field_states={},
        )
        session.add(link)
        session.flush()
        link_id = link.id
    # model_copy skips the production checks that refuse SQLite; the logging does not depend on the database.
    production = settings.model_copy(
        update={"environment": Environment.production, "broker_url": "redis://127.0.0.1:1/0"}
    )
    assert production.json_logs
    configure_logging(level=production.log_level, json_lines=production.json_logs)
    capsys.readouterr()
    with TestClient(create_app(production, embedded_worker=False)) as client:
        response = client.post(
            f"/api/v1/links/{link_id}/retry", headers={**tenant.headers, "X-Request-ID": "retry-4242"}
        )
    assert response.status_code == 200, response.text
    output = capsys.readouterr().err
    entries = [json.loads(line) for line in output.splitlines()]  # every line is one JSON object
    of_request = [entry for entry in entries if entry["request_id"] == "retry-4242"]
    loggers = {entry["logger"] for entry in of_request}
    assert {"interlink.http", "interlink.db"} <= loggers, entries
    (access,) = [entry for entry in of_request if entry["logger"] == "interlink.http"]
    assert access["message"].startswith(f"POST /api/v1/links/{link_id}/retry 200")
    (dispatch,) = [entry for entry in of_request if entry["logger"] == "interlink.db"]
    assert "the inbox sweeper will retry" in dispatch["message"]
    assert dispatch["level"] == "error"
    assert tenant.token not in output
