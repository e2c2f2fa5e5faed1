"""Benchmark: 5,000 linked HubSpot contacts, each changed in 5 mapped properties (25,000 webhook events).

Prints webhook intake (events/s, measured against a real `interlink serve` on PostgreSQL), changes synced per
second end to end, and API calls per changed record on each side next to the naive count (one read and one
write per event). The simulators' rate limits are lifted so the engine's own speed is what is measured; the
calls per record are what the real limits divide.

    python bench/sync_engine.py [--contacts 5000] [--workers 4] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.database import create_scratch_postgres

from interlink import schema
from interlink.app import create_app
from interlink.config import Settings
from interlink.connections import service as connections
from interlink.connections.registry import Connectors, install
from interlink.connectors.accelo.credentials import AcceloCredentials
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.connectors.hubspot.webhooks import signature_v3
from interlink.db import Database
from interlink.inbox.repository import InboundEventRepository
from interlink.inbox.service import drain_workspace
from interlink.kit.asgi import in_process_client
from interlink.kit.time import utc_now
from interlink.mappings import service as mappings
from interlink.mappings.fields import ObjectType
from interlink.mappings.live import LiveSchemaSource
from interlink.mappings.schemas import FieldMappingCreate
from interlink.models import Link
from interlink.simulators import accelo as accelo_simulator
from interlink.simulators import hubspot as hubspot_simulator
from interlink.simulators.accelo.simulator import DEFAULT_ACCESS_TOKEN, DEFAULT_WEBHOOK_SECRET, SERVICE_CLIENT_ID
from interlink.simulators.hubspot.oauth import DEFAULT_APP_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PRIVATE_APP_TOKEN
from interlink.sync.config import load_config
from interlink.workspaces import service as workspaces

SECRET = "bench-secret-key-0123456789abcdef0123456789abcdef"  # noqa: S105 - a throwaway bench database
HUBSPOT_URL, ACCELO_URL = "http://hubspot.bench", "http://accelo.bench"
CHANGED = ("firstname", "lastname", "phone", "jobtitle", "preferred_channel")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Bench:
    def __init__(self, contacts: int, workers: int, database_url: str) -> None:
        self.contacts = contacts
        self.workers = workers
        self.port = free_port()
        self.data_dir = Path(tempfile.mkdtemp(prefix="interlink-bench-"))
        self.settings = Settings(
            database_url=database_url,
            secret_key=SECRET,
            public_base_url=f"http://127.0.0.1:{self.port}",
            data_dir=self.data_dir,
        )
        schema.upgrade(database_url)
        self.db = Database(self.settings, pool_size=workers + 4)
        self.app = create_app(self.settings, database=self.db, embedded_worker=False)
        into_interlink = in_process_client(self.app, base_url=self.settings.public_base_url)
        self.hubspot_app = hubspot_simulator.create_app()
        self.hubspot = self.hubspot_app.state.simulator
        self.hubspot.configure_webhooks(enabled=False)  # the bench sends HubSpot's deliveries itself, timed
        self.hubspot.configure_rate_limits(per_interval=None, daily=None, search_per_second=None)
        with self.db.transaction() as session:
            workspace = workspaces.create_workspace(session, "Bench")
            self.workspace_id, self.slug = workspace.id, workspace.slug
        self.accelo_app = accelo_simulator.create_app(
            webhook_urls=[f"{self.settings.public_base_url}/webhooks/accelo/{self.slug}"],
            webhook_client_for=lambda _url: into_interlink,
            rate_limit=10_000_000,
        )
        self.accelo = self.accelo_app.simulator
        connectors = Connectors(
            self.app.state.cipher,
            db=self.db,
            accelo_options={"requests_per_window": 10_000_000, "window_seconds": 3600},
        )
        connectors.route(HUBSPOT_URL, in_process_client(self.hubspot_app, base_url=HUBSPOT_URL))
        connectors.route(ACCELO_URL, in_process_client(self.accelo_app, base_url=ACCELO_URL))
        install(self.db, connectors)
        self.connectors = connectors

    # -- setup ---------------------------------------------------------------------------------------------

    def connect(self) -> None:
        with self.db.transaction() as session:
            workspace = workspaces.find_workspace(session, self.slug)
            for credentials in (
                HubSpotCredentials(
                    portal_id=self.hubspot.portal_id,
                    access_token=DEFAULT_PRIVATE_APP_TOKEN,
                    client_secret=DEFAULT_CLIENT_SECRET,
                    app_id=DEFAULT_APP_ID,
                    base_url=HUBSPOT_URL,
                ),
                AcceloCredentials(
                    deployment="simulator",
                    client_id=SERVICE_CLIENT_ID,
                    access_token=DEFAULT_ACCESS_TOKEN,
                    access_token_expires_at=time.time() + 86400 * 30,
                    webhook_secret=DEFAULT_WEBHOOK_SECRET,
                    base_url=ACCELO_URL,
                ),
            ):
                connections.save_connection(session, workspace, credentials, self.app.state.cipher)
        # a custom HubSpot property mapped to an Accelo profile field
        client = self.connectors.hubspot(self._connection("hubspot"))
        from interlink.connectors.hubspot.schemas import PropertySpec

        client.properties.create(
            "contacts",
            PropertySpec(
                name="preferred_channel",
                label="Preferred channel",
                type="string",
                field_type="text",
                group_name="contactinformation",
            ),
        )
        field_id = self.accelo.add_profile_field("contact", "Preferred channel", field_type="text")
        with self.db.transaction() as session:
            workspace = workspaces.find_workspace(session, self.slug)
            source = LiveSchemaSource.for_workspace(session, workspace, self.connectors)
            mappings.create_field_mapping(
                session,
                workspace,
                FieldMappingCreate(
                    object_type=ObjectType.contact,
                    hubspot_property="preferred_channel",
                    accelo_field=f"profile:{field_id}",
                ),
                source,
            )
        self.profile_field_id = field_id

    def _connection(self, system: str) -> Any:
        from interlink.connections.repository import ConnectionRepo

        with self.db.transaction() as session:
            connection = ConnectionRepo(session, self.workspace_id).get_by_system(system)
            session.expunge_all()
        return connection

    def seed_linked_pairs(self) -> list[str]:
        people = [
            {
                "email": f"person{i}@bench.example",
                "firstname": f"First{i}",
                "lastname": f"Last{i}",
                "phone": f"+1 555 {i:07d}",
                "jobtitle": "Engineer",
                "preferred_channel": "email",
                "lifecyclestage": "customer",
            }
            for i in range(self.contacts)
        ]
        hubspot_ids = self.hubspot.seed("contacts", people)
        per_company = 10
        companies = []
        for start in range(0, self.contacts, per_company):
            companies.append(
                {
                    "name": f"Company {start // per_company}",
                    "contacts": [
                        {
                            "firstname": p["firstname"],
                            "surname": p["lastname"],
                            "email": p["email"],
                            "phone": p["phone"],
                            "position": p["jobtitle"],
                            "status": "Active",
                            "profile": {self.profile_field_id: p["preferred_channel"]},
                        }
                        for p in people[start : start + per_company]
                    ],
                }
            )
        accelo_ids = self.accelo.seed({"companies": companies})["contacts"]
        with self.db.transaction() as session:
            workspace = workspaces.find_workspace(session, self.slug)
            source = LiveSchemaSource.for_workspace(session, workspace, self.connectors)
            config = load_config(session, workspace, ObjectType.contact, source)
            rows = []
            for person, hubspot_id, accelo_id in zip(people, hubspot_ids, accelo_ids, strict=True):
                snapshot: dict[str, Any] = {
                    rule.key: rule.codec.from_hubspot(person.get(rule.hubspot_property)) for rule in config.fields
                }
                snapshot["status"] = {"hubspot": "customer", "accelo": "Active"}
                rows.append(
                    Link(
                        workspace_id=workspace.id,
                        object_type="contact",
                        hubspot_id=str(hubspot_id),
                        accelo_id=str(accelo_id),
                        state="in_sync",
                        matched_by="email",
                        snapshot=snapshot,
                        field_states={},
                    )
                )
            session.add_all(rows)
        return [str(i) for i in hubspot_ids]

    def change_everyone(self, hubspot_ids: list[str]) -> list[bytes]:
        """Each contact changed in 5 properties (as users would, webhooks held back); returns the deliveries."""
        events: list[dict[str, Any]] = []
        event_id = 1
        for index, contact in enumerate(hubspot_ids):
            changes = {
                "firstname": f"Firstx{index}",
                "lastname": f"Lastx{index}",
                "phone": f"+1 666 {index:07d}",
                "jobtitle": "Staff Engineer",
                "preferred_channel": "phone",
            }
            self.hubspot.update_as_user("contacts", contact, changes)
            now = int(time.time() * 1000)
            for name, value in changes.items():
                events.append(
                    {
                        "eventId": event_id,
                        "subscriptionId": 1,
                        "portalId": self.hubspot.portal_id,
                        "appId": DEFAULT_APP_ID,
                        "occurredAt": now,
                        "subscriptionType": "contact.propertyChange",
                        "attemptNumber": 0,
                        "objectId": int(contact),
                        "propertyName": name,
                        "propertyValue": value,
                        "changeSource": "CRM_UI",
                        "sourceId": "userId:9001",
                    }
                )
                event_id += 1
        return [json.dumps(events[start : start + 100]).encode() for start in range(0, len(events), 100)]

    # -- the measurements ----------------------------------------------------------------------------------

    def intake(self, deliveries: list[bytes]) -> tuple[float, int]:
        """POST the deliveries to a real `interlink serve` (no worker in it: intake only) from 8 threads."""
        env = {
            **os.environ,
            "INTERLINK_DATABASE_URL": self.settings.database_url,
            "INTERLINK_SECRET_KEY": SECRET,
            "INTERLINK_PUBLIC_BASE_URL": self.settings.public_base_url,
            "INTERLINK_DATA_DIR": str(self.data_dir),
            "INTERLINK_BROKER_URL": os.environ.get("INTERLINK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
            "INTERLINK_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "interlink", "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            url = f"{self.settings.public_base_url}/webhooks/hubspot"
            for _ in range(200):
                try:
                    if httpx.get(f"{self.settings.public_base_url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            local = threading.local()

            def post(body: bytes) -> int:
                client = getattr(local, "client", None) or httpx.Client(timeout=30)
                local.client = client
                stamp = str(int(time.time() * 1000))
                signature = signature_v3(DEFAULT_CLIENT_SECRET, "POST", url, body, stamp)
                headers = {
                    "Content-Type": "application/json",
                    "X-HubSpot-Signature-v3": signature,
                    "X-HubSpot-Request-Timestamp": stamp,
                }
                response = client.post(url, content=body, headers=headers)
                response.raise_for_status()
                return int(response.json()["accepted"])

            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                accepted = sum(pool.map(post, deliveries))
            return time.perf_counter() - started, accepted
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(20)

    def process(self) -> float:
        """Workers drain the inbox; Accelo's webhooks for our own writes come back in and are drained too."""
        started = time.perf_counter()
        while True:
            with ThreadPoolExecutor(self.workers) as pool:
                list(
                    pool.map(
                        lambda _: drain_workspace(self.db, self.workspace_id, time_budget_seconds=3600),
                        range(self.workers),
                    )
                )
            self.accelo.webhooks.flush(120)
            with self.db.transaction() as session:
                if not InboundEventRepository(session).has_due(self.workspace_id, utc_now()):
                    return time.perf_counter() - started

    def check(self) -> int:
        """Pairs whose Accelo side does not hold the HubSpot side's new values."""
        from sqlalchemy import select

        with self.db.reading() as session:
            pairs = session.execute(select(Link.hubspot_id, Link.accelo_id).where(Link.object_type == "contact")).all()
        wrong = 0
        for hubspot_id, accelo_id in pairs:
            hubspot_record, accelo = (
                self.hubspot.record("contacts", hubspot_id),
                self.accelo.record("contact", int(accelo_id)),
            )
            if hubspot_record is None or accelo is None:
                wrong += 1
                continue
            hubspot = hubspot_record["properties"]
            affiliation = self.accelo.state.affiliations.rows[int(accelo["default_affiliation"])]
            values = self.accelo.profile_values_of("contact", int(accelo_id))
            if (
                accelo["firstname"] != hubspot["firstname"]
                or accelo["surname"] != hubspot["lastname"]
                or affiliation["phone"] != hubspot["phone"]
                or affiliation["position"] != hubspot["jobtitle"]
                or values.get(self.profile_field_id) != hubspot["preferred_channel"]
            ):
                wrong += 1
        return wrong


def calls(sim: Any) -> list[dict[str, Any]]:
    return list(sim.calls.snapshot())


def hubspot_write_calls(snapshot: list[dict[str, Any]]) -> int:
    writes = ("batch/update", "batch/create", "batch/upsert", "batch/archive")
    return sum(
        row["count"]
        for row in snapshot
        if row["method"] in {"PATCH", "DELETE"}
        or any(route in row["route"] for route in writes)
        or (row["method"] == "POST" and row["route"] == "/crm/v3/objects/{object_type}")
    )


def count(snapshot: list[dict[str, Any]], *, methods: set[str] | None = None, exclude: tuple[str, ...] = ()) -> int:
    return sum(
        row["count"]
        for row in snapshot
        if (methods is None or row["method"] in methods) and not any(part in row["route"] for part in exclude)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--routes", action="store_true", help="also print the calls made per vendor route")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("INTERLINK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    url = create_scratch_postgres(args.database_url, f"bench_{uuid.uuid4().hex[:6]}")
    bench = Bench(args.contacts, args.workers, url)
    bench.connect()
    ids = bench.seed_linked_pairs()
    deliveries = bench.change_everyone(ids)
    events = args.contacts * len(CHANGED)
    hubspot_before, accelo_before = calls(bench.hubspot), calls(bench.accelo)
    intake_seconds, stored = bench.intake(deliveries)
    process_seconds = bench.process()
    wrong = bench.check()
    hubspot_now = calls(bench.hubspot)
    hubspot_calls = count(hubspot_now) - count(hubspot_before)
    hubspot_writes = hubspot_write_calls(hubspot_now) - hubspot_write_calls(hubspot_before)
    accelo_now = calls(bench.accelo)
    accelo_reads = count(accelo_now, methods={"GET"}) - count(accelo_before, methods={"GET"})
    accelo_writes = count(accelo_now, methods={"PUT", "POST", "DELETE"}) - count(
        accelo_before, methods={"PUT", "POST", "DELETE"}
    )
    n = args.contacts
    print(
        f"\nInterlink sync benchmark: {n:,} linked contacts x {len(CHANGED)} changed properties"
        f" = {events:,} webhook events"
    )
    print(
        f"  webhook intake        {events / intake_seconds:,.0f} events/s  ({intake_seconds:.2f} s for {events:,}; "
        f"{stored:,} stored, the rest coalesced into events already waiting)"
    )
    print(
        f"  synced end to end     {events / process_seconds:,.0f} changes/s  ({n / process_seconds:,.0f} records/s; "
        f"{process_seconds:.1f} s with {args.workers} workers)"
    )
    print(f"  records left wrong    {wrong}")
    print("  API calls per changed record (naive: 1 read + 1 write per event = 5 reads + 5 writes per record)")
    print(
        f"    HubSpot   {hubspot_calls / n:.3f}  ({hubspot_calls} calls; writes {hubspot_writes}: echoes caused none)"
    )
    print(
        f"    Accelo    reads {accelo_reads / n:.3f}  writes {accelo_writes / n:.3f}  "
        f"({accelo_reads} reads, {accelo_writes} writes: contact + affiliation + profile value per record)"
    )
    if args.routes:
        for name, before, now in (("HubSpot", hubspot_before, hubspot_now), ("Accelo", accelo_before, accelo_now)):
            print(f"  {name} calls by route")
            for route, made in sorted(route_counts(now, before).items(), key=lambda item: -item[1]):
                print(f"    {made:>7,}  {route}")


def route_counts(now: list[dict[str, Any]], before: list[dict[str, Any]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for sign, rows in ((1, now), (-1, before)):
        for row in rows:
            key = f"{row['method']} {row['route']}"
            totals[key] = totals.get(key, 0) + sign * row["count"]
    return {key: made for key, made in totals.items() if made}


if __name__ == "__main__":
    main()
