"""Accelo's notification webhooks, as the simulator sends them.

Thin (``{id, resource_url}``), form-encoded or JSON per subscription, with ``X-Accelo-Event`` and, when the
subscription has a secret, ``X-Hub-Signature`` (HMAC-SHA1 hex by default; see
``interlink.connectors.accelo.webhooks`` for why). Accelo waits 10 seconds for an answer. Its retry policy
is not documented; the simulator retries a delivery that timed out, could not connect or got a 5xx on a
short schedule, gives up on other answers, removes the subscription at once on a 410, and removes it after
``max_consecutive_timeouts`` deliveries in a row went unanswered ("after too many timeouts it deletes the
subscription automatically").
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from interlink.connectors.accelo.webhooks import KNOWN_EVENTS, SYNC_EVENTS, sign
from interlink.simulators.accelo.state import COLLECTIONS, AcceloState
from interlink.simulators.base import Delivery, Verdict, WebhookDeliverer

log = logging.getLogger(__name__)

# Every documented event may be subscribed to; the simulator fires only those of companies and contacts.
EVENT_TYPES = [
    (event_id, event_id.replace("_", " ").title(), table, kind) for event_id, (table, kind) in KNOWN_EVENTS.items()
]
EVENT_IDS = {event_id for event_id, *_ in EVENT_TYPES}
FIRED_EVENTS = SYNC_EVENTS


@dataclass(frozen=True)
class SentWebhook:
    event_id: str
    url: str
    record_id: int
    attempt: int
    outcome: str  # the HTTP status, or the transport error's name
    at: float


class WebhookDispatch:
    def __init__(
        self,
        state: AcceloState,
        lock: threading.RLock,
        *,
        resource_base_url: Callable[[], str],
        client_for: Callable[[str], httpx.Client],
        retry_delays: Sequence[float],
        timeout: float,
        signature: Literal["sha1", "sha256"] = "sha1",
        signature_prefixed: bool = False,
        max_consecutive_timeouts: int = 5,
    ) -> None:
        self.state = state
        self.lock = lock
        self.resource_base_url = resource_base_url
        self.client_for = client_for
        self.signature = signature
        self.signature_prefixed = signature_prefixed
        self.max_consecutive_timeouts = max_consecutive_timeouts
        self.deliverer = WebhookDeliverer(client_for, retry_delays=retry_delays, timeout=timeout)
        self.sent: list[SentWebhook] = []
        self.removed: list[dict[str, Any]] = []  # subscriptions Accelo dropped (410, or too many timeouts)
        self._timeouts: dict[int, int] = {}

    # -- what to send ---------------------------------------------------------------------------------------
    def payload(self, subscription: dict[str, Any], record_id: int) -> tuple[bytes, dict[str, str]]:
        kind = subscription["trigger_table"]
        data = {
            "id": str(record_id),
            "resource_url": f"{self.resource_base_url()}/api/v0/{COLLECTIONS.get(kind, kind)}/{record_id}",
        }
        content_type = subscription.get("content_type") or "application/x-www-form-urlencoded"
        body = json.dumps(data).encode() if content_type == "application/json" else urlencode(data).encode()
        headers = {
            "content-type": content_type,
            "x-accelo-event": subscription["event_id"],
            "user-agent": "Accelo-Webhooks (Interlink simulator)",
        }
        if subscription.get("secret"):
            headers["x-hub-signature"] = sign(
                body, subscription["secret"], algorithm=self.signature, prefixed=self.signature_prefixed
            )
        return body, headers

    # -- sending ------------------------------------------------------------------------------------------
    def emit(self, event_id: str, record_id: int) -> None:
        """Queue the event for every subscription to it (asynchronously, like Accelo)."""
        with self.lock:
            subscriptions = [dict(row) for row in self.state.subscriptions.rows.values() if row["event_id"] == event_id]
        for subscription in subscriptions:
            self.deliverer.submit(self._delivery(subscription, record_id))

    def dispatch_now(self, subscription: dict[str, Any], record_id: int) -> int:
        """Send once, synchronously, and return the receiver's HTTP status (``/dispatch``)."""
        body, headers = self.payload(subscription, record_id)
        url = subscription["trigger_url"]
        try:
            response = self.client_for(url).post(url, content=body, headers=headers, timeout=self.deliverer.timeout)
        except httpx.HTTPError as exc:
            self._note(subscription, record_id, 0, type(exc).__name__)
            return 0
        self._note(subscription, record_id, 0, str(response.status_code))
        if response.status_code == 410:
            self._remove(subscription["id"], "410 Gone")
        return response.status_code

    def _delivery(self, subscription: dict[str, Any], record_id: int) -> Delivery:
        subscription_id = subscription["id"]
        delivery: Delivery

        def build(attempt: int) -> tuple[bytes, dict[str, str]]:
            return self.payload(subscription, record_id)

        def judge(response: httpx.Response | None) -> Verdict:
            outcome = delivery.outcomes[-1] if delivery.outcomes else "?"
            self._note(subscription, record_id, delivery.attempts, outcome)
            if response is None:
                misses = self._timeouts.get(subscription_id, 0) + 1
                self._timeouts[subscription_id] = misses
                if misses >= self.max_consecutive_timeouts:
                    self._remove(subscription_id, f"{misses} deliveries in a row timed out")
                    return "drop"
                return "retry"
            self._timeouts.pop(subscription_id, None)
            if 200 <= response.status_code < 300:
                return "delivered"
            if response.status_code == 410:
                return "gone"
            if response.status_code >= 500:
                return "retry"
            return "drop"

        delivery = Delivery(
            url=subscription["trigger_url"],
            build=build,
            judge=judge,
            on_gone=lambda: self._remove(subscription_id, "410 Gone"),
        )
        return delivery

    def _note(self, subscription: dict[str, Any], record_id: int, attempt: int, outcome: str) -> None:
        with self.lock:
            self.sent.append(
                SentWebhook(
                    subscription["event_id"], subscription["trigger_url"], record_id, attempt, outcome, time.time()
                )
            )

    def _remove(self, subscription_id: int, reason: str) -> None:
        with self.lock:
            row = self.state.subscriptions.delete(subscription_id)
            if row is not None:
                log.info("simulated Accelo removed webhook subscription %s: %s", subscription_id, reason)
                self.removed.append({**{k: v for k, v in row.items() if k != "secret"}, "reason": reason})

    def flush(self, timeout: float = 30.0) -> bool:
        return self.deliverer.flush(timeout)

    def clear(self) -> None:
        self.deliverer.clear()
        with self.lock:
            self.sent.clear()
            self.removed.clear()
            self._timeouts.clear()

    def close(self) -> None:
        self.deliverer.close()
