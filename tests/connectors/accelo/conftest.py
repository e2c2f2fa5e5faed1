from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.accelo.harness import Harness, harness


@pytest.fixture(params=["in-process", "loopback"])
def accelo(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """A fresh simulated deployment and a client wired to it, once in-process and once over real HTTP."""
    with harness(request.param) as wired:
        yield wired


@pytest.fixture
def local() -> Iterator[Harness]:
    """In-process only: for tests about the client's logic rather than the transport."""
    with harness("in-process") as wired:
        yield wired


@pytest.fixture(params=["in-process", "loopback"])
def transport(request: pytest.FixtureRequest) -> str:
    """For tests that build their own harness (custom options): run them over both transports."""
    value: str = request.param
    return value
