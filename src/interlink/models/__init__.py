"""Every ORM model, importable from one place so Alembic sees the whole schema."""

from interlink.kit.model import Model
from interlink.models.accord import AccordLink, AccordSettings
from interlink.models.admin import AdminSession, AdminUser
from interlink.models.connection import Connection
from interlink.models.cursor import SyncCursor
from interlink.models.inbox import InboundEvent
from interlink.models.job import Job
from interlink.models.ledger import LedgerEntry
from interlink.models.link import Link
from interlink.models.mapping import FieldMapping, SchemaSnapshot, StatusMapping, SyncRule
from interlink.models.workspace import ApiToken, Workspace

__all__ = [
    "AccordLink",
    "AccordSettings",
    "AdminSession",
    "AdminUser",
    "ApiToken",
    "Connection",
    "FieldMapping",
    "InboundEvent",
    "Job",
    "LedgerEntry",
    "Link",
    "Model",
    "SchemaSnapshot",
    "StatusMapping",
    "SyncCursor",
    "SyncRule",
    "Workspace",
]
