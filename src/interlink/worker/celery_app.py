"""The Celery app: used when a broker URL is set (``interlink worker``, ``interlink beat``).

Tasks are acknowledged late and rejected when their worker dies, prefetch is one, and there is no result
backend. Durability does not rest on the broker: the inbox holds every event and the sweeper re-enqueues
what a lost message or a killed worker left behind.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, signals

from interlink.config import Settings, get_settings
from interlink.logging import configure_logging, request_id_var
from interlink.worker import registry
from interlink.worker.enqueue import JobRequest
from interlink.worker.runtime import reset_worker_database, worker_database

log = logging.getLogger(__name__)

QUEUE = "interlink"
REQUEST_ID_KWARG = "_request_id"


class CeleryDispatcher:
    def __init__(self, app: Celery) -> None:
        self.app = app

    def dispatch(self, jobs: list[JobRequest]) -> None:
        request_id = request_id_var.get()
        for job in jobs:
            spec = registry.TASKS[job.name]
            self.app.send_task(
                job.name,
                kwargs={**job.kwargs, REQUEST_ID_KWARG: request_id},
                expires=spec.expires_seconds,
                queue=QUEUE,
            )


def create_celery_app(settings: Settings) -> Celery:
    registry.load_tasks()
    app = Celery("interlink", broker=settings.broker_url or "memory://", set_as_current=False)
    app.conf.update(
        task_default_queue=QUEUE,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 3600},
        # A broker outage must not stall a webhook response; the sweeper re-sends.
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        timezone="UTC",
        enable_utc=True,
        beat_schedule={
            f"{spec.task_name}:{index}": {
                "task": spec.task_name,
                "schedule": spec.interval(settings),
                "kwargs": spec.kwargs,
                "options": {"expires": spec.interval(settings), "queue": QUEUE},
            }
            for index, spec in enumerate(registry.PERIODIC)
        },
    )
    dispatcher = CeleryDispatcher(app)
    for spec in registry.TASKS.values():
        _register(app, spec, settings, dispatcher)
    return app


def _register(app: Celery, spec: registry.TaskSpec, settings: Settings, dispatcher: CeleryDispatcher) -> None:
    def run(**kwargs: Any) -> None:
        token = request_id_var.set(kwargs.pop(REQUEST_ID_KWARG, None) or "task")
        try:
            registry.run_task(worker_database(settings, dispatcher), spec.name, kwargs)
        finally:
            request_id_var.reset(token)

    app.task(name=spec.name, bind=False)(run)


def _setup_logging(**_: Any) -> None:
    settings = get_settings()
    configure_logging(level=settings.log_level, json_lines=settings.json_logs)


def _fresh_database_per_child(**_: Any) -> None:
    reset_worker_database()


# Connecting to setup_logging stops Celery from installing its own handlers over ours.
signals.setup_logging.connect(_setup_logging, weak=False)
signals.worker_process_init.connect(_fresh_database_per_child, weak=False)


_app: Celery | None = None


def get_celery_app() -> Celery:
    global _app
    if _app is None:
        _app = create_celery_app(get_settings())
    return _app


def __getattr__(name: str) -> Any:
    # `celery -A interlink.worker.celery_app` looks for an attribute named `app` or `celery`.
    if name in {"app", "celery"}:
        return get_celery_app()
    raise AttributeError(name)
