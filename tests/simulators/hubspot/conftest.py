from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from interlink.kit.asgi import in_process_client
from interlink.simulators.hubspot import DEFAULT_PRIVATE_APP_TOKEN, HubSpotSimulator, create_app
from tests.connectors.hubspot.support import IN_PROCESS_BASE, WebhookSink, new_simulator


@pytest.fixture
def sink() -> WebhookSink:
    return WebhookSink()


@pytest.fixture
def simulator(sink: WebhookSink) -> Iterator[HubSpotSimulator]:
    """A simulator delivering webhooks in-process to ``sink``."""
    receiver = in_process_client(sink.app, "http://interlink.test")
    sim = new_simulator(
        webhook_urls=["http://interlink.test/webhooks/hubspot"], webhook_client_for=lambda url: receiver
    )
    yield sim
    sim.close()
    receiver.close()


@pytest.fixture
def api(simulator: HubSpotSimulator) -> Iterator[httpx.Client]:
    """Raw HTTP to the simulator, with the default private-app token (wire-level checks)."""
    app = create_app(simulator=simulator)
    with in_process_client(
        app, IN_PROCESS_BASE, headers={"Authorization": f"Bearer {DEFAULT_PRIVATE_APP_TOKEN}"}
    ) as client:
        yield client
