"""What the HubSpot client, simulator and contract tests share: a simulator, clients over both transports,
and a webhook receiver that records what it is sent."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from interlink.connectors.http import RetryPolicy
from interlink.connectors.hubspot.client import HubSpotClient, hubspot_client
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.connectors.hubspot.limits import HubSpotRateLimits
from interlink.kit.asgi import in_process_client
from interlink.simulators.hubspot import DEFAULT_PRIVATE_APP_TOKEN, HubSpotSimulator, RateLimitSettings, create_app
from tests.support.servers import serve_over_loopback

IN_PROCESS_BASE = "http://hubspot.test"
# Generous limits on both sides: these tests are about behaviour, the rate-limit tests set their own.
FAST_LIMITS = HubSpotRateLimits(per_interval=100_000, daily=None, search_per_second=10_000)
FAST_RETRY = RetryPolicy(attempts=4, base_seconds=0.01, max_seconds=0.05)


def unlimited() -> RateLimitSettings:
    return RateLimitSettings(per_interval=None, daily=None, search_per_second=None)


def new_simulator(**options: Any) -> HubSpotSimulator:
    options.setdefault("rate_limits", unlimited())
    options.setdefault("webhook_retry_delays", [0.01] * 10)
    return HubSpotSimulator(**options)


def credentials(base_url: str, **overrides: Any) -> HubSpotCredentials:
    values: dict[str, Any] = {
        # A fresh portal id per client: budgets live in process memory, keyed by portal.
        "portal_id": random.randint(10_000_000, 99_999_999),
        "access_token": DEFAULT_PRIVATE_APP_TOKEN,
        "base_url": base_url,
        **overrides,
    }
    return HubSpotCredentials(**values)


@contextmanager
def served(simulator: HubSpotSimulator, transport: str) -> Iterator[tuple[str, httpx.Client]]:
    """The simulator's base URL and an ``httpx.Client`` reaching it, in-process or over loopback HTTP."""
    app = create_app(simulator=simulator)
    if transport == "in_process":
        with in_process_client(app, IN_PROCESS_BASE) as client:
            yield IN_PROCESS_BASE, client
    else:
        with serve_over_loopback(app) as base_url, httpx.Client(timeout=10) as client:
            yield base_url, client


def client_for(
    base_url: str, http: httpx.Client, *, limits: HubSpotRateLimits = FAST_LIMITS, **kwargs: Any
) -> HubSpotClient:
    creds = kwargs.pop("credentials", None) or credentials(base_url)
    kwargs.setdefault("retry", FAST_RETRY)
    return hubspot_client(creds, http_client=http, limits=limits, **kwargs)


@dataclass
class Received:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class WebhookSink:
    """A webhook target: records every POST; ``answers`` lists statuses to give first (then 200)."""

    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        async def receive(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.received.append(Received(str(request.url), body, dict(request.headers)))
                status = self.answers.pop(0) if self.answers else 200
            return Response(status_code=status)

        self.app = Starlette(routes=[Route("/webhooks/hubspot", receive, methods=["POST"])])

    def events(self) -> list[dict[str, Any]]:
        import json

        with self.lock:
            return [event for item in self.received for event in json.loads(item.body)]
