"""``SchemaSource`` over the vendor clients: HubSpot's properties, and Accelo's built-in fields plus its
profile fields, categories (segmentations) and statuses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy.orm import Session

from interlink.connections.registry import Connectors
from interlink.connections.repository import ConnectionRepo
from interlink.connectors.accelo.client import AcceloClient
from interlink.connectors.hubspot.client import HubSpotClient
from interlink.mappings.canonical import FieldType
from interlink.mappings.fields import (
    ACCELO_BUILTINS,
    ACCELO_PROFILE_TYPES,
    FieldSpec,
    ObjectType,
    System,
    hubspot_field_type,
)
from interlink.models import Workspace

PLURAL = {ObjectType.contact: "contacts", ObjectType.company: "companies"}


class LiveSchemaSource:
    def __init__(self, *, hubspot_client: HubSpotClient | None, accelo_client: AcceloClient | None) -> None:
        self.hubspot_client = hubspot_client
        self.accelo_client = accelo_client

    @classmethod
    def for_workspace(cls, session: Session, workspace: Workspace, connectors: Connectors) -> LiveSchemaSource:
        repository = ConnectionRepo(session, workspace.id)
        hubspot, accelo = repository.get_by_system("hubspot"), repository.get_by_system("accelo")
        return cls(
            hubspot_client=connectors.hubspot(hubspot) if hubspot is not None else None,
            accelo_client=connectors.accelo(accelo) if accelo is not None else None,
        )

    def connected(self, system: System) -> bool:
        return (self.hubspot_client if system == "hubspot" else self.accelo_client) is not None

    def fetch(self, system: System, object_type: ObjectType) -> list[FieldSpec]:
        if system == "hubspot":
            return self._hubspot_fields(object_type)
        return self._accelo_fields(object_type)

    def _hubspot_fields(self, object_type: ObjectType) -> list[FieldSpec]:
        assert self.hubspot_client is not None
        specs = []
        for definition in self.hubspot_client.properties.get_all(PLURAL[object_type]):
            field_type = hubspot_field_type(definition.type, definition.field_type)
            has_options = field_type in {FieldType.enumeration, FieldType.multi_select, FieldType.bool}
            specs.append(
                FieldSpec(
                    name=definition.name,
                    label=definition.label,
                    type=field_type,
                    options=definition.option_values if has_options and definition.options else None,
                    option_labels={o.value: o.label for o in definition.options} if definition.options else None,
                    read_only=definition.read_only,
                    source="property",
                    description=definition.description or None,
                )
            )
        return specs

    def _accelo_fields(self, object_type: ObjectType) -> list[FieldSpec]:
        client = self.accelo_client
        assert client is not None
        kind = cast(Any, object_type.value)
        specs = list(ACCELO_BUILTINS[object_type])
        for field in client.profiles.fields(kind):
            field_type = ACCELO_PROFILE_TYPES.get(field.field_type or "text", FieldType.string)
            specs.append(
                FieldSpec(
                    name=f"profile:{field.id}",
                    label=field.field_name or f"Profile field {field.id}",
                    type=field_type,
                    options=list(field.options) if field.options else None,
                    source="profile",
                    description=field.description,
                )
            )
        for segmentation in client.segmentations.definitions():
            if (segmentation.link_type or object_type.value) != object_type.value:
                continue
            specs.append(
                FieldSpec(
                    name=f"segmentation:{segmentation.id}",
                    label=segmentation.title or f"Category {segmentation.id}",
                    type=FieldType.multi_select,
                    read_only=True,
                    source="segmentation",
                    description="An Accelo category: read-only in Accelo's API, so it can only flow to HubSpot",
                )
            )
        statuses = [status.title or str(status.id) for status in client.statuses.all(kind)]
        specs.append(
            FieldSpec(
                name="status",
                label="Status",
                type=FieldType.enumeration,
                options=statuses,
                read_only=True,
                source="status",
                description="Changes only through progressions; synced by the status mappings",
            )
        )
        return specs

    def fetch_record(
        self, system: System, object_type: ObjectType, record_id: str, fields: Sequence[str] | None = None
    ) -> dict[str, Any]:
        from interlink.errors import NotFound
        from interlink.sync.adapters.accelo import AcceloAdapter
        from interlink.sync.plan import AcceloRecord

        if system == "hubspot":
            assert self.hubspot_client is not None
            names = list(fields) if fields is not None else [spec.name for spec in self._hubspot_fields(object_type)]
            found = self.hubspot_client.objects(PLURAL[object_type]).batch_read([record_id], properties=names)
            if record_id not in found.records:
                raise NotFound(f"HubSpot has no {object_type} {record_id}")
            return dict(found.records[record_id].properties)
        assert self.accelo_client is not None
        names = list(fields) if fields is not None else [spec.name for spec in self._accelo_fields(object_type)]
        record = AcceloAdapter(self.accelo_client).read(object_type.value, [record_id], names).get(record_id)
        if not isinstance(record, AcceloRecord):
            raise NotFound(f"Accelo has no {object_type} {record_id}")
        return {**record.fields, "status": record.status}
