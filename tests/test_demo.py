"""`interlink demo`, run as a user runs it: it is alive and ready, a HubSpot edit reaches Accelo, the printed
credentials work (and a wrong token gets 401), Ctrl-C stops it, and a restart carries on with the same records
instead of seeding them again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from interlink.simulators.accelo.simulator import DEFAULT_ACCESS_TOKEN
from tests.support.servers import free_port

ACCELO = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"}


@contextmanager
def running_demo(data_dir: Path, port: int) -> Iterator[dict[str, str]]:
    env = {
        **os.environ,
        "INTERLINK_DATA_DIR": str(data_dir),
        "INTERLINK_DATABASE_URL": f"sqlite:///{data_dir / 'interlink.db'}",
        "INTERLINK_POLL_INTERVAL_SECONDS": "3600",
    }
    for name in ("INTERLINK_BROKER_URL", "INTERLINK_SECRET_KEY", "INTERLINK_PUBLIC_BASE_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "interlink", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    printed: dict[str, str] = {}
    output: list[str] = []

    def read() -> None:  # keep reading, so a chatty demo never blocks on a full pipe
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if match := re.search(r"API token\s+(\S+)", line):
                printed["token"] = match.group(1)
            if match := re.search(r"password (\S+)\)", line):
                printed["password"] = match.group(1)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200, "the demo to be ready")
        assert set(printed) == {"token", "password"}, "".join(output)
        yield printed
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        finally:
            if process.poll() is None:
                process.kill()
            reader.join(5)
            assert process.stdout is not None
            process.stdout.close()
    assert process.returncode == 0, "Ctrl-C should stop the demo cleanly"


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def accelo_positions(base: str) -> dict[str, str]:
    """Contact email -> job title, as Accelo holds them (both live on the contact's affiliation)."""
    rows = httpx.get(f"{base}/sim/accelo/api/v0/affiliations", params={"_fields": "email,position"}, headers=ACCELO)
    return {row["email"]: row.get("position") or "" for row in rows.json()["response"] or []}


def hubspot_contact(base: str, email: str) -> dict[str, Any]:
    response = httpx.get(
        f"{base}/sim/hubspot/crm/v3/objects/contacts/{email}",
        params={"idProperty": "email", "properties": "jobtitle"},
        headers={"Authorization": "Bearer pat-na1-sandbox-0000-0000-0000-000000000000"},
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def sign_in(base: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base) as browser:
        form = browser.get("/admin/sign-in")
        token = re.search(r'name="sign_in_token" value="([^"]+)"', form.text)
        assert token is not None
        return browser.post(
            "/admin/sign-in",
            data={
                "workspace": "demo",
                "email": "admin@demo.example",
                "password": password,
                "sign_in_token": token.group(1),
            },
        )


def test_the_demo_syncs_an_edit_and_picks_up_where_it_stopped(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_demo(tmp_path, port) as printed:
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        workspace = httpx.get(f"{base}/api/v1/workspace", headers={"Authorization": f"Bearer {printed['token']}"})
        assert workspace.status_code == 200
        assert workspace.json()["slug"] == "demo"
        forged = httpx.get(f"{base}/api/v1/workspace", headers={"Authorization": f"Bearer {printed['token']}x"})
        assert forged.status_code == 401
        assert forged.json()["error"]["code"] == "unauthorized"
        # The seeded customers reach Accelo through the same webhooks a real HubSpot would send.
        wait_for(lambda: accelo_positions(base).get("ada@engines.example") == "Analyst", "Ada to reach Accelo")
        assert sign_in(base, printed["password"]).status_code == 303
        refused = sign_in(base, "not-the-password")
        assert refused.status_code == 401
        assert "password" in refused.text  # the form again, saying why

        ada = hubspot_contact(base, "ada@engines.example")["id"]
        edited = httpx.patch(
            f"{base}/sim/hubspot/_sim/ui/contacts/{ada}", json={"properties": {"jobtitle": "Chief Analyst"}}
        )
        assert edited.status_code == 200, edited.text
        wait_for(lambda: accelo_positions(base).get("ada@engines.example") == "Chief Analyst", "the edit to sync")

        links = httpx.get(
            f"{base}/api/v1/links",
            params={"object_type": "contact", "q": ada},
            headers={"Authorization": f"Bearer {printed['token']}"},
        ).json()["items"]
        (link,) = links
        history = httpx.get(
            f"{base}/api/v1/links/{link['id']}/history", headers={"Authorization": f"Bearer {printed['token']}"}
        ).json()["items"]
        why = [entry for entry in history if (entry["field"] or "").startswith("jobtitle")]
        assert [(e["action"], e["direction"], e["new_value"]) for e in why][:1] == [
            ("updated", "to_accelo", "Chief Analyst")
        ], history

        first_run = accelo_positions(base)  # and stop at once: what was synced must survive the restart

    with running_demo(tmp_path, port) as printed_again:
        assert accelo_positions(base) == first_run  # nothing seeded twice, nothing lost
        assert hubspot_contact(base, "ada@engines.example")["properties"]["jobtitle"] == "Chief Analyst"
        assert sign_in(base, printed_again["password"]).status_code == 303
        assert printed_again["password"] != printed["password"]
