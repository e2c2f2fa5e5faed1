"""The embedded worker: Interlink's tasks in threads of the server process, for the no-broker default.

It is the dispatcher for its process's database (jobs arrive after commit), runs the periodic tasks on
their intervals, and starts with a sweep, so events accepted while nothing was running are processed
as soon as the server is back.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING

from interlink.logging import request_id_var
from interlink.worker import registry
from interlink.worker.enqueue import JobDispatcher, JobRequest

if TYPE_CHECKING:
    from interlink.config import Settings
    from interlink.db import Database

log = logging.getLogger(__name__)

_JobKey = tuple[str, tuple[tuple[str, str], ...]]
_QueueItem = tuple[_JobKey, JobRequest, str] | None  # None tells a thread to stop


class EmbeddedWorker:
    def __init__(self, db: Database, settings: Settings, *, threads: int | None = None) -> None:
        self.db = db
        self.settings = settings
        self.thread_count = threads or settings.embedded_worker_threads
        self._queue: queue.Queue[_QueueItem] = queue.Queue()
        self._queued: set[_JobKey] = set()
        self._queued_lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._previous_dispatcher: JobDispatcher | None = None
        self.processed = 0

    # -- JobDispatcher -------------------------------------------------------------------------------
    def dispatch(self, jobs: list[JobRequest]) -> None:
        for job in jobs:
            key = (job.name, tuple(sorted((k, str(v)) for k, v in job.kwargs.items())))
            with self._queued_lock:
                if key in self._queued:  # the same job is already waiting; once is enough
                    continue
                self._queued.add(key)
            self._queue.put((key, job, request_id_var.get()))

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            return
        registry.load_tasks()
        self._previous_dispatcher, self.db.dispatcher = self.db.dispatcher, self
        self._stopping.clear()
        for index in range(self.thread_count):
            thread = threading.Thread(target=self._consume, name=f"interlink-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        scheduler = threading.Thread(target=self._schedule, name="interlink-beat", daemon=True)
        scheduler.start()
        self._threads.append(scheduler)
        log.info("embedded worker started with %d thread(s)", self.thread_count)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        for _ in range(self.thread_count):
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        if self.db.dispatcher is self and self._previous_dispatcher is not None:
            self.db.dispatcher = self._previous_dispatcher

    @property
    def alive(self) -> bool:
        return bool(self._threads) and all(thread.is_alive() for thread in self._threads)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the queue is drained (tests and the demo use it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    # -- threads --------------------------------------------------------------------------------------
    def _consume(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                key, job, request_id = item
                with self._queued_lock:
                    self._queued.discard(key)
                token = request_id_var.set(request_id if request_id != "-" else "task")
                try:
                    registry.run_task(self.db, job.name, job.kwargs)
                    self.processed += 1
                except Exception:
                    log.exception("task %s failed", job.name)
                finally:
                    request_id_var.reset(token)
            finally:
                self._queue.task_done()

    def _schedule(self) -> None:
        next_run = {index: 0.0 for index in range(len(registry.PERIODIC))}
        while not self._stopping.is_set():
            now = time.monotonic()
            for index, spec in enumerate(registry.PERIODIC):
                if now >= next_run[index]:
                    next_run[index] = now + spec.interval(self.settings)
                    self.dispatch([JobRequest(spec.task_name, dict(spec.kwargs))])
            wake = min(next_run.values(), default=now + 1.0)
            self._stopping.wait(max(0.05, min(1.0, wake - time.monotonic())))
