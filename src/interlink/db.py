"""Engines, sessions and the transaction boundary.

The edge owns the transaction: a request dependency or a task opens ``Database.transaction()``, which
commits or rolls back; services only ``flush()``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from interlink.worker.enqueue import (
    DropDispatcher,
    JobDispatcher,
    discard_pending_jobs,
    take_pending_jobs,
)

if TYPE_CHECKING:
    from interlink.config import Settings

log = logging.getLogger(__name__)

IMMEDIATE_OPTION = "interlink_immediate"


def create_db_engine(url: URL | str, *, pool_size: int = 10) -> Engine:
    from sqlalchemy.engine import make_url

    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _make_sqlite_transactional(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


def _make_sqlite_transactional(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions: DEFERRED by default, IMMEDIATE on request.

    A deferred transaction that reads and then writes fails at once with "database is locked" when another
    writer committed in between, so the busy write paths (intake, claims, outcomes) ask for IMMEDIATE and
    queue for the write lock up front. Everything else stays deferred: a transaction that holds the write
    lock would block even the reads of a nested one in the same thread (a token store), forever.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine, one session factory, the settings they came from, and the dispatcher that receives jobs
    after commit. Tasks receive this object, so it is all a task needs to reach the database."""

    def __init__(self, settings: Settings, *, dispatcher: JobDispatcher | None = None, pool_size: int = 10) -> None:
        self.settings = settings
        self.engine = create_db_engine(settings.database_url, pool_size=pool_size)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.dispatcher: JobDispatcher = dispatcher or DropDispatcher()
        event.listen(self.sessionmaker, "after_commit", self._after_commit)
        event.listen(self.sessionmaker, "after_soft_rollback", self._after_rollback)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _after_commit(self, session: Session) -> None:
        jobs = take_pending_jobs(session)
        if not jobs:
            return
        try:
            self.dispatcher.dispatch(jobs)
        except Exception:
            # The transaction is committed; the sweeper re-enqueues anything this failed to send.
            log.exception("could not dispatch %d job(s); the inbox sweeper will retry", len(jobs))

    def _after_rollback(self, session: Session, previous_transaction: Any) -> None:
        # A savepoint rolling back (e.g. a duplicate insert caught) keeps the outer transaction's jobs.
        if previous_transaction.parent is None:
            discard_pending_jobs(session)

    def session(self) -> Session:
        return self.sessionmaker()

    @contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[Session]:
        """A session whose work commits when the block ends and rolls back if it raises. ``immediate``: the
        block is going to write, so on SQLite take the write lock at once (no effect on PostgreSQL)."""
        with self.sessionmaker() as session:
            if immediate and self.is_sqlite:
                session.connection(execution_options={IMMEDIATE_OPTION: True})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
