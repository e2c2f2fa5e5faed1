"""Connecting HubSpot with OAuth (the authorization-code flow, reference/hubspot-api.md §7).

The admin gives the app's client id and secret (the secret also verifies HubSpot's webhook signatures);
Interlink sends the browser to HubSpot's authorize page with a one-time ``state``, HubSpot sends it back
with a ``code``, and ``complete`` trades the code for tokens and stores the connection, with the HubSpot
account (hub id) the tokens belong to. A sandbox (the HubSpot simulator) plays HubSpot's authorize page on
its API base URL.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from interlink.connections.registry import Connectors
from interlink.connections.service import save_connection
from interlink.connectors.hubspot.auth import HUBSPOT_APP_BASE_URL, OAuthApp
from interlink.connectors.hubspot.credentials import HUBSPOT_API_BASE_URL, HubSpotCredentials
from interlink.connectors.hubspot.errors import HubSpotError
from interlink.errors import ValidationFailed
from interlink.kit.crypto import CredentialCipher
from interlink.models import Connection, Workspace

# What syncing companies and contacts, and pushing Accord data to deals, needs (and nothing more).
SCOPES = (
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.schemas.contacts.read",
    "crm.schemas.companies.read",
)
OPTIONAL_SCOPES = (
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.schemas.deals.read",
    "crm.schemas.deals.write",
    "crm.objects.owners.read",
)


def _app(connectors: Connectors, base_url: str, client_id: str, client_secret: str) -> OAuthApp:
    return OAuthApp(
        connectors.http_client(base_url),
        client_id=client_id,
        client_secret=client_secret,
        base_url=base_url,
        budget_storage_uri=connectors.budget_storage_uri,
    )


def authorize_url(
    connectors: Connectors, *, base_url: str, client_id: str, client_secret: str, redirect_uri: str, state: str
) -> str:
    """Where to send the admin's browser. HubSpot's own API answers on one host and asks for consent on
    another; a sandbox answers both on its base URL."""
    base_url = base_url.rstrip("/")
    app_base = HUBSPOT_APP_BASE_URL if base_url == HUBSPOT_API_BASE_URL else base_url
    return _app(connectors, base_url, client_id, client_secret).authorize_url(
        redirect_uri, SCOPES, optional_scopes=OPTIONAL_SCOPES, state=state, app_base_url=app_base
    )


def complete(
    session: Session,
    workspace: Workspace,
    cipher: CredentialCipher,
    connectors: Connectors,
    *,
    code: str,
    redirect_uri: str,
    base_url: str,
    client_id: str,
    client_secret: str,
    app_id: int | None = None,
) -> Connection:
    """Trade the authorization code for tokens and store the HubSpot connection they open."""
    try:
        grant = _app(connectors, base_url, client_id, client_secret).exchange_code(code, redirect_uri)
    except HubSpotError as exc:
        raise ValidationFailed(f"HubSpot did not accept the authorization: {exc}", details={"field": "code"}) from None
    if not grant.hub_id:
        raise ValidationFailed("HubSpot's answer did not say which account the tokens are for; try again")
    credentials = HubSpotCredentials.model_validate(
        {
            "portal_id": grant.hub_id,
            "auth_type": "oauth",
            "access_token": grant.tokens.access_token,
            "refresh_token": grant.tokens.refresh_token,
            "access_token_expires_at": grant.tokens.expires_at,
            "client_id": client_id,
            "client_secret": client_secret,
            "app_id": app_id,
            "base_url": base_url.rstrip("/"),
        }
    )
    return save_connection(session, workspace, credentials, cipher)
