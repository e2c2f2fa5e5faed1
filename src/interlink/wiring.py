"""The one place that imports every module that registers something: tasks, periodic schedules, inbox
handlers and workspace hooks. Every entry point (app, CLI, Celery, embedded worker) calls ``load()``, so
features plug into shared mechanisms without those mechanisms importing every feature."""

from __future__ import annotations


def load() -> None:
    import interlink.accord.handler
    import interlink.inbox.tasks
    import interlink.jobs.tasks
    import interlink.mappings.defaults
    import interlink.mappings.tasks
    import interlink.sync.handler
    import interlink.sync.polling  # noqa: F401
