from __future__ import annotations

from collections.abc import Iterator

import pytest

from interlink.db import Database
from tests.accord.support import AccordTenant, HubSpotSandbox, create_accord_tenant, start_hubspot


@pytest.fixture
def hubspot(db: Database) -> Iterator[HubSpotSandbox]:
    """A fresh HubSpot simulator, in-process, that the app's HubSpot clients reach at its own base URL."""
    yield from start_hubspot(db)


@pytest.fixture
def accord_tenant(db: Database, hubspot: HubSpotSandbox) -> AccordTenant:
    """A workspace connected to Accord (signing secret) and to the HubSpot simulator."""
    return create_accord_tenant(db, hubspot)
