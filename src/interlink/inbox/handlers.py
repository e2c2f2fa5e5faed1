"""Which code handles the inbox events of each source (``hubspot``, ``accelo``, ``accord``).

A handler receives a claimed batch, does its work, and finishes every event with
``interlink.inbox.service.finish_events`` inside the transaction that holds its own writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from interlink.db import Database
    from interlink.inbox.service import ClaimedBatch

EventHandler: TypeAlias = "Callable[[Database, ClaimedBatch], None]"

_HANDLERS: dict[str, EventHandler] = {}


def register(source: str) -> Callable[[EventHandler], EventHandler]:
    def decorator(handler: EventHandler) -> EventHandler:
        _HANDLERS[source] = handler
        return handler

    return decorator


def get(source: str) -> EventHandler | None:
    return _HANDLERS.get(source)
