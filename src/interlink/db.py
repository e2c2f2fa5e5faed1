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

DEFERRED_OPTION = "interlink_deferred"


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
    """Let SQLAlchemy, not pysqlite, begin transactions: IMMEDIATE, except read-only ones.

    A deferred transaction that reads and then writes fails at once with "database is locked" when another
    writer committed in between, so transactions take the write lock up front and writers queue (up to the
    busy timeout). ``Database.reading()`` begins DEFERRED: in WAL mode a reader never waits, which lets a
    lookup run while the same thread's outer transaction holds the write lock (a token store read during a
    vendor call); an IMMEDIATE one there would wait for its own thread.
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
        deferred = connection.get_execution_options().get(DEFERRED_OPTION)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


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
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits when the block ends and rolls back if it raises."""
        with self.sessionmaker() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session: never takes SQLite's write lock, and its transaction is rolled back."""
        with self.sessionmaker() as session:
            if self.is_sqlite:
                session.connection(execution_options={DEFERRED_OPTION: True})
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()
