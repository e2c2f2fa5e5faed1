"""Associations v4 (reference/hubspot-api.md §5): ids are emitted as strings, as the current spec types them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from interlink.simulators.hubspot.associations import TYPES, UNLABELED
from interlink.simulators.hubspot.crm import Change, Crm, object_type_of
from interlink.simulators.hubspot.endpoint import Call, api, pair_scope
from interlink.simulators.hubspot.schema import SINGULAR, iso_millis
from interlink.simulators.hubspot.wire import json_response, not_found, validation_error

if TYPE_CHECKING:
    from interlink.simulators.hubspot.simulator import HubSpotSimulator

LIST_LIMIT = 500
BATCH_READ_LIMIT = 1_000
BATCH_WRITE_LIMIT = 2_000


def _types(call: Call) -> tuple[str, str]:
    from_type, to_type = object_type_of(str(call.params["from_type"])), object_type_of(str(call.params["to_type"]))
    call.sim.crm.check_pair(from_type, to_type)
    return from_type, to_type


def _kinds(from_type: str, to_type: str, type_ids: set[int]) -> list[dict[str, Any]]:
    known = TYPES[(from_type, to_type)]
    return [
        {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": known[type_id][0]}
        for type_id in sorted(type_ids)
        if type_id in known
    ]


def _id(raw: Any) -> int:
    try:
        return int(str(raw))
    except ValueError:
        raise validation_error(f"{raw!r} is not a record id") from None


def _existing(crm: Crm, object_type: str, raw: Any) -> int:
    record = crm.resolve(object_type, str(raw))
    if record is None:
        raise not_found(f"{SINGULAR[object_type]} {raw} does not exist")
    return record.id


def list_associations(call: Call) -> Response:
    crm = call.sim.crm
    from_type, to_type = _types(call)
    from_id = _existing(crm, from_type, call.params["from_id"])
    limit = call.query_int("limit", LIST_LIMIT, low=1, high=LIST_LIMIT)
    after = call.query_int("after", 0)
    targets = crm.live_targets((from_type, from_id), to_type)
    page = targets[after : after + limit]
    body: dict[str, Any] = {
        "results": [
            {"toObjectId": str(to_id), "associationTypes": _kinds(from_type, to_type, kinds)} for to_id, kinds in page
        ]
    }
    if after + limit < len(targets):
        body["paging"] = {"next": {"after": str(after + limit)}}
    return json_response(body)


def associate_default(call: Call) -> Response:
    crm = call.sim.crm
    from_type, to_type = _types(call)
    from_id = _existing(crm, from_type, call.params["from_id"])
    to_id = _existing(crm, to_type, call.params["to_id"])
    changes: list[Change] = []
    crm.associate(from_type, from_id, to_type, to_id, set(), call.source, changes=changes)
    call.sim.commit(changes)
    started = iso_millis(crm.now_ms())
    spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": UNLABELED[(from_type, to_type)]}
    result = {"from": {"id": str(from_id)}, "to": {"id": str(to_id)}, "associationSpec": spec}
    return json_response({"status": "COMPLETE", "results": [result], "startedAt": started, "completedAt": started})


def _type_ids(raw: Any) -> set[int]:
    if not isinstance(raw, list) or not raw:
        raise validation_error("the body must be a non-empty list of association types")
    try:
        return {int(item["associationTypeId"]) for item in raw}
    except (KeyError, TypeError, ValueError):
        raise validation_error("each association type needs an associationTypeId") from None


def associate_labeled(call: Call) -> Response:
    crm = call.sim.crm
    from_type, to_type = _types(call)
    from_id = _existing(crm, from_type, call.params["from_id"])
    to_id = _existing(crm, to_type, call.params["to_id"])
    type_ids = _type_ids(call.json())
    changes: list[Change] = []
    crm.associate(from_type, from_id, to_type, to_id, type_ids, call.source, changes=changes)
    call.sim.commit(changes)
    kinds = crm.associations.types_between((from_type, from_id), (to_type, to_id))
    labels = [TYPES[(from_type, to_type)][kind][0] for kind in sorted(kinds) if TYPES[(from_type, to_type)][kind][0]]
    body = {
        "fromObjectTypeId": _type_id(from_type),
        "fromObjectId": str(from_id),
        "toObjectTypeId": _type_id(to_type),
        "toObjectId": str(to_id),
        "labels": labels,
    }
    return json_response(body, 201)


def _type_id(object_type: str) -> str:
    return {"contacts": "0-1", "companies": "0-2", "deals": "0-3"}[object_type]


def remove_association(call: Call) -> Response:
    crm = call.sim.crm
    from_type, to_type = _types(call)
    changes: list[Change] = []
    crm.disassociate(
        from_type, _id(call.params["from_id"]), to_type, _id(call.params["to_id"]), call.source, changes=changes
    )
    call.sim.commit(changes)
    return Response(status_code=204)


def batch_read(call: Call) -> Response:
    crm = call.sim.crm
    from_type, to_type = _types(call)
    started = iso_millis(crm.now_ms())
    results, missing = [], []
    for item in call.inputs(BATCH_READ_LIMIT):
        record = crm.resolve(from_type, str(item.get("id", "")))
        if record is None:
            missing.append(str(item.get("id", "")))
            continue
        targets = crm.live_targets((from_type, record.id), to_type)
        results.append(
            {
                "from": {"id": str(item.get("id"))},
                "to": [
                    {"toObjectId": str(to_id), "associationTypes": _kinds(from_type, to_type, kinds)}
                    for to_id, kinds in targets
                ],
            }
        )
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": started}
    if missing:
        body["numErrors"] = 1
        body["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not find some {SINGULAR[from_type]} records",
                "context": {"ids": missing},
                "errors": [],
                "links": {},
            }
        ]
    return json_response(body, 207 if missing else 200)


def _pairs(call: Call, *, many_targets: bool) -> list[tuple[int, list[int], dict[str, Any]]]:
    pairs = []
    for item in call.inputs(BATCH_WRITE_LIMIT):
        try:
            from_id = _id(item["from"]["id"])
            targets = item["to"] if many_targets else [item["to"]]
            to_ids = [_id(target["id"]) for target in targets]
        except (KeyError, TypeError):
            raise validation_error("each input needs from.id and to.id") from None
        pairs.append((from_id, to_ids, item))
    return pairs


def batch_associate_default(call: Call) -> Response:
    crm = call.sim.crm
    from_type, to_type = _types(call)
    started = iso_millis(crm.now_ms())
    changes: list[Change] = []
    results = []
    spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": UNLABELED[(from_type, to_type)]}
    for from_id, to_ids, _item in _pairs(call, many_targets=False):
        origin = _existing(crm, from_type, from_id)
        target = _existing(crm, to_type, to_ids[0])
        crm.associate(from_type, origin, to_type, target, set(), call.source, changes=changes)
        results.append({"from": {"id": str(origin)}, "to": {"id": str(target)}, "associationSpec": spec})
    call.sim.commit(changes)
    return json_response({"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": started})


def batch_create(call: Call) -> Response:
    crm = call.sim.crm
    from_type, to_type = _types(call)
    started = iso_millis(crm.now_ms())
    changes: list[Change] = []
    results = []
    for from_id, to_ids, item in _pairs(call, many_targets=False):
        origin = _existing(crm, from_type, from_id)
        target = _existing(crm, to_type, to_ids[0])
        type_ids = _type_ids(item.get("types"))
        crm.associate(from_type, origin, to_type, target, type_ids, call.source, changes=changes)
        kinds = crm.associations.types_between((from_type, origin), (to_type, target))
        results.append(
            {
                "fromObjectTypeId": _type_id(from_type),
                "fromObjectId": str(origin),
                "toObjectTypeId": _type_id(to_type),
                "toObjectId": str(target),
                "labels": [label for kind in sorted(kinds) if (label := TYPES[(from_type, to_type)][kind][0])],
            }
        )
    call.sim.commit(changes)
    return json_response({"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": started}, 201)


def batch_archive(call: Call) -> Response:
    crm = call.sim.crm
    from_type, to_type = _types(call)
    changes: list[Change] = []
    for from_id, to_ids, _item in _pairs(call, many_targets=True):
        for to_id in to_ids:
            crm.disassociate(from_type, from_id, to_type, to_id, call.source, changes=changes)
    call.sim.commit(changes)
    return Response(status_code=204)


def batch_archive_labels(call: Call) -> Response:
    crm = call.sim.crm
    from_type, to_type = _types(call)
    for from_id, to_ids, item in _pairs(call, many_targets=False):
        crm.associations.remove_labels((from_type, from_id), (to_type, to_ids[0]), _type_ids(item.get("types")))
    crm.version += 1
    call.sim.mark_dirty()
    return Response(status_code=204)


def labels(call: Call) -> Response:
    from_type, to_type = _types(call)
    return json_response(
        {
            "results": [
                {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": label}
                for type_id, (label, _inverse) in sorted(TYPES[(from_type, to_type)].items())
            ]
        }
    )


def routes(sim: HubSpotSimulator) -> list[BaseRoute]:
    one = "/crm/v4/objects/{from_type}/{from_id}/associations"
    many = "/crm/v4/associations/{from_type}/{to_type}"
    read, write = pair_scope("read"), pair_scope("write")
    return [
        Route(f"{one}/default/{{to_type}}/{{to_id}}", api(sim, associate_default, scopes=write), methods=["PUT"]),
        Route(f"{one}/{{to_type}}", api(sim, list_associations, scopes=read), methods=["GET"]),
        Route(f"{one}/{{to_type}}/{{to_id}}", api(sim, associate_labeled, scopes=write), methods=["PUT"]),
        Route(f"{one}/{{to_type}}/{{to_id}}", api(sim, remove_association, scopes=write), methods=["DELETE"]),
        Route(f"{many}/batch/read", api(sim, batch_read, scopes=read), methods=["POST"]),
        Route(f"{many}/batch/associate/default", api(sim, batch_associate_default, scopes=write), methods=["POST"]),
        Route(f"{many}/batch/create", api(sim, batch_create, scopes=write), methods=["POST"]),
        Route(f"{many}/batch/archive", api(sim, batch_archive, scopes=write), methods=["POST"]),
        Route(f"{many}/batch/labels/archive", api(sim, batch_archive_labels, scopes=write), methods=["POST"]),
        Route(f"{many}/labels", api(sim, labels, scopes=read), methods=["GET"]),
    ]
