"""Imported by ``interlink worker --include tests.jobs.worker_budget`` in tests and benchmarks: gives the worker's
Accelo clients the simulator's compressed rate window (``INTERLINK_TEST_ACCELO_BUDGET``, JSON: requests per
window and window seconds), as ``Connectors(accelo_options=...)`` does in-process. A worker process has no other
way to be told; production has Accelo's real hour."""

from __future__ import annotations

import json
import os

from interlink.connections import registry
from interlink.db import Database

_options = json.loads(os.environ.get("INTERLINK_TEST_ACCELO_BUDGET") or "{}")
_default = registry._default


def _with_test_budget(db: Database) -> registry.Connectors:
    connectors = _default(db)
    connectors.accelo_options = dict(_options)
    return connectors


if _options:
    registry._default = _with_test_budget
