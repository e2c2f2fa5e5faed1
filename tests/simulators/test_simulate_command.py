"""`interlink simulate hubspot` and `interlink simulate accelo`, run as an admin runs them: a separate process on
a free port, called over HTTP with the credentials it prints, then stopped (keeping its records in the state
file)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.servers import free_port
from tests.support.waiting import wait_for


@dataclass
class Running:
    url: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def printed(self, label: str) -> str:
        """The value printed after ``label`` in the start-up banner."""
        for line in list(self.lines):
            match = re.match(rf"\s*{re.escape(label)}\s{{2,}}(\S.*?)\s*$", line)
            if match:
                return match.group(1)
        raise AssertionError(f"{label!r} not printed; output so far: {self.lines}")


@contextmanager
def simulate(vendor: str, state_file: Path) -> Iterator[Running]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERLINK_") or k.startswith("INTERLINK_TEST_")}
    env |= {"INTERLINK_DATA_DIR": str(state_file.parent), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    command = [sys.executable, "-m", "interlink", "simulate", vendor, "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--state-file", str(state_file)],
        cwd=state_file.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Running(f"http://127.0.0.1:{port}", process)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(
            lambda: any("Uvicorn running" in line for line in running.lines) or process.poll() is not None,
            timeout=60,
            what=f"`interlink simulate {vendor}` to start",
        )
        assert process.poll() is None, running.lines
        assert running.lines[0] == f"{vendor} simulator on {running.url} (control surface under /_sim)"
        yield running
    finally:
        process.terminate()
        process.wait(timeout=15)
        reader.join(5)
        assert process.stdout is not None
        process.stdout.close()


def test_simulate_hubspot_serves_the_crm_api_with_the_printed_token(tmp_path: Path) -> None:
    state = tmp_path / "hubspot.json"
    with simulate("hubspot", state) as running:
        token = running.printed("private-app token")
        assert running.printed("portal id") == "1234567"
        contacts = f"{running.url}/crm/v3/objects/contacts"
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
            made = http.post(contacts, json={"properties": {"email": "ada@example.com", "firstname": "Ada"}})
            assert made.status_code == 201, made.text
            contact_id = made.json()["id"]
            read = http.get(f"{contacts}/{contact_id}", params={"properties": "email,firstname"})
            assert read.status_code == 200, read.text
            assert read.json()["properties"]["firstname"] == "Ada"
        assert httpx.get(contacts, timeout=10).status_code == 401  # the token is what lets a caller in
        assert httpx.get(contacts, headers={"Authorization": "Bearer nope"}, timeout=10).status_code == 401
    assert running.process.returncode is not None
    assert "ada@example.com" in state.read_text()  # stopping kept the records for the next start


def test_simulate_accelo_serves_the_api_with_the_printed_credentials(tmp_path: Path) -> None:
    state = tmp_path / "accelo.json"
    with simulate("accelo", state) as running:
        assert running.printed("deployment") == "simulator"
        static_token = running.printed("access token")
        client_id, client_secret = running.printed("service app").split(" / ")
        companies = f"{running.url}/api/v0/companies"
        with httpx.Client(timeout=10) as http:
            made = http.post(
                companies, data={"name": "Planet Express"}, headers={"Authorization": f"Bearer {static_token}"}
            )
            assert made.status_code == 200, made.text
            assert made.json()["meta"]["status"] == "ok"
            company_id = made.json()["response"]["id"]

            # The service application's printed id and secret get a token of their own (client credentials).
            grant = http.post(
                f"{running.url}/oauth2/v0/token",
                data={"grant_type": "client_credentials", "scope": "read(all)"},
                auth=(client_id, client_secret),
            )
            assert grant.status_code == 200, grant.text
            issued = grant.json()["access_token"]
            listed = http.get(companies, params={"_fields": "name"}, headers={"Authorization": f"Bearer {issued}"})
            assert listed.status_code == 200, listed.text
            assert [(c["id"], c["name"]) for c in listed.json()["response"]] == [(company_id, "Planet Express")]

            refused = http.get(companies)
            assert refused.status_code == 401
            assert refused.json()["meta"]["status"] == "invalid_client"
    assert running.process.returncode is not None
    assert "Planet Express" in json.dumps(json.loads(state.read_text()))
