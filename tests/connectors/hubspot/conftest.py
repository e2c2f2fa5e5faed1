from __future__ import annotations

from collections.abc import Iterator

import pytest

from interlink.connectors.hubspot.client import HubSpotClient
from interlink.simulators.hubspot import HubSpotSimulator
from tests.connectors.hubspot.support import client_for, new_simulator, served


@pytest.fixture
def simulator() -> Iterator[HubSpotSimulator]:
    sim = new_simulator()
    yield sim
    sim.close()


@pytest.fixture(params=["in_process", "loopback"])
def hubspot(request: pytest.FixtureRequest, simulator: HubSpotSimulator) -> Iterator[HubSpotClient]:
    """The client against the simulator, once mounted in-process and once over real loopback HTTP."""
    with served(simulator, request.param) as (base_url, http):
        yield client_for(base_url, http)
