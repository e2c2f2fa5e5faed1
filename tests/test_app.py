"""The HTTP edge: health, readiness, the error envelope, request ids, and the transaction boundary."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from interlink.app import create_app
from interlink.config import Settings
from interlink.db import Database
from interlink.deps import SessionDep
from interlink.models import Workspace
from tests.fixtures.database import make_settings


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "worker": "ok"}


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
