from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr
from sqlalchemy.orm import Session

from interlink.connections.repository import AccountLookup, ConnectionRepo
from interlink.connections.schemas import CREDENTIAL_MODELS, ConnectionRead, SystemCredentials
from interlink.errors import Conflict, NotFound, ValidationFailed
from interlink.kit.crypto import CredentialCipher
from interlink.mappings.repository import SchemaSnapshotRepo
from interlink.models import Connection, Workspace

C = TypeVar("C", bound=BaseModel)

WEBHOOK_PATHS = {
    "hubspot": "/webhooks/hubspot",
    "accelo": "/webhooks/accelo/{slug}",
    "accord": "/webhooks/accord/{slug}",
}


def secret_fields(model: type[BaseModel]) -> set[str]:
    """Fields declared as SecretStr (optionally None): these, and only these, are encrypted."""
    names = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ()):
            names.add(name)
    return names


def save_connection(
    session: Session, workspace: Workspace, data: SystemCredentials, cipher: CredentialCipher
) -> Connection:
    """Create or replace a workspace's connection to one system. Secrets left out keep their stored value."""
    system = data.system
    secret_names = secret_fields(type(data))
    secrets = {
        name: value.get_secret_value() for name in secret_names if isinstance(value := getattr(data, name), SecretStr)
    }
    public = data.model_dump(mode="json", exclude=secret_names | {"system"})
    external_id = data.external_account_id
    if external_id is not None:
        owner = AccountLookup(session).by_account(system, external_id)
        if owner is not None and owner.workspace_id != workspace.id:
            raise Conflict(
                f"this {system} account ({external_id}) is already connected to another workspace",
                details={"field": "external_account_id"},
            )
    repository = ConnectionRepo(session, workspace.id)
    connection = repository.get_by_system(system)
    if connection is None:
        connection = repository.add(
            Connection(
                workspace_id=workspace.id,
                system=system,
                external_account_id=external_id,
                settings=public,
                credentials_ciphertext=cipher.encrypt(secrets),
                status="connected",
            )
        )
        return connection
    if (connection.external_account_id, connection.settings.get("base_url")) != (external_id, public.get("base_url")):
        # Another account: its fields, options and statuses are not the old one's.
        SchemaSnapshotRepo(session, workspace.id).forget(system)
    stored = cipher.decrypt(connection.credentials_ciphertext)
    connection.credentials_ciphertext = cipher.encrypt({**stored, **secrets})
    connection.settings = public
    connection.external_account_id = external_id
    connection.status = "connected"
    connection.status_detail = None
    session.flush()
    return connection


def update_secrets(connection: Connection, cipher: CredentialCipher, **secrets: Any) -> None:
    """Store refreshed tokens (OAuth) without touching the rest."""
    stored = cipher.decrypt(connection.credentials_ciphertext)
    stored.update({name: value for name, value in secrets.items()})
    connection.credentials_ciphertext = cipher.encrypt(stored)


def credentials_of(connection: Connection, cipher: CredentialCipher, model: type[C]) -> C:
    data = {
        **connection.settings,
        **cipher.decrypt(connection.credentials_ciphertext),
        "system": connection.system,
    }
    return model.model_validate(data)


def load_credentials(
    session: Session, workspace_id: uuid.UUID, system: str, cipher: CredentialCipher
) -> SystemCredentials:
    connection = get_by_system(session, workspace_id, system)
    model = CREDENTIAL_MODELS[system]
    return credentials_of(connection, cipher, model)


def get_by_system(session: Session, workspace_id: uuid.UUID, system: str) -> Connection:
    if system not in CREDENTIAL_MODELS:
        raise ValidationFailed(f"unknown system {system!r}", details={"allowed": sorted(CREDENTIAL_MODELS)})
    connection = ConnectionRepo(session, workspace_id).get_by_system(system)
    if connection is None:
        raise NotFound(f"this workspace has no {system} connection")
    return connection


def get_connection(session: Session, workspace_id: uuid.UUID, connection_id: uuid.UUID) -> Connection:
    connection = ConnectionRepo(session, workspace_id).get(connection_id)
    if connection is None:
        raise NotFound(f"connection {connection_id} not found")
    return connection


def list_connections(session: Session, workspace_id: uuid.UUID) -> Sequence[Connection]:
    return ConnectionRepo(session, workspace_id).list_all()


def delete_connection(session: Session, workspace_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    ConnectionRepo(session, workspace_id).delete(get_connection(session, workspace_id, connection_id))


def webhook_url(system: str, workspace: Workspace, public_base_url: str) -> str | None:
    path = WEBHOOK_PATHS.get(system)
    return None if path is None else public_base_url + path.format(slug=workspace.slug)


def mask(secret: str) -> str:
    return "••••" + secret[-4:] if len(secret) >= 16 else "••••"


def to_read(
    connection: Connection, workspace: Workspace, cipher: CredentialCipher, public_base_url: str
) -> ConnectionRead:
    stored = cipher.decrypt(connection.credentials_ciphertext)
    return ConnectionRead(
        id=connection.id,
        system=connection.system,
        external_account_id=connection.external_account_id,
        status=connection.status,
        status_detail=connection.status_detail,
        settings=connection.settings,
        secrets={name: mask(str(value)) for name, value in sorted(stored.items()) if value},
        webhook_url=webhook_url(connection.system, workspace, public_base_url),
        created_at=connection.created_at,
        updated_at=connection.updated_at,
        last_checked_at=connection.last_checked_at,
    )
