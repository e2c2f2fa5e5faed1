"""A HubSpot simulator that HubSpot's official Python SDK accepts: CRM v3 objects, search, batches, merges,
properties, associations v4, pipelines, owners, OAuth, rate limits and signed webhooks.

    app = create_app(webhook_urls=["http://127.0.0.1:8000/webhooks/hubspot"])
    simulator = app.state.simulator       # a HubSpotSimulator: seed, edit as a user, count calls, reset
"""

from interlink.simulators.hubspot.app import create_app
from interlink.simulators.hubspot.limits import RateLimitSettings
from interlink.simulators.hubspot.oauth import (
    DEFAULT_APP_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PRIVATE_APP_TOKEN,
)
from interlink.simulators.hubspot.simulator import DEFAULT_PORTAL_ID, HubSpotSimulator

__all__ = [
    "DEFAULT_APP_ID",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_PORTAL_ID",
    "DEFAULT_PRIVATE_APP_TOKEN",
    "HubSpotSimulator",
    "RateLimitSettings",
    "create_app",
]
