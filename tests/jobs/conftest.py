from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.world import World


@pytest.fixture
def job_settings(world: World, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Change the settings bulk jobs read from the world's database for this test."""

    def change(**overrides: Any) -> None:
        monkeypatch.setattr(world.db, "settings", world.db.settings.model_copy(update=overrides))

    return change
