"""The Accord simulator's controller: a few Accords, the changes people make to them, and the signed events
that Interlink's envelope says Accord sends on each trigger.

    simulator = AccordSimulator(webhook_urls=["http://127.0.0.1:8000/webhooks/accord/demo"])
    simulator.connect(SEEDED_IDS[0], "1001")                          # the Accord's HubSpot deal
    simulator.view(SEEDED_IDS[0])                                    # "accord.viewed", data unchanged
    simulator.change(SEEDED_IDS[0], "step.updated", progress=60)     # a change, and its event
    simulator.flush()                                                # wait until delivered

Like Accord's own HubSpot integration, only Accords connected to a deal send events (``fire(...,
unconnected=True)`` sends one anyway, to see Interlink refuse it). Each delivery is signed at send time with
``X-Accord-Timestamp`` and ``X-Accord-Signature: v1=<hex>`` (HMAC-SHA256 of ``<timestamp>.<body>``); the
signing is written here independently of Interlink's verifier, so the tests check one against the other.
Deliveries answered 2xx are done; 408, 429, 5xx and no answer are retried on ``retry_delays``; any other
answer (401, 422...) is final, since sending the same bytes again cannot succeed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from interlink.simulators.base import Delivery, Verdict, WebhookDeliverer

DEFAULT_SIGNING_SECRET = "accord-sandbox-signing-secret-0000"  # noqa: S105 - a sandbox's public secret
DEFAULT_RETRY_DELAYS = (5.0, 30.0, 120.0, 600.0, 1800.0)
ACCORD_APP_URL = "https://app.inaccord.com/accords/"

TRIGGERS = (
    "accord.viewed",
    "accord.created",
    "accord.duplicated",
    "stage.created",
    "stage.deleted",
    "step.created",
    "step.deleted",
    "step.updated",
    "stakeholder.added",
    "customer.accepted",
    "member.added",
    "member.invited",
)
STATUSES = ("Not Started", "On Track", "At Risk", "Stalled")
FIELDS = (
    "url",
    "status",
    "current_stage",
    "customers_invited",
    "customers_accepted",
    "progress",
    "execution_score",
    "hubspot_deal_id",
)

SEEDED_IDS = (
    "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b",
    "9b8a7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d",
    "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60",
)


class SimulatorError(Exception):
    """A control request that cannot be done (unknown Accord, a value Accord would not hold)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class SimAccord:
    id: str
    name: str
    url: str
    status: str = "Not Started"
    current_stage: str | None = None
    customers_invited: int = 0
    customers_accepted: int = 0
    progress: float = 0
    execution_score: float | None = None
    hubspot_deal_id: str | None = None

    def data(self) -> dict[str, Any]:
        values = asdict(self)
        values.pop("name")
        return values


@dataclass
class SentEvent:
    """One event and the fate of its delivery to one URL."""

    event_id: str
    trigger: str
    accord_id: str
    url: str
    body: bytes = field(repr=False)
    delivery: Delivery | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        delivery = self.delivery
        return {
            "eventId": self.event_id,
            "trigger": self.trigger,
            "accordId": self.accord_id,
            "url": self.url,
            "attempts": delivery.attempts if delivery else 0,
            "outcomes": list(delivery.outcomes) if delivery else [],
        }


def seeded_accords() -> list[SimAccord]:
    return [
        SimAccord(
            SEEDED_IDS[0],
            "Acme Field Services - rollout",
            ACCORD_APP_URL + SEEDED_IDS[0],
            status="On Track",
            current_stage="Technical validation",
            customers_invited=4,
            customers_accepted=3,
            progress=45,
            execution_score=82,
        ),
        SimAccord(
            SEEDED_IDS[1],
            "Globex - pilot",
            ACCORD_APP_URL + SEEDED_IDS[1],
            status="At Risk",
            current_stage="Security review",
            customers_invited=2,
            customers_accepted=1,
            progress=20,
            execution_score=55.5,
        ),
        SimAccord(SEEDED_IDS[2], "Initech - renewal", ACCORD_APP_URL + SEEDED_IDS[2]),
    ]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def judge(response: httpx.Response | None) -> Verdict:
    if response is None:
        return "retry"
    status = response.status_code
    if 200 <= status < 300:
        return "delivered"
    if status in {408, 429} or status >= 500:
        return "retry"
    return "drop"


class AccordSimulator:
    def __init__(
        self,
        *,
        state_file: Path | None = None,
        webhook_urls: Sequence[str] = (),
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        deal_ids: Mapping[str, str] | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        webhook_timeout: float = 5.0,
        webhook_client_for: Callable[[str], httpx.Client] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.signing_secret = signing_secret
        self.webhook_urls = list(webhook_urls)
        self.state_file = Path(state_file) if state_file else None
        self.accords: dict[str, SimAccord] = {}
        self.sent: deque[SentEvent] = deque(maxlen=10_000)
        self._clients: dict[str, httpx.Client] = {}
        self._client_for = webhook_client_for or self._default_client
        self._timeout = webhook_timeout
        self.deliverer = WebhookDeliverer(self._client_for, retry_delays=retry_delays, timeout=webhook_timeout)
        self._seed()
        if self.state_file is not None and self.state_file.exists():
            self.load(self.state_file)
        for accord_id, deal_id in (deal_ids or {}).items():
            self.connect(accord_id, deal_id)

    # -- state -----------------------------------------------------------------------------------------------

    def _seed(self) -> None:
        self.accords = {accord.id: accord for accord in seeded_accords()}

    def reset(self) -> None:
        """The seeded Accords again, no events sent, nothing pending."""
        with self.lock:
            self._seed()
            self.sent.clear()
            self.deliverer.clear()
            self._save()

    def get(self, accord_id: str) -> SimAccord:
        with self.lock:
            accord = self.accords.get(accord_id)
            if accord is None:
                raise SimulatorError(404, f"no Accord {accord_id}")
            return accord

    def all_accords(self) -> list[SimAccord]:
        with self.lock:
            return list(self.accords.values())

    def save(self, path: Path | None = None) -> Path:
        target = Path(path or self.state_file or "accord-simulator.json")
        with self.lock:
            state = {
                "version": 1,
                "accords": [asdict(accord) for accord in self.accords.values()],
                "webhookUrls": self.webhook_urls,
            }
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w") as stream:
            json.dump(state, stream, indent=1)
        os.replace(temporary, target)
        return target

    def load(self, path: Path) -> None:
        state = json.loads(Path(path).read_text())
        with self.lock:
            self.accords = {item["id"]: SimAccord(**item) for item in state.get("accords", [])}
            if state.get("webhookUrls") and not self.webhook_urls:
                self.webhook_urls = list(state["webhookUrls"])

    def _save(self) -> None:
        if self.state_file is not None:
            self.save()

    def close(self) -> None:
        self.deliverer.close()
        self._save()
        for client in self._clients.values():
            client.close()

    # -- what people do in Accord --------------------------------------------------------------------------

    def create(
        self, name: str, *, hubspot_deal_id: str | None = None, accord_id: str | None = None, **values: Any
    ) -> SimAccord:
        """A new Accord ("accord.created")."""
        new_id = accord_id or str(uuid.uuid4())
        with self.lock:
            if new_id in self.accords:
                raise SimulatorError(409, f"Accord {new_id} exists")
            accord = SimAccord(new_id, name, ACCORD_APP_URL + new_id, hubspot_deal_id=hubspot_deal_id)
            self._apply(accord, values)
            self.accords[new_id] = accord
            self._save()
        self.fire(new_id, "accord.created")
        return accord

    def duplicate(self, accord_id: str, *, name: str | None = None, hubspot_deal_id: str | None = None) -> SimAccord:
        """A copy of an Accord's plan, a new Accord with its own URL ("accord.duplicated"); nobody is invited."""
        source = self.get(accord_id)
        new_id = str(uuid.uuid4())
        with self.lock:
            accord = SimAccord(
                new_id,
                name or f"{source.name} (copy)",
                ACCORD_APP_URL + new_id,
                status="Not Started",
                current_stage=source.current_stage,
                hubspot_deal_id=hubspot_deal_id,
            )
            self.accords[new_id] = accord
            self._save()
        self.fire(new_id, "accord.duplicated")
        return accord

    def connect(self, accord_id: str, deal_id: str | None) -> SimAccord:
        """Connect the Accord to a HubSpot deal (or disconnect it with None). Sends nothing by itself."""
        with self.lock:
            accord = self.get(accord_id)
            accord.hubspot_deal_id = str(deal_id) if deal_id is not None else None
            self._save()
            return accord

    def view(self, accord_id: str, *, times: int = 1) -> list[str]:
        """Someone opens the Accord: "accord.viewed", the data as it is."""
        return [event_id for _ in range(times) for event_id in self.fire(accord_id, "accord.viewed")]

    def change(self, accord_id: str, trigger: str = "step.updated", **values: Any) -> list[str]:
        """Change the Accord's data and send the trigger that goes with the change."""
        with self.lock:
            accord = self.get(accord_id)
            self._apply(accord, values)
            self._save()
        return self.fire(accord_id, trigger)

    def invite_customer(self, accord_id: str) -> list[str]:
        with self.lock:
            accord = self.get(accord_id)
            accord.customers_invited += 1
            self._save()
        return self.fire(accord_id, "member.invited")

    def customer_accepts(self, accord_id: str) -> list[str]:
        """A customer opens the Accord for the first time."""
        with self.lock:
            accord = self.get(accord_id)
            if accord.customers_accepted >= accord.customers_invited:
                raise SimulatorError(409, "every invited customer has accepted already")
            accord.customers_accepted += 1
            self._save()
        return self.fire(accord_id, "customer.accepted")

    def _apply(self, accord: SimAccord, values: Mapping[str, Any]) -> None:
        unknown = set(values) - set(FIELDS) - {"name"}
        if unknown:
            raise SimulatorError(400, f"unknown Accord field(s): {', '.join(sorted(unknown))}")
        if "status" in values and values["status"] not in STATUSES:
            raise SimulatorError(400, f"status must be one of {', '.join(STATUSES)}")
        for name, value in values.items():
            setattr(accord, name, str(value) if name == "hubspot_deal_id" and value is not None else value)

    # -- events ----------------------------------------------------------------------------------------------

    def envelope(self, accord: SimAccord, trigger: str) -> dict[str, Any]:
        occurred = datetime.fromtimestamp(self.clock(), tz=UTC)
        data = accord.data()
        if data["hubspot_deal_id"] is None:
            data.pop("hubspot_deal_id")
        return {
            "event_id": f"evt_{uuid.uuid4().hex}",
            "trigger": trigger,
            "occurred_at": occurred.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "accord": data,
        }

    def fire(self, accord_id: str, trigger: str, *, unconnected: bool = False) -> list[str]:
        """Send ``trigger`` for the Accord as it is now, to every webhook URL; returns the event ids."""
        if trigger not in TRIGGERS:
            raise SimulatorError(400, f"trigger must be one of {', '.join(TRIGGERS)}")
        with self.lock:
            accord = self.get(accord_id)
            if accord.hubspot_deal_id is None and not unconnected:
                return []  # Accord pushes only Accords connected to a deal
            envelope = self.envelope(accord, trigger)
            body = json.dumps(envelope, separators=(",", ":")).encode()
            sent = [SentEvent(envelope["event_id"], trigger, accord_id, url, body) for url in self.webhook_urls]
            self.sent.extend(sent)
        for event in sent:
            event.delivery = Delivery(url=event.url, build=self._builder(event.body), judge=judge)
            self.deliverer.submit(event.delivery)
        return [envelope["event_id"]] if sent else []

    def _builder(self, body: bytes) -> Callable[[int], tuple[bytes, dict[str, str]]]:
        def build(_attempt: int) -> tuple[bytes, dict[str, str]]:
            timestamp = int(self.clock())
            with self.lock:
                secret = self.signing_secret
            return body, {
                "Content-Type": "application/json",
                "User-Agent": "Accord-Simulator/1",
                "X-Accord-Timestamp": str(timestamp),
                "X-Accord-Signature": sign(secret, timestamp, body),
            }

        return build

    def configure(self, *, urls: Iterable[str] | None = None, signing_secret: str | None = None) -> None:
        with self.lock:
            if urls is not None:
                self.webhook_urls = list(urls)
            if signing_secret is not None:
                self.signing_secret = signing_secret
            self._save()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every event sent so far was delivered or given up on."""
        return self.deliverer.flush(timeout)

    def deliveries(self) -> list[dict[str, Any]]:
        with self.lock:
            return [event.summary() for event in self.sent]

    def _default_client(self, url: str) -> httpx.Client:
        base = httpx.URL(url)
        key = f"{base.scheme}://{base.netloc.decode()}"
        with self.lock:
            if key not in self._clients:
                self._clients[key] = httpx.Client(timeout=self._timeout)
            return self._clients[key]
