from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from interlink.connections.registry import connectors_for
from tests.fixtures.world import World

# Accelo allows 5,000 requests an hour, so a job of a few thousand records would spend most of a CI run
# waiting for its budget. The worlds here give Accelo (simulator and clients alike) a budget sized for the
# tests instead; tests about the budget set their own with ``limit_accelo``.
TEST_ACCELO_BUDGET = {"requests_per_window": 50_000, "window_seconds": 60}


@pytest.fixture(autouse=True)
def _accelo_budget_for_tests(request: pytest.FixtureRequest) -> None:
    if "world" not in request.fixturenames:
        return
    world: World = request.getfixturevalue("world")
    world.accelo.rate_limit.configure(
        limit=TEST_ACCELO_BUDGET["requests_per_window"], window_seconds=TEST_ACCELO_BUDGET["window_seconds"]
    )
    connectors_for(world.db).accelo_options = dict(TEST_ACCELO_BUDGET)


@pytest.fixture
def job_settings(world: World, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Change the settings bulk jobs read from the world's database for this test."""

    def change(**overrides: Any) -> None:
        monkeypatch.setattr(world.db, "settings", world.db.settings.model_copy(update=overrides))

    return change
