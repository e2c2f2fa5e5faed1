"""Accord events into HubSpot deals: how many HubSpot calls each kind of burst costs, and intake latency.

    .venv/bin/python bench/accord_push.py [--accords 100] [--views 1000] [--database-url postgresql://...]

Interlink's app and the HubSpot simulator run in-process; events are signed and posted to the real webhook
endpoint, then the inbox is drained as a worker would. Figures: HubSpot calls counted by the simulator
(every API call, reads included), per scenario, and the webhook's answer time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr

from interlink import schema
from interlink.app import create_app
from interlink.config import Settings
from interlink.connections.registry import connectors_for
from interlink.connections.service import save_connection
from interlink.connectors.accord.credentials import AccordCredentials
from interlink.connectors.accord.signature import signature_headers
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.db import Database
from interlink.inbox.service import drain_workspace
from interlink.kit.asgi import in_process_client
from interlink.kit.crypto import CredentialCipher
from interlink.simulators.hubspot import DEFAULT_PRIVATE_APP_TOKEN, HubSpotSimulator
from interlink.simulators.hubspot import create_app as hubspot_app
from interlink.workspaces import service as workspaces

SECRET = "bench-accord-signing-secret-0123456789"  # noqa: S105 - a benchmark's throwaway secret
HUBSPOT_URL = "http://hubspot.bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accords", type=int, default=100)
    parser.add_argument("--views", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL to bench on (default: a SQLite file)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = options.database_url or f"sqlite:///{scratch}/bench.db"
        settings = Settings(
            database_url=url, secret_key=SecretStr("bench-secret-key-" + "0" * 32), data_dir=Path(scratch)
        )
        schema.upgrade(settings.database_url)
        db = Database(settings)
        bench = Bench(db, settings)
        try:
            run(bench, options)
        finally:
            bench.close()
            db.dispose()


class Bench:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.simulator = HubSpotSimulator(portal_id=int(time.time()) % 90_000_000 + 10_000_000)
        self.hubspot_http = in_process_client(hubspot_app(simulator=self.simulator), HUBSPOT_URL)
        connectors_for(db).route(HUBSPOT_URL, self.hubspot_http)
        cipher = CredentialCipher(settings.secret_keys())
        with db.transaction() as session:
            workspace = workspaces.create_workspace(session, f"Bench {uuid.uuid4().hex[:6]}")
            token = workspaces.create_token(session, workspace, "bench").token
            save_connection(session, workspace, AccordCredentials(signing_secret=SecretStr(SECRET)), cipher)
            save_connection(
                session,
                workspace,
                HubSpotCredentials(
                    portal_id=self.simulator.portal_id,
                    access_token=SecretStr(DEFAULT_PRIVATE_APP_TOKEN),
                    base_url=HUBSPOT_URL,
                ),
                cipher,
            )
        self.workspace_id, self.slug, self.headers = workspace.id, workspace.slug, {"Authorization": f"Bearer {token}"}
        self.http = in_process_client(
            create_app(settings, database=db, embedded_worker=False), "http://interlink.bench"
        )
        self.clock = datetime.now(UTC) - timedelta(minutes=1)
        self.latencies: list[float] = []
        self.settings = settings

    def close(self) -> None:
        # In-process transports run the apps on helper threads: close them, or the interpreter waits at exit.
        self.http.close()
        connectors_for(self.db).close()
        self.simulator.close()

    def post(self, accord_id: str, deal_id: str | None, trigger: str, **values: Any) -> None:
        self.clock += timedelta(microseconds=10)
        accord = {
            "id": accord_id,
            "url": f"https://app.inaccord.com/accords/{accord_id}",
            "status": "On Track",
            "current_stage": "Technical validation",
            "customers_invited": 4,
            "customers_accepted": 3,
            "progress": 45,
            "execution_score": 80,
            **values,
        }
        if deal_id is not None:
            accord["hubspot_deal_id"] = deal_id
        body = json.dumps(
            {"event_id": uuid.uuid4().hex, "trigger": trigger, "occurred_at": self.clock.isoformat(), "accord": accord}
        ).encode()
        headers = {"Content-Type": "application/json", **signature_headers(SECRET, body)}
        started = time.perf_counter()
        response = self.http.post(f"/webhooks/accord/{self.slug}", content=body, headers=headers)
        self.latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"the webhook answered {response.status_code}: {response.text}")

    def drain(self) -> tuple[int, int, float]:
        """HubSpot calls and deal writes caused by processing what is queued, and the time it took."""
        self.simulator.calls.reset()
        started = time.perf_counter()
        drain_workspace(self.db, self.workspace_id, time_budget_seconds=3600)
        elapsed = time.perf_counter() - started
        writes = self.simulator.calls.count(route="/crm/v3/objects/{object_type}/batch/update")
        writes += self.simulator.calls.count(method="PATCH")
        return self.simulator.calls.count(), writes, elapsed


def run(bench: Bench, options: argparse.Namespace) -> None:
    settings = bench.settings
    provisioned = bench.http.post("/api/v1/accord/provision", headers=bench.headers)
    assert provisioned.status_code == 200, provisioned.text
    deals = bench.simulator.seed("deals", [{"dealname": f"Deal {n}"} for n in range(options.accords)])
    accords = [f"acc-{n:05d}" for n in range(options.accords)]
    rows: list[tuple[str, int, int, int, float]] = []

    for accord_id, deal in zip(accords, deals, strict=True):
        bench.post(accord_id, deal, "accord.created")
    rows.append((f"{options.accords} Accords created (first push)", options.accords, *bench.drain()))

    bench.latencies.clear()
    for n in range(options.views):
        bench.post(accords[n % len(accords)], None, "accord.viewed")
    views = list(bench.latencies)
    rows.append((f"{options.views} 'Accord viewed', data unchanged", options.views, *bench.drain()))

    bench.post(accords[0], None, "step.updated", progress=60)
    rows.append(("1 Accord changed (progress)", 1, *bench.drain()))

    for n, accord_id in enumerate(accords):
        bench.post(accord_id, None, "step.updated", progress=61 + n % 39, status="At Risk")
    rows.append((f"{options.accords} Accords changed at once", options.accords, *bench.drain()))

    backend = "PostgreSQL" if not settings.is_sqlite else "SQLite"
    print(f"Accord -> HubSpot deals, {backend}, in-process HubSpot simulator")
    print(f"  {'scenario':<44} {'events':>7} {'calls':>6} {'writes':>7} {'drain':>8}")
    for name, events, calls, writes, elapsed in rows:
        print(f"  {name:<44} {events:>7} {calls:>6} {writes:>7} {elapsed:>7.2f}s")
    ordered = sorted(views)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"  webhook answer: median {statistics.median(views) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")


if __name__ == "__main__":
    main()
