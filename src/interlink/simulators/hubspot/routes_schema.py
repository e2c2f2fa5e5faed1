"""Properties and property groups (``/crm/v3/properties``), pipelines (``/crm/v3/pipelines``) and owners
(``/crm/v3/owners``), reference/hubspot-api.md §3 and §4."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from interlink.simulators.hubspot.endpoint import Call, api, fixed_scope, schema_scope
from interlink.simulators.hubspot.schema import PROPERTY_NAME, VALID_FIELD_TYPES, PropertyDef
from interlink.simulators.hubspot.wire import SimError, json_response, not_found, validation_error

if TYPE_CHECKING:
    from interlink.simulators.hubspot.simulator import HubSpotSimulator

MAX_UNIQUE_PROPERTIES = 10


def _property_wire(call: Call, definition: PropertyDef) -> dict[str, Any]:
    return definition.to_wire(call.sim.crm.wire_options(call.object_type, definition))


def list_properties(call: Call) -> Response:
    archived = call.query_bool("archived")
    wanted = call.query_list("properties")
    definitions = [
        definition
        for definition in call.sim.crm.properties[call.object_type].values()
        if definition.archived == archived and (wanted is None or definition.name in wanted)
    ]
    return json_response({"results": [_property_wire(call, definition) for definition in definitions]})


def _definition(call: Call) -> PropertyDef:
    name = str(call.params["property_name"])
    definition = call.sim.crm.properties[call.object_type].get(name)
    if definition is None or definition.archived:
        raise not_found(f"Unable to find property named {name} for object type {call.object_type}")
    return definition


def get_property(call: Call) -> Response:
    return json_response(_property_wire(call, _definition(call)))


def _options(raw: Any, *, required: bool) -> list[dict[str, Any]]:
    if raw is None or raw == []:
        if required:
            raise validation_error("Enumeration properties need options")
        return []
    if not isinstance(raw, list):
        raise validation_error("options must be a list")
    options = []
    for index, option in enumerate(raw):
        if not isinstance(option, dict) or not option.get("label") or option.get("value") in (None, ""):
            raise validation_error("each option needs a label and a value")
        options.append(
            {
                "label": str(option["label"]),
                "value": str(option["value"]),
                "description": str(option.get("description") or ""),
                "displayOrder": int(option.get("displayOrder", index)),
                "hidden": bool(option.get("hidden", False)),
            }
        )
    values = [option["value"] for option in options]
    if len(set(values)) != len(values):
        raise validation_error("option values must be unique")
    return options


def create_property(call: Call) -> Response:
    crm = call.sim.crm
    kind = call.object_type
    body = call.json_object()
    missing = [field for field in ("name", "label", "type", "fieldType", "groupName") if not body.get(field)]
    if missing:
        raise validation_error(f"Missing required fields: {', '.join(missing)}")
    name, type_, field_type = str(body["name"]), str(body["type"]), str(body["fieldType"])
    if not PROPERTY_NAME.match(name):
        raise validation_error(f"Property name {name!r} must be lowercase letters, digits and underscores")
    if type_ not in VALID_FIELD_TYPES or field_type not in VALID_FIELD_TYPES[type_]:
        raise validation_error(f"fieldType {field_type!r} is not valid for type {type_!r}")
    if str(body["groupName"]) not in crm.groups[kind]:
        raise validation_error(f"Property group {body['groupName']!r} does not exist")
    existing = crm.properties[kind].get(name)
    if existing is not None and not existing.archived:
        raise SimError(409, "OBJECT_ALREADY_EXISTS", f"A property named '{name}' already exists.")
    unique = bool(body.get("hasUniqueValue", False))
    if unique and sum(1 for d in crm.properties[kind].values() if d.has_unique_value) >= MAX_UNIQUE_PROPERTIES:
        raise validation_error(f"An object can have at most {MAX_UNIQUE_PROPERTIES} unique properties")
    needs_options = type_ == "enumeration" and field_type != "booleancheckbox"
    now = crm.now_ms()
    definition = PropertyDef(
        name=name,
        label=str(body["label"]),
        type=type_,
        field_type=field_type,
        group_name=str(body["groupName"]),
        description=str(body.get("description") or ""),
        options=_options(body.get("options"), required=needs_options) if type_ == "enumeration" else [],
        has_unique_value=unique,
        hubspot_defined=False,
        display_order=int(body.get("displayOrder", -1)),
        hidden=bool(body.get("hidden", False)),
        form_field=bool(body.get("formField", False)),
        created_ms=now,
        updated_ms=now,
    )
    crm.properties[kind][name] = definition
    crm.version += 1
    call.sim.mark_dirty()
    return json_response(_property_wire(call, definition), 201)


def update_property(call: Call) -> Response:
    definition = _definition(call)
    if definition.hubspot_defined:
        raise validation_error(f"{definition.name} is a HubSpot-defined property; its definition is read-only")
    body = call.json_object()
    if "label" in body:
        definition.label = str(body["label"])
    if "description" in body:
        definition.description = str(body["description"] or "")
    if "groupName" in body:
        if str(body["groupName"]) not in call.sim.crm.groups[call.object_type]:
            raise validation_error(f"Property group {body['groupName']!r} does not exist")
        definition.group_name = str(body["groupName"])
    if "options" in body and definition.type == "enumeration":
        definition.options = _options(body["options"], required=definition.field_type != "booleancheckbox")
    if "displayOrder" in body:
        definition.display_order = int(body["displayOrder"])
    if "hidden" in body:
        definition.hidden = bool(body["hidden"])
    definition.updated_ms = call.sim.crm.now_ms()
    call.sim.crm.version += 1
    call.sim.mark_dirty()
    return json_response(_property_wire(call, definition))


def archive_property(call: Call) -> Response:
    definition = _definition(call)
    if definition.hubspot_defined:
        raise validation_error(f"{definition.name} is a HubSpot-defined property and cannot be archived")
    definition.archived = True
    call.sim.crm.version += 1
    call.sim.mark_dirty()
    return Response(status_code=204)


# -- groups --------------------------------------------------------------------------------------------------


def list_groups(call: Call) -> Response:
    groups = [group for group in call.sim.crm.groups[call.object_type].values() if not group["archived"]]
    return json_response({"results": groups})


def _group(call: Call) -> dict[str, Any]:
    name = str(call.params["group_name"])
    group = call.sim.crm.groups[call.object_type].get(name)
    if group is None or group["archived"]:
        raise not_found(f"Unable to find property group {name} for object type {call.object_type}")
    return group


def get_group(call: Call) -> Response:
    return json_response(_group(call))


def create_group(call: Call) -> Response:
    body = call.json_object()
    if not body.get("name") or not body.get("label"):
        raise validation_error("Missing required fields: name, label")
    name = str(body["name"])
    if not PROPERTY_NAME.match(name):
        raise validation_error(f"Group name {name!r} must be lowercase letters, digits and underscores")
    groups = call.sim.crm.groups[call.object_type]
    if name in groups and not groups[name]["archived"]:
        raise SimError(409, "OBJECT_ALREADY_EXISTS", f"A property group named '{name}' already exists.")
    group = {
        "name": name,
        "label": str(body["label"]),
        "displayOrder": int(body.get("displayOrder", -1)),
        "archived": False,
    }
    groups[name] = group
    call.sim.mark_dirty()
    return json_response(group, 201)


def update_group(call: Call) -> Response:
    group = _group(call)
    body = call.json_object()
    if "label" in body:
        group["label"] = str(body["label"])
    if "displayOrder" in body:
        group["displayOrder"] = int(body["displayOrder"])
    call.sim.mark_dirty()
    return json_response(group)


def archive_group(call: Call) -> Response:
    _group(call)["archived"] = True
    call.sim.mark_dirty()
    return Response(status_code=204)


# -- pipelines and owners ------------------------------------------------------------------------------------


def list_pipelines(call: Call) -> Response:
    pipelines = call.sim.crm.pipelines.values() if call.object_type == "deals" else []
    return json_response({"results": [pipeline.to_wire() for pipeline in pipelines]})


def _pipeline(call: Call) -> Any:
    pipeline = call.sim.crm.pipelines.get(str(call.params["pipeline_id"])) if call.object_type == "deals" else None
    if pipeline is None:
        raise not_found(f"Pipeline {call.params['pipeline_id']} not found")
    return pipeline


def get_pipeline(call: Call) -> Response:
    return json_response(_pipeline(call).to_wire())


def list_stages(call: Call) -> Response:
    return json_response({"results": [stage.to_wire() for stage in _pipeline(call).stages]})


def list_owners(call: Call) -> Response:
    email = (call.query("email") or "").lower()
    archived = call.query_bool("archived")
    limit = call.query_int("limit", 100, low=1, high=500)
    after = call.query_int("after", 0)
    owners = [
        owner
        for owner in call.sim.crm.owners.values()
        if owner.archived == archived and (not email or owner.email.lower() == email)
    ]
    page = owners[after : after + limit]
    body: dict[str, Any] = {"results": [owner.to_wire() for owner in page]}
    if after + limit < len(owners):
        body["paging"] = {"next": {"after": str(after + limit)}}
    return json_response(body)


def get_owner(call: Call) -> Response:
    raw = str(call.params["owner_id"])
    by_user = call.query("idProperty") == "userId"
    for owner in call.sim.crm.owners.values():
        if (str(owner.user_id) if by_user else owner.id) == raw:
            return json_response(owner.to_wire())
    raise not_found(f"Owner {raw} not found")


def routes(sim: HubSpotSimulator) -> list[BaseRoute]:
    base = "/crm/v3/properties/{object_type}"
    read, write = schema_scope("read"), schema_scope("write")
    owners = fixed_scope("crm.objects.owners.read")
    pipelines = fixed_scope("crm.objects.deals.read")
    return [
        Route(f"{base}/groups", api(sim, list_groups, scopes=read), methods=["GET"]),
        Route(f"{base}/groups", api(sim, create_group, scopes=write), methods=["POST"]),
        Route(f"{base}/groups/{{group_name}}", api(sim, get_group, scopes=read), methods=["GET"]),
        Route(f"{base}/groups/{{group_name}}", api(sim, update_group, scopes=write), methods=["PATCH"]),
        Route(f"{base}/groups/{{group_name}}", api(sim, archive_group, scopes=write), methods=["DELETE"]),
        Route(base, api(sim, list_properties, scopes=read), methods=["GET"]),
        Route(base, api(sim, create_property, scopes=write), methods=["POST"]),
        Route(f"{base}/{{property_name}}", api(sim, get_property, scopes=read), methods=["GET"]),
        Route(f"{base}/{{property_name}}", api(sim, update_property, scopes=write), methods=["PATCH"]),
        Route(f"{base}/{{property_name}}", api(sim, archive_property, scopes=write), methods=["DELETE"]),
        Route("/crm/v3/pipelines/{object_type}", api(sim, list_pipelines, scopes=pipelines), methods=["GET"]),
        Route(
            "/crm/v3/pipelines/{object_type}/{pipeline_id}", api(sim, get_pipeline, scopes=pipelines), methods=["GET"]
        ),
        Route(
            "/crm/v3/pipelines/{object_type}/{pipeline_id}/stages",
            api(sim, list_stages, scopes=pipelines),
            methods=["GET"],
        ),
        Route("/crm/v3/owners/", api(sim, list_owners, scopes=owners), methods=["GET"]),
        Route("/crm/v3/owners", api(sim, list_owners, scopes=owners), methods=["GET"]),
        Route("/crm/v3/owners/{owner_id}", api(sim, get_owner, scopes=owners), methods=["GET"]),
    ]
