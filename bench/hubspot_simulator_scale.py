"""The HubSpot simulator holding 100,000 contacts: is it fast enough to stand in for HubSpot in benchmarks?

    .venv/bin/python bench/hubspot_simulator_scale.py [--contacts 100000]

Seeds ``--contacts`` contacts as an import would, then times, in-process: five calls the simulator answers from
its indexes (get one by id, batch-read 100, a list page after an id, update one, get one by email), and one
search on a property it has no index for (which reads every record).
Targets: seeding under 10 s, the five indexed calls under 0.5 s together, the search under 2 s. The tests check
the behaviour behind these figures (indexed calls look at a few records, not all of them) without a stopwatch.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interlink.kit.asgi import in_process_client
from interlink.simulators.hubspot import (
    DEFAULT_PRIVATE_APP_TOKEN,
    HubSpotSimulator,
    RateLimitSettings,
    create_app,
)

BASE_URL = "http://hubspot.bench"
TARGETS = {"seed": 10.0, "indexed": 0.5, "search": 2.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    options = parser.parse_args()
    size = options.contacts

    simulator = HubSpotSimulator(rate_limits=RateLimitSettings(per_interval=None, daily=None, search_per_second=None))
    figures: dict[str, float] = {}
    try:
        started = time.perf_counter()
        ids = simulator.seed(
            "contacts",
            [
                {"email": f"user{n}@example.com", "firstname": f"F{n}", "lastname": f"L{n}", "lifecyclestage": "lead"}
                for n in range(size)
            ],
        )
        figures["seed"] = time.perf_counter() - started
        headers = {"Authorization": f"Bearer {DEFAULT_PRIVATE_APP_TOKEN}"}
        with in_process_client(create_app(simulator=simulator), BASE_URL, headers=headers) as api:
            started = time.perf_counter()
            api.get(f"/crm/v3/objects/contacts/{ids[size * 7 // 9]}").raise_for_status()
            api.post(
                "/crm/v3/objects/contacts/batch/read", json={"inputs": [{"id": i} for i in ids[-100:]]}
            ).raise_for_status()
            api.get(
                "/crm/v3/objects/contacts", params={"limit": 100, "after": ids[size * 99 // 100]}
            ).raise_for_status()
            api.patch(
                f"/crm/v3/objects/contacts/{ids[5]}", json={"properties": {"firstname": "Changed"}}
            ).raise_for_status()
            api.get(f"/crm/v3/objects/contacts/user{size - 1}@example.com", params={"idProperty": "email"})
            figures["indexed"] = time.perf_counter() - started

            search = {"filterGroups": [{"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "F42"}]}]}
            started = time.perf_counter()
            total = api.post("/crm/v3/objects/contacts/search", json=search).json()["total"]
            figures["search"] = time.perf_counter() - started
    finally:
        simulator.close()

    labels = {
        "seed": f"seed {size:,} contacts",
        "indexed": "5 indexed calls (id, batch of 100, page, update, email)",
        "search": f"1 search reading every record (found {total})",
    }
    for key, label in labels.items():
        verdict = "ok" if figures[key] < TARGETS[key] else "SLOWER THAN TARGET"
        print(f"{label:<58} {figures[key]:7.3f}s  (target < {TARGETS[key]:g}s: {verdict})")


if __name__ == "__main__":
    main()
