""" "Test connection": one cheap, read-only call with the stored credentials, and a plain-words answer.

HubSpot: read the contact properties (needs the CRM schema scope every sync needs anyway). Accelo: ask whose
token it is. Accord has no API to call (it only sends to us), so its check reports whether a signing secret
is stored and when the last signed Accord event arrived. The result is kept on the connection (status,
detail, time) so every screen shows the latest answer.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from interlink.connections.registry import Connectors
from interlink.connections.service import get_by_system
from interlink.connectors.accelo.errors import AcceloError
from interlink.connectors.errors import ConnectorError
from interlink.connectors.hubspot.errors import HubSpotAuthenticationFailed, HubSpotAuthorizationRevoked
from interlink.inbox.service import list_events
from interlink.kit.crypto import CredentialCipher
from interlink.kit.time import utc_now
from interlink.models import Connection, Workspace


class ConnectionCheck(BaseModel):
    system: str
    ok: bool = Field(description="The credentials work")
    message: str = Field(description="What was tried and what came back, in plain words")
    checked_at: datetime


def check_connection(
    session: Session,
    workspace: Workspace,
    system: str,
    connectors: Connectors,
    cipher: CredentialCipher,
    *,
    connection: Connection | None = None,
) -> ConnectionCheck:
    """``connection``: the row, when the caller has it loaded. The vendor call then comes before this session
    touches the database: a first OAuth or service-app token is stored by the client in a transaction of its
    own, which on SQLite must not find this one's snapshot open."""
    connection = connection or get_by_system(session, workspace.id, system)
    if system == "hubspot":
        ok, message = _check_hubspot(connection, connectors)
    elif system == "accelo":
        ok, message = _check_accelo(connection, connectors)
    else:
        ok, message = _check_accord(session, workspace, connection, cipher)
    now = utc_now()
    connection.last_checked_at = now
    connection.status = "connected" if ok else "error"
    connection.status_detail = None if ok else message
    session.flush()
    return ConnectionCheck(system=system, ok=ok, message=message, checked_at=now)


def _check_hubspot(connection: Connection, connectors: Connectors) -> tuple[bool, str]:
    try:
        client = connectors.hubspot(connection)
        properties = client.properties.get_all("contacts")
    except (HubSpotAuthenticationFailed, HubSpotAuthorizationRevoked) as exc:
        return False, f"HubSpot did not accept the credentials: {exc}. Paste a new token, or connect again."
    except ConnectorError as exc:
        return False, f"HubSpot could not be reached or refused the call: {exc}"
    return True, (
        f"Connected to HubSpot account {connection.external_account_id}: read {len(properties)} contact properties."
    )


def _check_accelo(connection: Connection, connectors: Connectors) -> tuple[bool, str]:
    try:
        info = connectors.accelo(connection).token_info()
    except AcceloError as exc:
        return False, f"Accelo refused the call: {exc}. Check the client id and secret of the service app."
    except ConnectorError as exc:
        return False, f"Accelo could not be reached: {exc}"
    who = " ".join(part for part in (info.firstname, info.surname) if part) or info.email or "the service app"
    deployment = info.deployment or connection.external_account_id
    return True, f"Connected to Accelo deployment {deployment} as {who}."


def _check_accord(
    session: Session, workspace: Workspace, connection: Connection, cipher: CredentialCipher
) -> tuple[bool, str]:
    stored = cipher.decrypt(connection.credentials_ciphertext)
    if not stored.get("signing_secret"):
        return False, "No signing secret is stored: Accord's events would be refused. Paste the secret Accord shows."
    latest = list_events(session, workspace.id, status=None, source="accord", before_id=None, limit=1)
    if not latest:
        return True, (
            "The signing secret is stored. Accord has not sent an event yet: change something in an Accord "
            "linked to a deal, then test again."
        )
    when = latest[0].received_at.strftime("%Y-%m-%d %H:%M UTC")
    return True, f"The signing secret is stored, and the last signed Accord event arrived {when}."
