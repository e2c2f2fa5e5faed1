"""The inbox handler for HubSpot and Accelo events: the engine, over the workspace's connected vendors."""

from __future__ import annotations

import uuid

from interlink.connections.registry import connectors_for
from interlink.connections.repository import ConnectionRepo
from interlink.db import Database
from interlink.inbox import handlers
from interlink.inbox.service import ClaimedBatch, RetryLater
from interlink.mappings.live import LiveSchemaSource
from interlink.sync.adapters.accelo import AcceloAdapter
from interlink.sync.adapters.hubspot import HubSpotAdapter
from interlink.sync.engine import Engine, Gateway


def gateway_for(db: Database, workspace_id: uuid.UUID) -> Gateway:
    """Clients for the workspace's two connections; without both, sync waits (the events stay queued)."""
    connectors = connectors_for(db)
    with db.transaction() as session:
        repository = ConnectionRepo(session, workspace_id)
        hubspot, accelo = repository.get_by_system("hubspot"), repository.get_by_system("accelo")
        missing = [name for name, connection in (("HubSpot", hubspot), ("Accelo", accelo)) if connection is None]
        if hubspot is None or accelo is None:
            raise RetryLater(f"connect {' and '.join(missing)} to sync", delay_seconds=600)
        session.expunge_all()
    hubspot_client, accelo_client = connectors.hubspot(hubspot), connectors.accelo(accelo)
    return Gateway(
        hubspot=HubSpotAdapter(hubspot_client),
        accelo=AcceloAdapter(accelo_client),
        schema=LiveSchemaSource(hubspot_client=hubspot_client, accelo_client=accelo_client),
    )


@handlers.register("hubspot")
@handlers.register("accelo")
def handle_vendor_events(db: Database, batch: ClaimedBatch) -> None:
    Engine(db, gateway_for(db, batch.workspace_id)).process(batch)
