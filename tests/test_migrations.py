"""Migrations are the only way the schema is made: they must match the models and go down cleanly, on both
databases Interlink runs on. SQLite is checked on every run; PostgreSQL whenever INTERLINK_TEST_DATABASE_URL
is set (and a run with INTERLINK_TEST_REQUIRE_SERVICES=1 fails without it rather than skipping)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from interlink import schema
from interlink.db import create_db_engine
from interlink.models import Model
from tests.fixtures.database import create_scratch_postgres, drop_scratch_postgres, unique_suffix
from tests.fixtures.services import require_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = create_scratch_postgres(require_postgres(), f"migrations_{unique_suffix()}")
    yield url
    drop_scratch_postgres(url)


def tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_matches_the_models_and_downgrade_reaches_base(scratch_url: str) -> None:
    schema.upgrade(scratch_url)
    assert tables(scratch_url) == set(Model.metadata.tables)
    assert schema.schema_drift(scratch_url) == []

    schema.downgrade(scratch_url, "base")
    assert tables(scratch_url) == set()

    schema.upgrade(scratch_url)
    assert schema.schema_drift(scratch_url) == []
