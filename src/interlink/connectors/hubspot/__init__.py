"""HubSpot: CRM v3 objects, properties, associations v4, pipelines, owners, OAuth, webhooks.

The sync engine builds a client per connected account with ``hubspot_client(credentials, http_client=...)``
and verifies webhook deliveries with ``webhooks.verify_signature`` / ``webhooks.parse_events``.
"""

from interlink.connectors.hubspot.auth import (
    MemoryTokenStore,
    OAuthApp,
    OAuthGrant,
    OAuthTokens,
    OAuthTokenSet,
    RefreshLock,
    TokenStore,
    refresh_lock_for,
)
from interlink.connectors.hubspot.client import HubSpotClient, hubspot_client
from interlink.connectors.hubspot.limits import HubSpotRateLimits
from interlink.connectors.hubspot.objects import (
    AssociationInput,
    BatchOutcome,
    BatchReadResult,
    RecordCreate,
    RecordUpdate,
    RecordUpsert,
)
from interlink.connectors.hubspot.schemas import (
    Filter,
    FilterGroup,
    HubSpotObject,
    PropertyOption,
    PropertySpec,
    Sort,
)

__all__ = [
    "AssociationInput",
    "BatchOutcome",
    "BatchReadResult",
    "Filter",
    "FilterGroup",
    "HubSpotClient",
    "HubSpotObject",
    "HubSpotRateLimits",
    "MemoryTokenStore",
    "OAuthApp",
    "OAuthGrant",
    "OAuthTokenSet",
    "OAuthTokens",
    "PropertyOption",
    "PropertySpec",
    "RecordCreate",
    "RecordUpdate",
    "RecordUpsert",
    "RefreshLock",
    "Sort",
    "TokenStore",
    "hubspot_client",
    "refresh_lock_for",
]
