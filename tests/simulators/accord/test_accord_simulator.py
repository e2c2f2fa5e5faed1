"""The Accord simulator: its control surface, its signed deliveries, and the whole path into HubSpot deals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from interlink.connectors.accord.envelope import parse_envelope
from interlink.connectors.accord.signature import verify_signature
from interlink.db import Database
from interlink.kit.asgi import in_process_client
from interlink.kit.time import utc_now
from interlink.simulators.accord import DEFAULT_SIGNING_SECRET, SEEDED_IDS, AccordSimulator, create_app
from tests.accord.support import AccordTenant, HubSpotSandbox, create_accord_tenant, drain, start_hubspot
from tests.support.servers import free_port
from tests.support.waiting import wait_for

REPO_ROOT = Path(__file__).resolve().parents[3]


class Receiver:
    """A webhook target that answers with the statuses it is given, then 200."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()
        self.client = httpx.Client(transport=httpx.MockTransport(self.answer))

    def answer(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            return httpx.Response(self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


def simulator_for(receiver: Receiver, **options: object) -> AccordSimulator:
    return AccordSimulator(
        webhook_urls=["http://interlink.test/webhooks/accord/demo"],
        webhook_client_for=lambda _url: receiver.client,
        retry_delays=[0.01, 0.01, 0.01],
        **options,  # type: ignore[arg-type]
    )


def test_events_are_signed_envelopes_that_interlink_accepts(receiver: Receiver) -> None:
    sim = simulator_for(receiver, deal_ids={SEEDED_IDS[0]: "1001"})
    (event_id,) = sim.change(SEEDED_IDS[0], "step.updated", progress=60)
    assert sim.flush(5)
    (request,) = receiver.requests
    verify_signature(DEFAULT_SIGNING_SECRET, body=request.content, headers=dict(request.headers))
    envelope = parse_envelope(request.content, now=utc_now())
    assert envelope.event_id == event_id
    assert envelope.trigger.value == "step.updated"
    assert envelope.accord.id == SEEDED_IDS[0]
    assert envelope.accord.progress == 60
    assert envelope.accord.hubspot_deal_id == "1001"
    assert envelope.accord.status.value == "On Track"
    sim.close()


def test_only_accords_connected_to_a_deal_send_events(receiver: Receiver) -> None:
    sim = simulator_for(receiver)
    assert sim.view(SEEDED_IDS[2]) == []
    assert len(sim.fire(SEEDED_IDS[2], "accord.viewed", unconnected=True)) == 1
    assert sim.flush(5)
    body = json.loads(receiver.requests[0].content)
    assert "hubspot_deal_id" not in body["accord"]
    sim.close()


def test_failed_deliveries_are_retried_and_refusals_are_final() -> None:
    flaky = Receiver(503, 500)
    sim = simulator_for(flaky, deal_ids={SEEDED_IDS[0]: "1"})
    sim.view(SEEDED_IDS[0])
    assert sim.flush(5)
    assert sim.deliveries()[0]["outcomes"] == ["503", "500", "200"]
    # Each attempt is signed when it is sent.
    assert all(request.headers["x-accord-signature"].startswith("v1=") for request in flaky.requests)
    sim.close()

    refusing = Receiver(422)
    sim = simulator_for(refusing, deal_ids={SEEDED_IDS[0]: "1"})
    sim.view(SEEDED_IDS[0])
    assert sim.flush(5)
    assert sim.deliveries()[0]["outcomes"] == ["422"]
    sim.close()


def test_the_control_surface(receiver: Receiver) -> None:
    sim = simulator_for(receiver)
    app = create_app(simulator=sim)
    with in_process_client(app) as control:
        accords = control.get("/_sim/accords").json()
        assert [accord["id"] for accord in accords] == list(SEEDED_IDS)
        assert control.put(f"/_sim/accords/{SEEDED_IDS[1]}/deal", json={"hubspot_deal_id": "77"}).status_code == 200
        changed = control.patch(
            f"/_sim/accords/{SEEDED_IDS[1]}", json={"status": "Stalled", "trigger": "stage.deleted"}
        )
        assert changed.status_code == 200
        assert len(changed.json()["eventIds"]) == 1
        fired = control.post(f"/_sim/accords/{SEEDED_IDS[1]}/events", json={"trigger": "accord.viewed", "times": 3})
        assert len(fired.json()["eventIds"]) == 3
        created = control.post("/_sim/accords", json={"name": "Umbrella", "hubspot_deal_id": "78", "progress": 10})
        assert created.status_code == 201
        assert created.json()["progress"] == 10
        copy = control.post(f"/_sim/accords/{created.json()['id']}/duplicate", json={"hubspot_deal_id": "79"})
        assert copy.status_code == 201
        assert copy.json()["status"] == "Not Started"
        assert control.post("/_sim/deliveries/flush", json={"timeout": 5}).json() == {"flushed": True}
        triggers = [item["trigger"] for item in control.get("/_sim/deliveries").json()]
        assert triggers == [
            "stage.deleted",
            "accord.viewed",
            "accord.viewed",
            "accord.viewed",
            "accord.created",
            "accord.duplicated",
        ]
        assert control.patch(f"/_sim/accords/{SEEDED_IDS[1]}", json={"status": "Late"}).status_code == 400
        assert control.patch(f"/_sim/accords/{SEEDED_IDS[1]}", json={"colour": "red"}).status_code == 400
        assert control.get("/_sim/accords/nope").status_code == 404
        assert control.post(f"/_sim/accords/{SEEDED_IDS[1]}/events", json={"trigger": "x"}).status_code == 400
        assert control.put("/_sim/webhooks", json={"urls": [], "signingSecret": "s2"}).json() == {"webhookUrls": []}
        assert control.post("/_sim/reset").json() == {"reset": True}
        assert control.get("/_sim/state").json()["accords"][1]["hubspot_deal_id"] is None
    sim.close()


def test_state_survives_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    state = tmp_path / "accord.json"
    sim = simulator_for(receiver, state_file=state)
    sim.connect(SEEDED_IDS[0], "42")
    sim.change(SEEDED_IDS[0], progress=77)
    sim.close()
    again = AccordSimulator(state_file=state)
    accord = again.get(SEEDED_IDS[0])
    assert (accord.progress, accord.hubspot_deal_id) == (77, "42")
    again.close()


# -- end to end ----------------------------------------------------------------------------------------------


@pytest.fixture
def hubspot(db: Database) -> Iterator[HubSpotSandbox]:
    yield from start_hubspot(db)


def test_an_accord_change_reaches_the_hubspot_deal(app: FastAPI, db: Database, hubspot: HubSpotSandbox) -> None:
    tenant = create_accord_tenant(db, hubspot, secret=DEFAULT_SIGNING_SECRET)
    with in_process_client(app, "http://interlink.test") as interlink:
        assert interlink.post("/api/v1/accord/provision", headers=tenant.headers).status_code == 200
        deliver_through(interlink, tenant, db, hubspot)


def deliver_through(interlink: httpx.Client, tenant: AccordTenant, db: Database, hubspot: HubSpotSandbox) -> None:
    (deal,) = hubspot.deals(1, prefix="Acme rollout")
    sim = AccordSimulator(
        webhook_urls=[f"http://interlink.test/webhooks/accord/{tenant.slug}"],
        webhook_client_for=lambda _url: interlink,
        deal_ids={SEEDED_IDS[0]: deal},
    )
    sim.view(SEEDED_IDS[0])
    assert sim.flush(10)
    assert sim.deliveries()[0]["outcomes"] == ["200"]
    drain(db, tenant)
    properties = hubspot.deal(deal)
    assert properties["accord_status"] == "On Track"
    assert properties["current_stage"] == "Technical validation"
    assert properties["accord_progress"] == "45"
    assert properties["accord_url"] == f"https://app.inaccord.com/accords/{SEEDED_IDS[0]}"

    hubspot.reset_calls()
    sim.view(SEEDED_IDS[0], times=20)
    sim.customer_accepts(SEEDED_IDS[0])
    assert sim.flush(10)
    drain(db, tenant)
    assert hubspot.calls() == 1  # 20 views changed nothing; the acceptance changed one value
    assert hubspot.deal(deal)["number_of_customers_accepted"] == "4"

    sim.configure(signing_secret="not-the-workspace-secret")
    sim.change(SEEDED_IDS[0], progress=99)
    assert sim.flush(10)
    assert sim.deliveries()[-1]["outcomes"] == ["401"]
    sim.close()


def test_interlink_simulate_accord_serves_the_simulator(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERLINK_") or k.startswith("INTERLINK_TEST_")}
    env["INTERLINK_DATA_DIR"] = str(tmp_path)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "interlink",
            "simulate",
            "accord",
            "--port",
            str(port),
            "--state-file",
            str(tmp_path / "s.json"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def state() -> dict[str, object] | None:
            try:
                answer: dict[str, object] = httpx.get(f"http://127.0.0.1:{port}/_sim/state", timeout=1).json()
            except httpx.HTTPError:
                return None
            return answer

        found = wait_for(state, timeout=30, what="the Accord simulator to start")
        assert len(found["accords"]) == 3  # type: ignore[arg-type]
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
