"""The database schema is made by Alembic migrations only (in tests too). Helpers for the CLI, tests and
``/readyz``."""

from __future__ import annotations

from functools import lru_cache

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection as SAConnection
from sqlalchemy import inspect, text

from interlink.db import create_db_engine

SCRIPT_LOCATION = "interlink:migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration this code ships (read once: the scripts do not change under a running process)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(connection: SAConnection) -> str | None:
    """The database's migration revision, read from Alembic's version table without setting up a migration
    context (which logs its set-up on every call, and readiness probes call this every few seconds)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    revisions = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if len(revisions) > 1:
        raise RuntimeError(f"the database is at several revisions at once: {', '.join(sorted(revisions))}")
    return revisions[0] if revisions else None


def schema_drift(database_url: str) -> list[object]:
    """What differs between the models and the migrated database (empty when they agree)."""
    from interlink.models import Model

    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Model.metadata))
    finally:
        engine.dispose()
