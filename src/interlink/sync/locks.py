"""Per-record locks, so two workers never reconcile (or create) the same record at once.

Keys name records (``<workspace>:contact:hubspot:101``) and match keys of records not linked yet
(``<workspace>:contact:email:ada@example.com``), so two workers holding events for the same new person, even
from opposite systems, serialise instead of both creating a twin. On PostgreSQL these are session advisory
locks on a dedicated connection, shared by every worker process; on SQLite (one process) they are in-process
locks. Keys are always taken in sorted order, so two workers cannot deadlock on each other's keys.
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import text

from interlink.db import Database

_local_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_local_guard = threading.Lock()


def _advisory_key(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


@contextmanager
def hold(db: Database, keys: Iterable[str]) -> Iterator[None]:
    wanted = sorted(set(keys))
    if not wanted:
        yield
        return
    if db.is_sqlite:
        with _local_guard:
            locks = [_local_locks[key] for key in wanted]
        for lock in locks:
            lock.acquire()
        try:
            yield
        finally:
            for lock in reversed(locks):
                lock.release()
        return
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            for key in wanted:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _advisory_key(key)})
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock_all()"))
