"""``interlink demo``: the whole loop in one process, on the embedded default.

Interlink's server with its embedded worker, and the HubSpot, Accelo and Accord simulators mounted beside it
(``/sim/hubspot``, ``/sim/accelo``, ``/sim/accord``), a ``demo`` workspace connected to all three, the default
mappings and demo sync rules, and a few seeded records. Edit a record in one simulator, as a user would, and
watch it arrive in the other; ask Interlink why a field changed. The simulators keep their records in
``./var`` (``demo-*.json``), so a restart picks up where the last run stopped.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session

from interlink import schema
from interlink.admin import auth
from interlink.app import create_app
from interlink.config import Settings
from interlink.connections import service as connections
from interlink.connections.registry import Connectors, install
from interlink.connectors.accelo.credentials import AcceloCredentials
from interlink.connectors.accord.credentials import AccordCredentials
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.db import Database
from interlink.errors import InterlinkError
from interlink.kit.asgi import in_process_client
from interlink.mappings import service as mappings
from interlink.mappings.live import LiveSchemaSource
from interlink.mappings.schemas import SyncRuleCreate
from interlink.models import Workspace
from interlink.simulators import accelo as accelo_simulator
from interlink.simulators import accord as accord_simulator
from interlink.simulators import hubspot as hubspot_simulator
from interlink.simulators.accelo.simulator import DEFAULT_ACCESS_TOKEN, DEFAULT_WEBHOOK_SECRET, SERVICE_CLIENT_ID
from interlink.simulators.accord.simulator import DEFAULT_SIGNING_SECRET
from interlink.simulators.hubspot.oauth import (
    DEFAULT_APP_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PRIVATE_APP_TOKEN,
)
from interlink.workspaces import service as workspaces

log = logging.getLogger(__name__)

WORKSPACE = "demo"
ADMIN_EMAIL = "admin@demo.example"
# Demo rules: customers (and companies) go to Accelo; Accelo's active contacts come to HubSpot.
DEMO_RULES: list[dict[str, Any]] = [
    {"object_type": "company", "direction": "pull", "condition": {"field": "name", "op": "is_set"}},
    {
        "object_type": "contact",
        "direction": "pull",
        "condition": {"field": "lifecyclestage", "op": "in", "value": ["opportunity", "customer", "evangelist"]},
    },
    {"object_type": "contact", "direction": "push", "condition": {"field": "status", "op": "eq", "value": "Active"}},
]
SEED_COMPANIES = [
    {"name": "Analytical Engines Ltd", "domain": "engines.example", "city": "London", "phone": "+44 20 7946 0001"},
    {"name": "Difference & Co", "domain": "difference.example", "city": "Manchester"},
]
SEED_CONTACTS = [
    ({"email": "ada@engines.example", "firstname": "Ada", "lastname": "Lovelace", "jobtitle": "Analyst",
      "lifecyclestage": "customer"}, 0),
    ({"email": "charles@engines.example", "firstname": "Charles", "lastname": "Babbage", "jobtitle": "Founder",
      "lifecyclestage": "customer"}, 0),
    ({"email": "mary@difference.example", "firstname": "Mary", "lastname": "Somerville", "lifecyclestage": "lead"}, 1),
]  # fmt: skip


@dataclass
class Demo:
    app: FastAPI
    base_url: str
    token: str
    admin_password: str
    hubspot_contact_id: str | None


def build(settings: Settings, base_url: str) -> Demo:
    """Migrate, wire the simulators to a ``demo`` workspace, seed on the first run, and return the app."""
    schema.upgrade(settings.database_url)
    app = create_app(settings)
    db: Database = app.state.db
    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    deliver_into_interlink = in_process_client(app, base_url=base_url)

    def deliver(_url: str) -> Any:
        return deliver_into_interlink

    hubspot_app = hubspot_simulator.create_app(
        state_file=data / "demo-hubspot.json",
        webhook_urls=[f"{base_url}/webhooks/hubspot"],
        webhook_client_for=deliver,
        webhook_retry_delays=[1, 5, 30],
    )
    accelo_app = accelo_simulator.create_app(
        state_file=data / "demo-accelo.json",
        webhook_urls=[f"{base_url}/webhooks/accelo/{WORKSPACE}"],
        webhook_client_for=deliver,
        webhook_retry_delays=[1, 5, 30],
    )
    accord_app = accord_simulator.create_app(
        state_file=data / "demo-accord.json",
        webhook_urls=[f"{base_url}/webhooks/accord/{WORKSPACE}"],
        webhook_client_for=deliver,
    )
    app.mount("/sim/hubspot", hubspot_app)
    app.mount("/sim/accelo", accelo_app)
    app.mount("/sim/accord", accord_app)
    _close_on_shutdown(app, [hubspot_app.state.simulator, accelo_app.simulator, accord_app.state.simulator])
    # Interlink's own calls to the simulators stay in-process, through the same app.
    connectors = Connectors(app.state.cipher, db=db)
    for path in ("/sim/hubspot", "/sim/accelo"):
        connectors.route(base_url + path, in_process_client(app, base_url=base_url + path))
    install(db, connectors)

    hubspot = hubspot_app.state.simulator
    first_run = hubspot.count("contacts") == 0
    with db.transaction() as session:
        workspace = _workspace(session)
        _connect(session, workspace, app, base_url)
        issued = workspaces.create_token(session, workspace, "demo")
        password = _admin(session, workspace)
    with db.transaction() as session:
        _rules(session, workspaces.find_workspace(session, WORKSPACE), connectors)
    if first_run:
        _seed(db, hubspot, accord_app.state.simulator)
    example = next(iter(_contact_ids(hubspot)), None)
    return Demo(app=app, base_url=base_url, token=issued.token, admin_password=password, hubspot_contact_id=example)


def _close_on_shutdown(app: FastAPI, simulators: list[Any]) -> None:
    """A mounted app's own lifespan never runs, so the simulators are closed (their records saved to their
    state files) when Interlink's app shuts down, after its worker has stopped."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        try:
            async with inner(running):
                yield
        finally:
            for simulator in simulators:
                simulator.close()

    app.router.lifespan_context = lifespan


def _workspace(session: Session) -> Workspace:
    try:
        return workspaces.find_workspace(session, WORKSPACE)
    except InterlinkError:
        return workspaces.create_workspace(session, "Demo", slug=WORKSPACE)


def _admin(session: Session, workspace: Workspace) -> str:
    """The demo's admin user, with a fresh password on every start (it is printed, never stored in clear)."""
    password = secrets.token_urlsafe(12)
    try:
        auth.set_password(session, auth.get_user(session, workspace.id, ADMIN_EMAIL), password)
    except InterlinkError:
        auth.create_user(session, workspace, ADMIN_EMAIL, password)
    return password


def _connect(session: Session, workspace: Workspace, app: FastAPI, base_url: str) -> None:
    cipher = app.state.cipher
    for credentials in (
        HubSpotCredentials.model_validate(
            {
                "portal_id": 1234567,
                "access_token": DEFAULT_PRIVATE_APP_TOKEN,
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "app_id": DEFAULT_APP_ID,
                "base_url": f"{base_url}/sim/hubspot",
            }
        ),
        AcceloCredentials.model_validate(
            {
                "deployment": "simulator",
                "client_id": SERVICE_CLIENT_ID,
                "access_token": DEFAULT_ACCESS_TOKEN,
                "access_token_expires_at": 4_102_444_800.0,  # the simulator's static token never expires
                "webhook_secret": DEFAULT_WEBHOOK_SECRET,
                "base_url": f"{base_url}/sim/accelo",
            }
        ),
        AccordCredentials.model_validate({"signing_secret": DEFAULT_SIGNING_SECRET}),
    ):
        connections.save_connection(session, workspace, credentials, cipher)


def _rules(session: Session, workspace: Workspace, connectors: Connectors) -> None:
    existing = {(slot.object_type, slot.direction) for slot in mappings.rule_slots(session, workspace.id) if slot.rule}
    source = LiveSchemaSource.for_workspace(session, workspace, connectors)
    for rule in DEMO_RULES:
        if (rule["object_type"], rule["direction"]) not in existing:
            mappings.create_rule(session, workspace, SyncRuleCreate.model_validate(rule), source)


def _seed(db: Database, hubspot: Any, accord: Any) -> None:
    """A few records, created as a HubSpot user would (so their webhooks start the first sync)."""
    companies = [hubspot.create_as_user("companies", company)["id"] for company in SEED_COMPANIES]
    for properties, company_index in SEED_CONTACTS:
        contact = hubspot.create_as_user("contacts", properties)["id"]
        hubspot.associate_as_user("contacts", contact, "companies", companies[company_index])
    try:
        from interlink.accord import service as accord_service

        deal_ids = hubspot.seed(
            "deals",
            [
                {"dealname": "Engines: mutual action plan", "amount": "120000", "pipeline": "default"},
                {"dealname": "Difference: pilot", "amount": "30000", "pipeline": "default"},
            ],
        )
        with db.transaction() as session:
            accord_service.provision(db, session, _workspace(session).id)
        for accord_record, deal_id in zip(accord.all_accords(), deal_ids, strict=False):
            accord.connect(accord_record.id, deal_id)
            accord.view(accord_record.id)
    except Exception:  # the demo still shows HubSpot <-> Accelo if the Accord part cannot start
        log.exception("could not set up the Accord part of the demo")


def _contact_ids(hubspot: Any) -> list[str]:
    record = hubspot.find_by_email(SEED_CONTACTS[0][0]["email"])
    return [str(record["id"])] if record else []


def instructions(demo: Demo) -> list[str]:
    base, token = demo.base_url, demo.token
    contact = demo.hubspot_contact_id or "<id>"
    auth = f'-H "Authorization: Bearer {token}"'
    return [
        f"Interlink demo on {base}  (API docs {base}/docs)",
        f"  admin UI     {base}/admin  (workspace {WORKSPACE}, {ADMIN_EMAIL}, password {demo.admin_password})",
        f"  API token    {token}",
        f"  simulators   HubSpot {base}/sim/hubspot   Accelo {base}/sim/accelo   Accord {base}/sim/accord",
        "",
        "Make an edit in HubSpot, as a user would:",
        f"  curl -X PATCH {base}/sim/hubspot/_sim/ui/contacts/{contact} -H 'Content-Type: application/json' "
        """-d '{"properties": {"jobtitle": "Chief Analyst"}}'""",
        "See it arrive in Accelo (the contact's job title lives on its affiliation):",
        f"  curl {auth} '{base}/api/v1/links?object_type=contact&q={contact}'",
        f"  curl -H 'Authorization: Bearer {DEFAULT_ACCESS_TOKEN}' "
        f"'{base}/sim/accelo/api/v0/affiliations?_fields=_ALL'",
        "Ask why it changed:",
        f"  curl {auth} {base}/api/v1/links/<link id>/history",
        "Change an Accord and watch its HubSpot deal's properties follow:",
        f"  curl {base}/sim/accord/_sim/accords",
    ]
