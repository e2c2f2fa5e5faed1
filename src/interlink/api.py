"""The REST API under /api/v1: every route is workspace-scoped by its bearer token."""

from fastapi import APIRouter

from interlink.connections.endpoints import router as connections_router
from interlink.inbox.endpoints import router as inbox_router
from interlink.workspaces.endpoints import router as workspaces_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(workspaces_router)
api_router.include_router(connections_router)
api_router.include_router(inbox_router)
