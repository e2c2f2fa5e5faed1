"""OAuth tokens of a stored connection, as the HubSpot client's ``TokenStore``.

The client refreshes tokens under a lock shared by every worker process and saves them here before it
releases the lock, so each ``save`` commits its own short transaction: the next process to take the lock
must see the new tokens. ``load`` reads in its own transaction for the same reason (a caller's open
transaction could hold a stale snapshot).
"""

from __future__ import annotations

import uuid

from interlink.connections.service import credentials_of, get_by_system, update_secrets
from interlink.connectors.hubspot.auth import OAuthTokenSet
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.connectors.hubspot.errors import HubSpotAuthenticationFailed
from interlink.db import Database
from interlink.kit.crypto import CredentialCipher

BROKEN = "broken"


class ConnectionTokenStore:
    """The tokens of one workspace's HubSpot connection (``TokenStore`` for ``hubspot_client``)."""

    def __init__(self, db: Database, workspace_id: uuid.UUID, cipher: CredentialCipher) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self.cipher = cipher

    def load(self) -> OAuthTokenSet:
        with self.db.reading() as session:
            connection = get_by_system(session, self.workspace_id, "hubspot")
            credentials = credentials_of(connection, self.cipher, HubSpotCredentials)
        if credentials.refresh_token is None:
            raise HubSpotAuthenticationFailed("the HubSpot connection has no refresh token; reconnect HubSpot")
        return OAuthTokenSet(
            access_token=credentials.access_token.get_secret_value() if credentials.access_token else "",
            refresh_token=credentials.refresh_token.get_secret_value(),
            expires_at=credentials.access_token_expires_at or 0.0,
        )

    def save(self, tokens: OAuthTokenSet) -> None:
        with self.db.transaction() as session:
            connection = get_by_system(session, self.workspace_id, "hubspot")
            update_secrets(
                connection,
                self.cipher,
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                access_token_expires_at=tokens.expires_at,
            )
            # The expiry is not secret; keep the visible settings in step with what the tokens say.
            connection.settings = {**connection.settings, "access_token_expires_at": tokens.expires_at}

    def mark_broken(self, reason: str) -> None:
        """For the caller that got ``HubSpotAuthorizationRevoked``: an admin has to reconnect."""
        with self.db.transaction() as session:
            connection = get_by_system(session, self.workspace_id, "hubspot")
            connection.status = BROKEN
            connection.status_detail = reason
