"""A simulated Accelo deployment and a client wired to it, in-process or over loopback HTTP."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from interlink.connectors.accelo import AcceloClient, AcceloCredentials, accelo_client
from interlink.connectors.accelo.webhooks import AcceloWebhookEvent, AcceloWebhookRejected, read_webhook
from interlink.connectors.http import RetryPolicy
from interlink.kit.asgi import in_process_client
from interlink.simulators.accelo import (
    SERVICE_CLIENT_ID,
    SERVICE_CLIENT_SECRET,
    AcceloSimulator,
    AcceloSimulatorApp,
    create_app,
)
from tests.support.servers import serve_over_loopback

BASE_URL = "https://simulator.api.accelo.com"
FAST_RETRY = RetryPolicy(attempts=4, base_seconds=0.01, max_seconds=0.05, max_rate_limit_wait=1.0)
Transport = Literal["in-process", "loopback"]


def fast_app(**options: Any) -> AcceloSimulatorApp:
    """A simulator whose webhook retries take milliseconds, not minutes."""
    options.setdefault("webhook_retry_delays", (0.05, 0.05, 0.05))
    options.setdefault("webhook_timeout", 2.0)
    return create_app(**options)


def credentials(base_url: str = BASE_URL, **overrides: Any) -> AcceloCredentials:
    values: dict[str, Any] = {
        # A fresh deployment name per client: rate budgets are shared by name within the process.
        "deployment": f"t{uuid.uuid4().hex[:12]}",
        "auth_type": "service",
        "client_id": SERVICE_CLIENT_ID,
        "client_secret": SERVICE_CLIENT_SECRET,
        "base_url": base_url,
        **overrides,
    }
    return AcceloCredentials(**values)


@dataclass
class Harness:
    app: AcceloSimulatorApp
    http: httpx.Client
    client: AcceloClient
    base_url: str
    transport: Transport

    @property
    def sim(self) -> AcceloSimulator:
        return self.app.simulator

    def calls(self, route: str | None = None, method: str | None = None) -> int:
        """API calls the simulator answered (``route`` without the ``/api/v0`` prefix)."""
        return self.sim.calls.count(route=f"/api/v0{route}" if route else None, method=method)

    def api_calls(self) -> int:
        return sum(
            int(item["count"])  # type: ignore[call-overload]
            for item in self.sim.calls.snapshot()
            if str(item["route"]).startswith("/api/")
        )


@contextmanager
def harness(
    transport: Transport = "in-process", *, client_options: dict[str, Any] | None = None, **options: Any
) -> Iterator[Harness]:
    app = fast_app(**options)
    try:
        if transport == "in-process":
            with in_process_client(app, BASE_URL) as http:
                yield _wire(app, http, BASE_URL, transport, client_options)
        else:
            with serve_over_loopback(app) as url, httpx.Client(timeout=10) as http:
                yield _wire(app, http, url, transport, client_options)
    finally:
        app.close()


def _wire(
    app: AcceloSimulatorApp, http: httpx.Client, base_url: str, transport: Transport, options: dict[str, Any] | None
) -> Harness:
    options = dict(options or {})
    given = options.pop("credentials", None)
    # Credentials a test made point at wherever this harness serves the simulator.
    creds = given.model_copy(update={"base_url": base_url}) if given is not None else credentials(base_url)
    options.setdefault("retry", FAST_RETRY)
    client = accelo_client(creds, http_client=http, **options)
    return Harness(app=app, http=http, client=client, base_url=base_url, transport=transport)


# -- a webhook receiver ---------------------------------------------------------------------------------------


@dataclass
class Receiver:
    """Stands in for Interlink's webhook endpoint: verifies each delivery with the connector's own code."""

    secret: str
    answers: list[int] = field(default_factory=list)  # statuses to answer, in order (then 200)
    hang_seconds: list[float] = field(default_factory=list)  # per delivery: wait this long before answering
    events: list[AcceloWebhookEvent] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    raw: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def webhook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.raw.append((dict(request.headers), body))
                delay = self.hang_seconds.pop(0) if self.hang_seconds else 0.0
                status = self.answers.pop(0) if self.answers else 200
            if delay:
                import anyio

                await anyio.sleep(delay)
            try:
                event = read_webhook(body, request.headers, secret=self.secret)
            except AcceloWebhookRejected as exc:
                with self.lock:
                    self.rejected.append(exc.reason)
                return Response(exc.reason, status_code=exc.status_code or 400)
            if 200 <= status < 300:
                with self.lock:
                    self.events.append(event)
            return Response(status_code=status)

        return Starlette(routes=[Route("/webhooks/accelo", webhook, methods=["POST"])])

    def kinds(self) -> list[tuple[str, int]]:
        with self.lock:
            return [(event.event_id, event.object_id) for event in self.events]


RECEIVER_URL = "http://interlink.test/webhooks/accelo"


@contextmanager
def receiving(receiver: Receiver) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` that delivers into the receiver in-process (pass it as ``webhook_client_for``)."""
    with in_process_client(receiver.app(), "http://interlink.test") as client:
        yield client
