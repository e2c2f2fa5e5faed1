"""The worker process's database, created lazily once per process (a forked Celery child gets its own)."""

from __future__ import annotations

import os
import threading

from interlink.config import Settings, get_settings
from interlink.db import Database
from interlink.worker.enqueue import JobDispatcher

_lock = threading.Lock()
_database: Database | None = None
_pid: int | None = None


def worker_database(settings: Settings | None = None, dispatcher: JobDispatcher | None = None) -> Database:
    global _database, _pid
    with _lock:
        if _database is None or _pid != os.getpid():
            settings = settings or get_settings()
            _database = Database(settings, dispatcher=dispatcher)
            _pid = os.getpid()
        return _database


def reset_worker_database() -> None:
    global _database, _pid
    with _lock:
        if _database is not None and _pid == os.getpid():
            _database.dispose()
        _database, _pid = None, None
