"""Background work: registered tasks, enqueue-after-commit, Celery and the embedded worker."""

from interlink.worker.enqueue import enqueue_job
from interlink.worker.registry import periodic, task

__all__ = ["enqueue_job", "periodic", "task"]
