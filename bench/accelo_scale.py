"""The Accelo client and simulator at 100,000 companies and 100,000 contacts: what a full read, a change poll
and a deletion sweep cost in calls and time.

    .venv/bin/python bench/accelo_scale.py [--companies 100000] [--edits 1000]

Reads every company by id (100 per call), makes ``--edits`` changes as users would (a third to companies,
a third to affiliations, a third to profile values; only the first kind sends a webhook), polls the change
feeds once, and checks 100,000 known ids for deletions. The rate limit is off: this measures work, not
waiting (at Accelo's 5,000 an hour, the call counts printed are what the wait would be made of).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interlink.connectors.accelo import AcceloCredentials, FeedCursor, accelo_client
from interlink.kit.asgi import in_process_client
from interlink.simulators.accelo import DEFAULT_ACCESS_TOKEN, AcceloSimulator, create_app

BASE_URL = "https://bench.api.accelo.com"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=1_000)
    options = parser.parse_args()

    app = create_app()
    sim = app.simulator
    sim.rate_limit.configure(enabled=False)
    started = time.perf_counter()
    sim.generate(companies=options.companies, contacts_per_company=1, spread_seconds=30 * 86_400)
    print(f"generate {options.companies} companies + contacts   {time.perf_counter() - started:6.1f}s")
    field_id = sim.add_profile_field("company", "Tier")
    try:
        with in_process_client(app, BASE_URL) as http:
            credentials = AcceloCredentials(
                deployment=f"bench{uuid.uuid4().hex[:8]}", client_id="bench", access_token=DEFAULT_ACCESS_TOKEN
            )
            client = accelo_client(credentials.model_copy(update={"base_url": BASE_URL}), http_client=http)
            ids = list(range(1, options.companies + 1))

            measure(sim, "read every company by id", lambda: len(client.companies.get_many(ids)))
            measure(
                sim,
                "read 10,000 contacts with affiliations",
                lambda: len(client.affiliated_contacts.get_many(ids[:10_000])),
            )

            cursors = {
                name: FeedCursor.starting_at(sim.clock.now()) for name in ("companies", "affiliations", "values")
            }
            sim.clock.advance(1)
            rng = random.Random(7)
            for n in range(options.edits):
                record = rng.choice(ids)
                if n % 3 == 0:
                    sim.user_update_company(record, comments=f"edit {n}")
                elif n % 3 == 1:
                    sim.user_update_affiliation(record, phone=f"555-{n:04d}")
                else:
                    sim.user_set_profile_value("company", record, field_id, f"tier {n}")
            feeds = {
                "companies": client.feeds.companies(),
                "affiliations": client.feeds.affiliations(),
                "values": client.feeds.profile_values("company"),
            }
            found = {}

            def poll() -> int:
                for name, feed in feeds.items():
                    found[name] = len(feed.poll(cursors[name]).records)
                return sum(found.values())

            measure(sim, f"poll 3 feeds after {options.edits} edits", poll)
            print(f"    changed records found per feed: {found} (a record edited twice counts once)")
            for victim in rng.sample(ids, 25):
                sim.user_delete_company(victim)
            measure(sim, "find deleted among every known id", lambda: len(client.find_missing("company", ids)))
    finally:
        app.close()


def measure(sim: AcceloSimulator, label: str, work: Callable[[], int]) -> None:
    calls = sim.calls
    calls.reset()
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    count = calls.count()
    print(f"{label:<45} {elapsed:6.2f}s  {count:6d} calls  result {result}  ({count / 5000:.2f} h of Accelo's budget)")


if __name__ == "__main__":
    main()
