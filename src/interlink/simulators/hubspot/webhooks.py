"""Webhook deliveries as HubSpot makes them (reference/hubspot-api.md §1).

Every change becomes an event for each matching subscription; events go to every target URL in POSTs of
at most 100, signed with v1 (``X-HubSpot-Signature``, ``X-HubSpot-Signature-Version: v1``) and v3
(``X-HubSpot-Signature-v3`` + ``X-HubSpot-Request-Timestamp`` in ms), computed over the exact bytes sent
and, for v3, the target URL with HubSpot's twelve escapes decoded. A delivery that fails (no connection,
no answer within the timeout, any 4xx or 5xx) is retried up to ``len(retry_delays)`` times (10 by
default, spread over a day like HubSpot's; tests compress the schedule), with ``attemptNumber`` counting
up. ``duplicate`` sends every batch twice; ``out_of_order`` reverses each batch and delays batches by
random amounts so later ones can overtake earlier ones.

The signing here is written independently of the connector's verifier on purpose: the contract tests
check both against HubSpot's published vectors and the official SDK, so a shared mistake cannot hide.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from interlink.simulators.base import Delivery, Verdict, WebhookDeliverer
from interlink.simulators.hubspot.crm import Change
from interlink.simulators.hubspot.schema import OBJECT_TYPE_IDS, SINGULAR

MAX_BATCH = 100
# Up to 10 retries over roughly a day (HubSpot documents the count and the span, not the intervals).
DEFAULT_RETRY_DELAYS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 21600.0, 21600.0, 14400.0)
_DECODE = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ESCAPES = re.compile("|".join(_DECODE), re.IGNORECASE)
KINDS = ("creation", "deletion", "propertyChange", "merge", "restore", "associationChange", "privacyDeletion")


def sign_headers(client_secret: str, url: str, body: bytes, timestamp_ms: int) -> dict[str, str]:
    uri = _ESCAPES.sub(lambda match: _DECODE[match.group(0).upper()], url)
    v1 = hashlib.sha256(client_secret.encode() + body).hexdigest()
    message = b"POST" + uri.encode() + body + str(timestamp_ms).encode()
    v3 = base64.b64encode(hmac.new(client_secret.encode(), message, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature": v1,
        "X-HubSpot-Signature-Version": "v1",
        "X-HubSpot-Signature-v3": v3,
        "X-HubSpot-Request-Timestamp": str(timestamp_ms),
        "X-HubSpot-Timeout-Millis": "10000",
        "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon-executor",
    }


@dataclass
class WebhookSettings:
    urls: list[str] = field(default_factory=list)
    client_secret: str = "sandbox-client-secret"  # noqa: S105 - the sandbox app's public secret
    app_id: int = 424242
    portal_id: int = 1234567
    # subscription types like "contact.propertyChange"; None means every type of contacts, companies, deals.
    subscriptions: list[str] | None = None
    # property names a propertyChange subscription fires for; None means every property.
    properties: list[str] | None = None
    retry_delays: list[float] = field(default_factory=lambda: list(DEFAULT_RETRY_DELAYS))
    timeout: float = 5.0
    duplicate: bool = False
    out_of_order: bool = False
    reorder_window: float = 0.3
    enabled: bool = True


@dataclass
class SentBatch:
    """One batch as delivered (for tests and the control surface)."""

    url: str
    events: list[dict[str, Any]]
    attempts: int
    outcomes: list[str]
    delivered: bool


class WebhookEmitter:
    def __init__(
        self,
        settings: WebhookSettings,
        *,
        client_for: Callable[[str], httpx.Client] | None = None,
        clock: Callable[[], float] = time.time,
        seed: int = 7,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._random = random.Random(seed)
        self._event_ids = itertools.count(1)
        self._default_client: httpx.Client | None = None
        self._client_for = client_for or self._shared_client
        self._lock = threading.Lock()
        self._deliverer = self._new_deliverer()
        self.sent: list[SentBatch] = []
        self.events_emitted = 0

    def _shared_client(self, url: str) -> httpx.Client:
        if self._default_client is None:
            self._default_client = httpx.Client()
        return self._default_client

    def _new_deliverer(self) -> WebhookDeliverer:
        return WebhookDeliverer(
            self._client_for, retry_delays=self.settings.retry_delays, timeout=self.settings.timeout
        )

    def configure(self, **changes: Any) -> WebhookSettings:
        for name, value in changes.items():
            if not hasattr(self.settings, name):
                raise ValueError(f"unknown webhook setting {name!r}")
            setattr(self.settings, name, value)
        if "retry_delays" in changes or "timeout" in changes:
            self._deliverer.retry_delays = list(self.settings.retry_delays)
            self._deliverer.timeout = self.settings.timeout
        return self.settings

    def subscription_types(self) -> list[str]:
        if self.settings.subscriptions is not None:
            return list(self.settings.subscriptions)
        return [
            f"{SINGULAR[kind]}.{action}"
            for kind in SINGULAR
            for action in KINDS
            if not (action == "privacyDeletion" and kind != "contacts")
        ]

    def subscription_ids(self) -> dict[str, int]:
        """A stable id per subscription type (``subscriptionId`` in events)."""
        return {kind: 1000 + index for index, kind in enumerate(sorted(self.subscription_types()))}

    def _event(self, change: Change, subscriptions: dict[str, int]) -> dict[str, Any] | None:
        subscription_type = f"{SINGULAR[change.object_type]}.{change.kind}"
        if subscription_type not in subscriptions:
            return None
        wanted = self.settings.properties
        if change.kind == "propertyChange" and wanted is not None and change.property_name not in wanted:
            return None
        event: dict[str, Any] = {
            "eventId": next(self._event_ids),
            "subscriptionId": subscriptions[subscription_type],
            "portalId": self.settings.portal_id,
            "appId": self.settings.app_id,
            "occurredAt": change.occurred_ms,
            "subscriptionType": subscription_type,
            "attemptNumber": 0,
            "objectId": change.object_id,
            "objectTypeId": OBJECT_TYPE_IDS[change.object_type],
            "changeSource": change.source.change_source,
        }
        if change.source.source_id is not None:
            event["sourceId"] = change.source.source_id
        if change.kind == "propertyChange":
            event["propertyName"] = change.property_name
            event["propertyValue"] = change.property_value or ""
        event.update(change.extra)
        return event

    def emit(self, changes: Sequence[Change]) -> None:
        if not changes or not self.settings.enabled or not self.settings.urls:
            return
        subscriptions = self.subscription_ids()
        events = [event for change in changes if (event := self._event(change, subscriptions)) is not None]
        if not events:
            return
        with self._lock:
            self.events_emitted += len(events)
        for start in range(0, len(events), MAX_BATCH):
            batch = events[start : start + MAX_BATCH]
            if self.settings.out_of_order:
                batch = list(reversed(batch))
            for url in self.settings.urls:
                copies = 2 if self.settings.duplicate else 1
                for _ in range(copies):
                    delay = self._random.uniform(0, self.settings.reorder_window) if self.settings.out_of_order else 0.0
                    self._deliverer.submit(self._delivery(url, batch), delay=delay)

    def _delivery(self, url: str, events: list[dict[str, Any]]) -> Delivery:
        secret = self.settings.client_secret
        record = SentBatch(url=url, events=events, attempts=0, outcomes=[], delivered=False)

        def build(attempt: int) -> tuple[bytes, dict[str, str]]:
            body = json.dumps([{**event, "attemptNumber": attempt} for event in events], separators=(",", ":")).encode()
            return body, sign_headers(secret, url, body, int(self.clock() * 1000))

        def judge(response: httpx.Response | None) -> Verdict:
            record.attempts += 1
            record.outcomes.append("no answer" if response is None else str(response.status_code))
            if response is not None and 200 <= response.status_code < 300:
                record.delivered = True
                return "delivered"
            return "retry"

        with self._lock:
            self.sent.append(record)
        return Delivery(url=url, build=build, judge=judge)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued delivery (retries included) is delivered or given up."""
        return self._deliverer.flush(timeout)

    def pending(self) -> int:
        return self._deliverer.pending()

    def clear(self) -> None:
        self._deliverer.clear()
        with self._lock:
            self.sent.clear()
            self.events_emitted = 0

    def report(self) -> dict[str, Any]:
        with self._lock:
            batches = list(self.sent)
        return {
            "urls": self.settings.urls,
            "eventsEmitted": self.events_emitted,
            "batches": len(batches),
            "delivered": sum(1 for batch in batches if batch.delivered),
            "pending": self.pending(),
            "attempts": sum(batch.attempts for batch in batches),
            "duplicate": self.settings.duplicate,
            "outOfOrder": self.settings.out_of_order,
            "retryDelays": self.settings.retry_delays,
        }

    def close(self) -> None:
        self._deliverer.close()
        if self._default_client is not None:
            self._default_client.close()
