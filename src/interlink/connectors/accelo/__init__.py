"""Accelo: companies, contacts, affiliations, statuses, progressions, profile fields, webhooks, polling.

The public surface: ``accelo_client`` (the factory the sync engine calls) and ``AcceloClient``; the typed
records in ``schemas``; the error tree in ``errors``; webhook intake in ``webhooks``; change feeds and their
cursors in ``feeds``; query helpers (``ids``, ``modified_after``, ``order_by_asc``, …) in ``query``.
"""

from interlink.connectors.accelo.auth import AcceloOAuth, AcceloToken, MemoryTokenStore, TokenManager, TokenStore
from interlink.connectors.accelo.client import AcceloClient, accelo_client, rate_budget
from interlink.connectors.accelo.credentials import AcceloCredentials
from interlink.connectors.accelo.feeds import ChangeFeed, FeedBatch, FeedCursor
from interlink.connectors.accelo.schemas import (
    AffiliatedContact,
    Affiliation,
    Company,
    Contact,
    ObjectType,
    ProfileField,
    ProfileValue,
    Progression,
    ProgressionHistory,
    Status,
)
from interlink.connectors.accelo.webhooks import AcceloWebhookEvent, read_webhook, verify_signature

__all__ = [
    "AcceloClient",
    "AcceloCredentials",
    "AcceloOAuth",
    "AcceloToken",
    "AcceloWebhookEvent",
    "AffiliatedContact",
    "Affiliation",
    "ChangeFeed",
    "Company",
    "Contact",
    "FeedBatch",
    "FeedCursor",
    "MemoryTokenStore",
    "ObjectType",
    "ProfileField",
    "ProfileValue",
    "Progression",
    "ProgressionHistory",
    "Status",
    "TokenManager",
    "TokenStore",
    "accelo_client",
    "rate_budget",
    "read_webhook",
    "verify_signature",
]
