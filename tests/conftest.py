from __future__ import annotations

import pytest

from tests.fixtures.services import REQUIRE_SERVICES, TEST_DATABASE_URL, TEST_REDIS_URL

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.app", "tests.fixtures.celery", "tests.fixtures.world"]


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = "PostgreSQL (INTERLINK_TEST_DATABASE_URL)" if TEST_DATABASE_URL else "SQLite (embedded default)"
    redis = "Redis (INTERLINK_TEST_REDIS_URL)" if TEST_REDIS_URL else "none: Celery worker tests skip"
    required = "required" if REQUIRE_SERVICES else "optional"
    return [f"interlink: database {database}; broker {redis}; services {required}"]


@pytest.fixture
def tenant(db):  # type: ignore[no-untyped-def]
    from tests.fixtures.factories import create_tenant

    return create_tenant(db, "Tenant A")


@pytest.fixture
def tenant_headers(tenant) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return tenant.headers
