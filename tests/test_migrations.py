"""Migrations are the only way the schema is made: they must match the models and go down cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from interlink import schema
from interlink.db import create_db_engine
from interlink.models import Model
from tests.fixtures.database import create_scratch_postgres, drop_scratch_postgres, unique_suffix
from tests.fixtures.services import TEST_DATABASE_URL


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    if TEST_DATABASE_URL:
        url = create_scratch_postgres(TEST_DATABASE_URL, f"migrations_{unique_suffix()}")
        yield url
        drop_scratch_postgres(url)
    else:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"


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
