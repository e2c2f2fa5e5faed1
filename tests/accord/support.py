"""Accord test helpers: a workspace connected to an in-process HubSpot simulator, and signed events."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from interlink.accord import service
from interlink.connections.registry import connectors_for
from interlink.connections.service import save_connection
from interlink.connectors.accord.credentials import AccordCredentials
from interlink.connectors.accord.signature import signature_headers
from interlink.connectors.hubspot.client import HubSpotClient, hubspot_client
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.connectors.hubspot.limits import HubSpotRateLimits
from interlink.db import Database
from interlink.inbox.service import DrainResult, drain_workspace
from interlink.kit.asgi import in_process_client
from interlink.kit.crypto import CredentialCipher
from interlink.models import AccordLink, InboundEvent, LedgerEntry, Workspace
from interlink.simulators.hubspot import DEFAULT_PRIVATE_APP_TOKEN, HubSpotSimulator, create_app
from tests.fixtures.factories import Tenant, create_tenant

SIGNING_SECRET = "whsec-accord-test-0123456789abcdef"
BATCH_UPDATE = "/crm/v3/objects/{object_type}/batch/update"


@dataclass
class HubSpotSandbox:
    """A HubSpot simulator reachable, in-process, at ``base_url`` by every client the app builds."""

    simulator: HubSpotSimulator
    base_url: str
    portal_id: int
    client: HubSpotClient

    def deals(self, count: int, prefix: str = "Deal") -> list[str]:
        return self.simulator.seed("deals", [{"dealname": f"{prefix} {index}"} for index in range(count)])

    def deal(self, deal_id: str) -> dict[str, Any]:
        record = self.simulator.record("deals", deal_id)
        assert record is not None, f"no deal {deal_id}"
        properties: dict[str, Any] = record["properties"]
        return properties

    def calls(self, *, route: str | None = None, method: str | None = None) -> int:
        return self.simulator.calls.count(route=route, method=method)

    def writes(self) -> int:
        return self.calls(method="POST", route=BATCH_UPDATE) + self.calls(method="PATCH")

    def reset_calls(self) -> None:
        self.simulator.calls.reset()


def start_hubspot(db: Database) -> Iterator[HubSpotSandbox]:
    portal_id = random.randint(10_000_000, 99_999_999)  # a rate budget of its own, per test
    simulator = HubSpotSimulator(portal_id=portal_id)
    app = create_app(simulator=simulator)
    base_url = f"http://hubspot-{uuid.uuid4().hex[:10]}.sim"
    routed = in_process_client(app, base_url)
    connectors_for(db).route(base_url, routed)
    direct = in_process_client(app, base_url)
    client = hubspot_client(
        hubspot_credentials(base_url, portal_id),
        http_client=direct,
        limits=HubSpotRateLimits(per_interval=10_000, daily=None),
    )
    try:
        yield HubSpotSandbox(simulator, base_url, portal_id, client)
    finally:
        # Each in-process client runs the app on a helper thread: close them, never leave them to the garbage
        # collector (finalising an open portal from the collector can block the process).
        routed.close()
        direct.close()
        simulator.close()


def hubspot_credentials(base_url: str, portal_id: int) -> HubSpotCredentials:
    return HubSpotCredentials(portal_id=portal_id, access_token=SecretStr(DEFAULT_PRIVATE_APP_TOKEN), base_url=base_url)


@dataclass
class AccordTenant:
    tenant: Tenant
    secret: str

    @property
    def workspace(self) -> Workspace:
        return self.tenant.workspace

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.tenant.workspace.id

    @property
    def slug(self) -> str:
        return self.tenant.workspace.slug

    @property
    def headers(self) -> dict[str, str]:
        return self.tenant.headers


def create_accord_tenant(db: Database, hubspot: HubSpotSandbox | None, *, secret: str = SIGNING_SECRET) -> AccordTenant:
    tenant = create_tenant(db)
    cipher = CredentialCipher(db.settings.secret_keys())
    with db.transaction() as session:
        workspace = session.merge(tenant.workspace)
        save_connection(session, workspace, AccordCredentials(signing_secret=SecretStr(secret)), cipher)
        if hubspot is not None:
            save_connection(session, workspace, hubspot_credentials(hubspot.base_url, hubspot.portal_id), cipher)
    return AccordTenant(tenant, secret)


# -- events --------------------------------------------------------------------------------------------------

_clock = {"at": datetime(2026, 11, 22, 9, 0, tzinfo=UTC)}


def next_time() -> datetime:
    """Strictly increasing event times (the newest event of an Accord wins)."""
    _clock["at"] += timedelta(milliseconds=1)
    return min(_clock["at"], datetime.now(UTC))


def accord_data(accord_id: str, deal_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": accord_id,
        "url": f"https://app.inaccord.com/accords/{accord_id}",
        "status": "On Track",
        "current_stage": "Technical validation",
        "customers_invited": 4,
        "customers_accepted": 3,
        "progress": 45,
        "execution_score": 82.5,
    }
    if deal_id is not None:
        data["hubspot_deal_id"] = deal_id
    data.update(overrides)
    return data


def envelope(
    accord_id: str,
    deal_id: str | None = None,
    *,
    trigger: str = "accord.viewed",
    occurred_at: datetime | None = None,
    event_id: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    return {
        "event_id": event_id or f"evt_{uuid.uuid4().hex}",
        "trigger": trigger,
        "occurred_at": (occurred_at or next_time()).isoformat().replace("+00:00", "Z"),
        "accord": accord_data(accord_id, deal_id, **overrides),
    }


def signed(body: bytes, secret: str = SIGNING_SECRET, *, timestamp: int | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json", **signature_headers(secret, body, timestamp=timestamp)}


def post_event(client: TestClient, tenant: AccordTenant, event: dict[str, Any] | bytes, **sign: Any) -> Any:
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    return client.post(f"/webhooks/accord/{tenant.slug}", content=body, headers=signed(body, tenant.secret, **sign))


def accept(db: Database, tenant: AccordTenant, event: dict[str, Any]) -> str:
    """Deliver one event through the intake service (signed and verified, without HTTP), for bulk tests."""
    body = json.dumps(event).encode()
    ack = service.accept_webhook(
        db,
        CredentialCipher(db.settings.secret_keys()),
        slug=tenant.slug,
        body=body,
        headers=signed(body, tenant.secret),
    )
    return ack.status


def drain(db: Database, tenant: AccordTenant) -> DrainResult:
    return drain_workspace(db, tenant.workspace_id, time_budget_seconds=600)


# -- looking at the database ---------------------------------------------------------------------------------


def link_of(db: Database, tenant: AccordTenant, accord_id: str) -> AccordLink | None:
    with db.session() as session:
        return session.scalars(
            select(AccordLink).where(AccordLink.workspace_id == tenant.workspace_id, AccordLink.accord_id == accord_id)
        ).one_or_none()


def ledger_rows(db: Database, tenant: AccordTenant, action: str | None = None) -> list[LedgerEntry]:
    with db.session() as session:
        statement = select(LedgerEntry).where(LedgerEntry.workspace_id == tenant.workspace_id)
        if action is not None:
            statement = statement.where(LedgerEntry.action == action)
        return list(session.scalars(statement.order_by(LedgerEntry.id)))


def events_by_status(db: Database, tenant: AccordTenant) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(
            select(InboundEvent.status, func.count())
            .where(InboundEvent.workspace_id == tenant.workspace_id)
            .group_by(InboundEvent.status)
        ).all()
    return {status: count for status, count in rows}


def stored_events(db: Database, tenant: AccordTenant) -> int:
    return sum(events_by_status(db, tenant).values())
