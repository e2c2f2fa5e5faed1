"""Routers: the REST API under /api/v1 (every route workspace-scoped by its bearer token), and the vendor
webhook endpoints under /webhooks (authenticated by the vendor's signature instead)."""

from fastapi import APIRouter

from interlink.accord.endpoints import router as accord_router
from interlink.accord.endpoints import webhook_router as accord_webhook_router
from interlink.connections.endpoints import router as connections_router
from interlink.inbox.endpoints import router as inbox_router
from interlink.jobs.endpoints import router as jobs_router
from interlink.mappings.endpoints import router as mappings_router
from interlink.sync.endpoints import ledger_router
from interlink.sync.endpoints import router as links_router
from interlink.sync.intake import router as intake_router
from interlink.workspaces.endpoints import router as workspaces_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(workspaces_router)
api_router.include_router(connections_router)
api_router.include_router(inbox_router)
api_router.include_router(links_router)
api_router.include_router(ledger_router)
api_router.include_router(mappings_router)
api_router.include_router(accord_router)
api_router.include_router(jobs_router)

webhooks_router = APIRouter(prefix="/webhooks", tags=["webhooks"])
webhooks_router.include_router(intake_router)
webhooks_router.include_router(accord_webhook_router)
