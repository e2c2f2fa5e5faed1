"""The inbox handler for HubSpot and Accelo events: the engine, over the workspace's connected vendors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from interlink.connections.registry import connectors_for
from interlink.connections.repository import ConnectionRepo
from interlink.connectors.accelo.client import AcceloClient
from interlink.connectors.hubspot.client import HubSpotClient
from interlink.db import Database
from interlink.inbox import handlers
from interlink.inbox.service import ClaimedBatch, RetryLater
from interlink.mappings.live import LiveSchemaSource
from interlink.mappings.schema_source import SchemaSource
from interlink.sync.adapters.accelo import AcceloAdapter
from interlink.sync.adapters.hubspot import HubSpotAdapter
from interlink.sync.engine import Engine, Gateway


def _clients(db: Database, workspace_id: uuid.UUID) -> tuple[HubSpotClient, AcceloClient]:
    connectors = connectors_for(db)
    with db.transaction() as session:
        repository = ConnectionRepo(session, workspace_id)
        hubspot, accelo = repository.get_by_system("hubspot"), repository.get_by_system("accelo")
        missing = [name for name, connection in (("HubSpot", hubspot), ("Accelo", accelo)) if connection is None]
        if hubspot is None or accelo is None:
            raise RetryLater(f"connect {' and '.join(missing)} to sync", delay_seconds=600)
        session.expunge_all()
    return connectors.hubspot(hubspot), connectors.accelo(accelo)


def gateway_for(db: Database, workspace_id: uuid.UUID) -> Gateway:
    """Clients for the workspace's two connections; without both, sync waits (the events stay queued)."""
    hubspot_client, accelo_client = _clients(db, workspace_id)
    return Gateway(
        hubspot=HubSpotAdapter(hubspot_client),
        accelo=AcceloAdapter(accelo_client),
        schema=LiveSchemaSource(hubspot_client=hubspot_client, accelo_client=accelo_client),
    )


@dataclass(frozen=True)
class BulkGateway:
    """A bulk job's view of a workspace's vendors: the same accounts and shared rate budgets as live syncing,
    but every call may spend only the job's share of each rate window, so live syncing always finds the rest.
    The adapters are concrete because a job also lists whole systems page by page."""

    hubspot: HubSpotAdapter
    accelo: AcceloAdapter
    schema: SchemaSource

    def gateway(self) -> Gateway:
        return Gateway(hubspot=self.hubspot, accelo=self.accelo, schema=self.schema)


def bulk_gateway_for(db: Database, workspace_id: uuid.UUID, share: float) -> BulkGateway:
    """The vendors of a workspace for a bulk job spending ``share`` (0-1] of each rate window."""
    hubspot_client, accelo_client = _clients(db, workspace_id)
    return BulkGateway(
        hubspot=HubSpotAdapter(hubspot_client.bulk(share)),
        accelo=AcceloAdapter(accelo_client.for_bulk(share)),
        schema=LiveSchemaSource(hubspot_client=hubspot_client, accelo_client=accelo_client),
    )


@handlers.register("hubspot")
@handlers.register("accelo")
def handle_vendor_events(db: Database, batch: ClaimedBatch) -> None:
    Engine(db, gateway_for(db, batch.workspace_id)).process(batch)
