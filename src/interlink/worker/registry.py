"""Thin, named tasks. A task is a plain function ``(db, **ids)`` registered under a stable dotted name.

The same function runs under Celery (with a broker) or in the embedded worker (without one), and tests call
it directly. Arguments are ids and small values only, never ORM objects. Every task has an expiry, so a
backlog of stale messages cannot pile up behind an outage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from interlink.config import Settings
    from interlink.db import Database

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: Callable[..., Any]
    expires_seconds: float


@dataclass(frozen=True)
class PeriodicSpec:
    """A task run every ``interval(settings)`` seconds by beat (or the embedded scheduler)."""

    task_name: str
    interval: Callable[[Settings], float]
    kwargs: dict[str, Any] = field(default_factory=dict)


TASKS: dict[str, TaskSpec] = {}
PERIODIC: list[PeriodicSpec] = []


def task(name: str, *, expires_seconds: float = 3600.0) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def register(func: Callable[P, R]) -> Callable[P, R]:
        existing = TASKS.get(name)
        if existing is not None and existing.func is not func:
            raise RuntimeError(f"task name {name!r} registered twice")
        TASKS[name] = TaskSpec(name=name, func=func, expires_seconds=expires_seconds)
        return func

    return register


def periodic(task_name: str, interval: Callable[[Settings], float], **kwargs: Any) -> None:
    PERIODIC.append(PeriodicSpec(task_name=task_name, interval=interval, kwargs=kwargs))


def load_tasks() -> None:
    """Import every feature's tasks so the registry is complete; both worker kinds call this first."""
    from interlink import wiring

    wiring.load()


def run_task(db: Database, name: str, kwargs: dict[str, Any]) -> Any:
    spec = TASKS.get(name)
    if spec is None:
        raise LookupError(f"unknown task {name!r}")
    return spec.func(db, **kwargs)
