"""Where live field lists come from, and the cache in front of them.

``SchemaSource`` is what the mappings layer needs of the vendors (implemented over the HubSpot and Accelo
clients in ``interlink.mappings.live``). ``get_schema`` serves a cached snapshot when it is fresh, fetches
and stores a new one otherwise, and falls back to the last snapshot when a vendor cannot be reached.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from interlink.connectors.errors import ConnectorError
from interlink.errors import InterlinkError, ValidationFailed
from interlink.kit.time import utc_now
from interlink.mappings.fields import FieldSpec, ObjectType, System
from interlink.mappings.repository import SchemaSnapshotRepo
from interlink.models import SchemaSnapshot

if TYPE_CHECKING:
    from interlink.db import Database

log = logging.getLogger(__name__)

SCHEMA_MAX_AGE = timedelta(minutes=15)


class UpstreamUnavailable(InterlinkError):
    status_code = 502
    code = "upstream_error"


class SchemaSource(Protocol):
    def connected(self, system: System) -> bool: ...

    def fetch(self, system: System, object_type: ObjectType) -> list[FieldSpec]: ...

    def fetch_record(
        self, system: System, object_type: ObjectType, record_id: str, fields: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """One record's raw values keyed by the field names ``fetch`` lists (for "try the rule on a record").
        ``fields``: the names to read (from a cached schema); without them the field list is fetched too."""
        ...


def get_schema(
    session: Session,
    workspace_id: uuid.UUID,
    system: System,
    object_type: ObjectType,
    source: SchemaSource,
    *,
    refresh: bool = False,
    max_age: timedelta = SCHEMA_MAX_AGE,
) -> list[FieldSpec]:
    repository = SchemaSnapshotRepo(session, workspace_id)
    snapshot = repository.find(system, object_type)
    fresh = snapshot is not None and utc_now() - snapshot.fetched_at < max_age
    if snapshot is not None and fresh and not refresh:
        return [FieldSpec.model_validate(field) for field in snapshot.fields]
    if not source.connected(system):
        if snapshot is not None:
            return [FieldSpec.model_validate(field) for field in snapshot.fields]
        raise ValidationFailed(
            f"this workspace has no {system} connection, so its {object_type} fields are unknown",
            details={"field": "system", "fix": f"connect {system} first (PUT /api/v1/connections/{system})"},
        )
    try:
        fields = source.fetch(system, object_type)
    except ConnectorError as exc:
        if snapshot is not None:
            log.warning("using the cached %s %s schema: %s", system, object_type, exc)
            return [FieldSpec.model_validate(field) for field in snapshot.fields]
        raise UpstreamUnavailable(f"could not read {system}'s {object_type} fields: {exc}") from exc
    store_schema(session, workspace_id, system, object_type, fields)
    return fields


def schema_by_name(fields: list[FieldSpec]) -> dict[str, FieldSpec]:
    return {field.name: field for field in fields}


def warm_schemas(
    db: Database,
    workspace_id: uuid.UUID,
    object_type: ObjectType,
    source: SchemaSource,
    *,
    max_age: timedelta = SCHEMA_MAX_AGE,
) -> None:
    """Refresh stale snapshots of both systems' schemas, calling the vendors outside any transaction (a vendor
    call may renew a token, which writes), so a following ``get_schema`` in a transaction finds them fresh."""
    stale: list[System] = []
    with db.reading() as session:
        repository = SchemaSnapshotRepo(session, workspace_id)
        for system in ("hubspot", "accelo"):
            snapshot = repository.find(system, object_type)
            if (snapshot is None or utc_now() - snapshot.fetched_at >= max_age) and source.connected(system):
                stale.append(system)
    for system in stale:
        try:
            fields = source.fetch(system, object_type)
        except ConnectorError as exc:
            log.warning("could not refresh the %s %s schema (the cached one is used): %s", system, object_type, exc)
            continue
        with db.transaction() as session:
            store_schema(session, workspace_id, system, object_type, fields)


def store_schema(
    session: Session, workspace_id: uuid.UUID, system: System, object_type: ObjectType, fields: list[FieldSpec]
) -> None:
    repository = SchemaSnapshotRepo(session, workspace_id)
    snapshot = repository.find(system, object_type)
    dumped = [field.model_dump(mode="json") for field in fields]
    if snapshot is None:
        repository.add(SchemaSnapshot(workspace_id=workspace_id, system=system, object_type=object_type, fields=dumped))
    else:
        snapshot.fields = dumped
        snapshot.fetched_at = utc_now()
        session.flush()
