"""Building reconcile's SyncConfig for a workspace and object type, from its mappings, rules and schemas."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from interlink.mappings.canonical import InvalidValue
from interlink.mappings.codec import codec_for
from interlink.mappings.fields import ObjectType
from interlink.mappings.repository import FieldMappingRepo
from interlink.mappings.schema_source import SchemaSource, get_schema, schema_by_name
from interlink.mappings.service import active_rule, status_maps
from interlink.models import Workspace
from interlink.sync.plan import FieldRule, SyncConfig
from interlink.workspaces.service import options_of

log = logging.getLogger(__name__)


def load_config(session: Session, workspace: Workspace, object_type: ObjectType, source: SchemaSource) -> SyncConfig:
    options = options_of(workspace)
    hubspot_schema = schema_by_name(get_schema(session, workspace.id, "hubspot", object_type, source))
    accelo_schema = schema_by_name(get_schema(session, workspace.id, "accelo", object_type, source))
    fields = []
    for mapping in FieldMappingRepo(session, workspace.id).for_type(object_type, enabled_only=True):
        hubspot = hubspot_schema.get(mapping.hubspot_property)
        accelo = accelo_schema.get(mapping.accelo_field)
        if hubspot is None or accelo is None:
            # A field that disappeared from a system since the mapping was saved: the mapping waits.
            log.warning("mapping %s <-> %s skipped: field missing", mapping.hubspot_property, mapping.accelo_field)
            continue
        try:
            codec = codec_for(hubspot.type, accelo.type, mapping.direction, mapping.value_map)
        except InvalidValue as exc:
            log.warning("mapping %s <-> %s skipped: %s", mapping.hubspot_property, mapping.accelo_field, exc)
            continue
        fields.append(
            FieldRule(
                key=mapping.key,
                hubspot_property=mapping.hubspot_property,
                accelo_field=mapping.accelo_field,
                direction=mapping.direction,  # type: ignore[arg-type]
                conflict_policy=mapping.conflict_policy,  # type: ignore[arg-type]
                codec=codec,
            )
        )
    status_property = options.status_property(object_type)
    return SyncConfig(
        object_type=object_type.value,
        fields=tuple(fields),
        status_property=status_property,
        status_maps=status_maps(session, workspace.id, object_type),
        status_policy=options.status_conflict_policy,
        status_ordered=status_property == "lifecyclestage",
        allow_backward=options.allow_lifecycle_backward,
        pull_rule=active_rule(session, workspace.id, object_type, "pull"),
        push_rule=active_rule(session, workspace.id, object_type, "push"),
        hubspot_schema=hubspot_schema,
        accelo_schema=accelo_schema,
        allow_blank_match_key=options.allow_blank_match_key,
        delete_twin_on_delete=options.delete_twin_on_delete,
    )
