"""Prometheus metrics at ``/metrics``, through the standard client library.

Counters and histograms are process-wide; with several worker processes, each exports its own (scrape them
all, or run the multiprocess collector). Gauges that describe the database (inbox lag, records by link state)
are read from it at scrape time, so any web replica reports the truth.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from interlink.db import Database
from interlink.kit.time import utc_now
from interlink.models import InboundEvent, Link

log = logging.getLogger(__name__)

registry = CollectorRegistry(auto_describe=True)

EVENTS_RECEIVED = Counter(
    "interlink_events_received_total", "Webhook events accepted into the inbox", ["source"], registry=registry
)
EVENTS_DUPLICATE = Counter(
    "interlink_events_duplicate_total", "Webhook events dropped as redeliveries", ["source"], registry=registry
)
EVENTS_PROCESSED = Counter(
    "interlink_events_processed_total",
    "Inbox events processed, by outcome: done, ignored, failed (gave up), retried (sent back with a backoff)",
    ["source", "outcome"],
    registry=registry,
)
VENDOR_CALLS = Counter(
    "interlink_vendor_calls_total", "Calls to vendor APIs", ["vendor", "route", "status"], registry=registry
)
RATE_LIMITED = Counter("interlink_vendor_rate_limited_total", "429 answers from vendors", ["vendor"], registry=registry)
SYNC_LATENCY = Histogram(
    "interlink_sync_latency_seconds",
    "From an event's arrival in the inbox (a webhook, or a change a poll found) to the write in the other system",
    ["source"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
    registry=registry,
)


_AFTER_COMMIT = "interlink.metrics.after_commit"


def after_commit(session: Session, record: Callable[[], None]) -> None:
    """Call ``record`` once ``session``'s transaction commits; a rollback drops it. For counting what happened
    (an event finished) rather than what was attempted in a transaction that may still roll back."""
    pending: list[Callable[[], None]] | None = session.info.get(_AFTER_COMMIT)
    if pending is None:
        pending = session.info[_AFTER_COMMIT] = []
        event.listen(session, "after_commit", _run_after_commit)
        event.listen(session, "after_soft_rollback", _drop_after_rollback)
    pending.append(record)


def _run_after_commit(session: Session) -> None:
    for record in session.info.pop(_AFTER_COMMIT, []):
        record()
    session.info[_AFTER_COMMIT] = []


def _drop_after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info[_AFTER_COMMIT] = []


def count_processed(session: Session, source: str, outcomes: Tally[str]) -> None:
    """Count finished inbox events by outcome once the transaction that finishes them commits."""

    def record() -> None:
        for outcome, count in outcomes.items():
            EVENTS_PROCESSED.labels(source=source, outcome=outcome).inc(count)

    after_commit(session, record)


def observe_vendor_call(*, vendor: str, route: str, status: int | None, seconds: float) -> None:
    """A ``CallObserver`` for the connectors' VendorHttp."""
    VENDOR_CALLS.labels(vendor=vendor, route=route, status=str(status) if status is not None else "error").inc()
    if status == 429:
        RATE_LIMITED.labels(vendor=vendor).inc()


class DatabaseCollector(Collector):
    """Inbox lag and records by link state, read from the database at scrape time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._collect()
        except SQLAlchemyError as exc:  # /metrics must answer while the database is down; /readyz says why
            log.warning("database metrics unavailable: %s", exc)

    def _collect(self) -> Iterator[Metric]:
        with self.db.session() as session:
            oldest = session.scalar(select(func.min(InboundEvent.received_at)).where(InboundEvent.status == "pending"))
            pending = session.execute(
                select(InboundEvent.source, func.count())
                .where(InboundEvent.status == "pending")
                .group_by(InboundEvent.source)
            ).all()
            states = session.execute(
                select(Link.object_type, Link.state, func.count()).group_by(Link.object_type, Link.state)
            ).all()
        lag = GaugeMetricFamily("interlink_inbox_lag_seconds", "Age of the oldest pending inbox event")
        lag.add_metric([], (utc_now() - oldest).total_seconds() if oldest else 0.0)
        yield lag
        depth = GaugeMetricFamily("interlink_inbox_pending", "Pending inbox events", labels=["source"])
        for source, count in pending:
            depth.add_metric([source], count)
        yield depth
        links = GaugeMetricFamily("interlink_links", "Records by link state", labels=["object_type", "state"])
        for object_type, state, count in states:
            links.add_metric([object_type, state], count)
        yield links
