"""An Accelo connection's current access token, kept in the connection's encrypted credentials.

``interlink.connectors.accelo`` never touches the database: its ``TokenManager`` asks a ``TokenStore`` for
the token and hands it any token it renews. This is the product's store. Every read and write runs in its
own short transaction, so a renewed token is committed even when the work that needed it rolls back: a web
application's refresh token may change on renewal, and losing it would disconnect the workspace. Saves lock
the connection row, so two workers renewing at once write one after the other.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from interlink.connections.service import update_secrets
from interlink.connectors.accelo.auth import AcceloToken
from interlink.db import Database
from interlink.kit.crypto import CredentialCipher
from interlink.models import Connection


class ConnectionTokenStore:
    def __init__(self, db: Database, cipher: CredentialCipher, connection_id: uuid.UUID) -> None:
        self.db = db
        self.cipher = cipher
        self.connection_id = connection_id

    def load(self) -> AcceloToken | None:
        with self.db.reading() as session:
            connection = session.get(Connection, self.connection_id)
            if connection is None or connection.system != "accelo":
                return None
            secrets = self.cipher.decrypt(connection.credentials_ciphertext)
            access_token = secrets.get("access_token")
            refresh_token = secrets.get("refresh_token")
            if not access_token and not refresh_token:
                return None
            expires_at = connection.settings.get("access_token_expires_at")
            return AcceloToken(
                access_token=str(access_token or ""),
                expires_at=float(expires_at) if expires_at is not None else (0.0 if not access_token else None),
                refresh_token=str(refresh_token) if refresh_token else None,
            )

    def save(self, token: AcceloToken) -> None:
        with self.db.transaction() as session:
            connection = session.scalars(
                select(Connection).where(Connection.id == self.connection_id).with_for_update()
            ).one_or_none()
            if connection is None:
                return  # the connection was deleted meanwhile; nothing to keep the token for
            secrets: dict[str, str] = {"access_token": token.access_token}
            if token.refresh_token is not None:
                secrets["refresh_token"] = token.refresh_token
            update_secrets(connection, self.cipher, **secrets)
            connection.settings = {**connection.settings, "access_token_expires_at": token.expires_at}
