"""``/crm/v3/objects/{objectType}``: records one at a time, in batches, lists and search
(reference/hubspot-api.md §2, §8). Status codes are HubSpot's: 201 on create, 207 on a batch with per-input
errors, 204 on delete and batch archive, 409 on a duplicate email; ``paging`` is left out on the last page.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from interlink.simulators.hubspot.associations import TYPES
from interlink.simulators.hubspot.crm import Change, Record
from interlink.simulators.hubspot.endpoint import Call, api, object_scope
from interlink.simulators.hubspot.schema import SINGULAR, iso_millis
from interlink.simulators.hubspot.wire import SimError, json_response, not_found, validation_error

if TYPE_CHECKING:
    from interlink.simulators.hubspot.simulator import HubSpotSimulator

BATCH_LIMIT = 100
LIST_LIMIT = 100


def _associations_for_create(call: Call, raw: Any) -> list[tuple[str, int, set[int]]]:
    """v3 create ``associations``: the target type follows from the association type id."""
    if not raw:
        return []
    if not isinstance(raw, list):
        raise validation_error("associations must be a list")
    found: list[tuple[str, int, set[int]]] = []
    for item in raw:
        try:
            to_id = int(item["to"]["id"])
            type_ids = {int(kind["associationTypeId"]) for kind in item["types"]}
        except (KeyError, TypeError, ValueError):
            raise validation_error("each association needs to.id and types[].associationTypeId") from None
        pairs = [pair for pair, kinds in TYPES.items() if pair[0] == call.object_type and type_ids <= set(kinds)]
        if not pairs:
            raise validation_error(f"association types {sorted(type_ids)} do not exist for {call.object_type}")
        found.append((pairs[0][1], to_id, type_ids))
    return found


def _properties_of(body: dict[str, Any]) -> dict[str, Any]:
    properties = body.get("properties", {})
    if not isinstance(properties, dict):
        raise validation_error("properties must be an object")
    return properties


def _written(call: Call, record: Record, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body = call.sim.crm.record_wire(record, properties=call.sim.crm.set_names(record))
    body.update(extra or {})
    return body


def _batch(results: list[dict[str, Any]], errors: list[dict[str, Any]], started: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_millis(started),
        "completedAt": iso_millis(started),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return body


def _batch_response(results: list[dict[str, Any]], errors: list[dict[str, Any]], started: int, ok: int) -> Response:
    return json_response(_batch(results, errors, started), 207 if errors else ok)


# -- one record ----------------------------------------------------------------------------------------------


def list_objects(call: Call) -> Response:
    crm = call.sim.crm
    kind = call.object_type
    limit = call.query_int("limit", 10, low=1, high=LIST_LIMIT)
    after = call.query("after")
    archived = call.query_bool("archived")
    ids = crm.archived_ids[kind] if archived else crm.live_ids[kind]
    start = 0
    if after:
        try:
            start = bisect.bisect_left(ids, int(after))
        except ValueError:
            raise validation_error(f"after must be a record id, not {after!r}") from None
    page = ids[start : start + limit]
    records = crm.records[kind]
    body: dict[str, Any] = {
        "results": [
            crm.record_wire(
                records[record_id],
                properties=call.query_list("properties"),
                history=call.query_list("propertiesWithHistory"),
                associations=call.query_list("associations"),
            )
            for record_id in page
        ]
    }
    if start + limit < len(ids):
        following = str(ids[start + limit])
        body["paging"] = {
            "next": {
                "after": following,
                "link": f"{call.base_url}/crm/v3/objects/{kind}?limit={limit}&after={following}",
            }
        }
    return json_response(body)


def get_object(call: Call) -> Response:
    record = call.sim.crm.resolve(
        call.object_type,
        str(call.params["object_id"]),
        id_property=call.query("idProperty"),
        archived=call.query_bool("archived"),
    )
    if record is None:
        raise not_found()
    return json_response(
        call.sim.crm.record_wire(
            record,
            properties=call.query_list("properties"),
            history=call.query_list("propertiesWithHistory"),
            associations=call.query_list("associations"),
        )
    )


def create_object(call: Call) -> Response:
    body = call.json_object()
    changes: list[Change] = []
    record = call.sim.crm.create(
        call.object_type,
        _properties_of(body),
        call.source,
        associations=_associations_for_create(call, body.get("associations")),
        changes=changes,
    )
    call.sim.commit(changes)
    return json_response(_written(call, record), 201)


def update_object(call: Call) -> Response:
    crm = call.sim.crm
    record = crm.require(call.object_type, str(call.params["object_id"]), id_property=call.query("idProperty"))
    changes: list[Change] = []
    crm.update(record, _properties_of(call.json_object()), call.source, changes=changes)
    call.sim.commit(changes)
    return json_response(_written(call, record))


def archive_object(call: Call) -> Response:
    record = call.sim.crm.resolve(call.object_type, str(call.params["object_id"]))
    if record is not None:
        changes: list[Change] = []
        call.sim.crm.archive(record, call.source, changes=changes)
        call.sim.commit(changes)
    return Response(status_code=204)


def merge_objects(call: Call) -> Response:
    crm = call.sim.crm
    body = call.json_object()
    primary = crm.require(call.object_type, str(body.get("primaryObjectId", "")))
    secondary = crm.require(call.object_type, str(body.get("objectIdToMerge", "")))
    changes: list[Change] = []
    record = crm.merge(primary, secondary, call.source, changes=changes)
    call.sim.commit(changes)
    return json_response(_written(call, record))


def gdpr_delete(call: Call) -> Response:
    if call.object_type != "contacts":
        raise not_found()
    body = call.json_object()
    record = call.sim.crm.resolve("contacts", str(body.get("objectId", "")), id_property=body.get("idProperty"))
    if record is not None:
        changes: list[Change] = []
        call.sim.crm.purge(record, call.source, changes=changes)
        call.sim.commit(changes)
    return Response(status_code=204)


# -- batches -------------------------------------------------------------------------------------------------


def batch_read(call: Call) -> Response:
    crm = call.sim.crm
    kind = call.object_type
    body = call.json_object()
    inputs = call.inputs(BATCH_LIMIT)
    properties = [str(name) for name in body.get("properties") or []] or None
    history = [str(name) for name in body.get("propertiesWithHistory") or []] or None
    id_property = body.get("idProperty")
    archived = call.query_bool("archived")
    started = crm.now_ms()
    results: list[dict[str, Any]] = []
    seen: set[int] = set()
    missing: list[str] = []
    for item in inputs:
        raw_id = str(item.get("id", ""))
        record = crm.resolve(kind, raw_id, id_property=id_property, archived=archived)
        if record is None:
            missing.append(raw_id)
        elif record.id not in seen:
            seen.add(record.id)
            results.append(crm.record_wire(record, properties=properties, history=history))
    errors = []
    if missing:
        errors.append(
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {SINGULAR[kind].upper()} objects, they may be deleted or not exist. "
                "Check that ids are valid.",
                "context": {"ids": missing},
                "errors": [],
                "links": {},
            }
        )
    return _batch_response(results, errors, started, 200)


def _input_error(error: SimError, trace: str | None, ids: list[str] | None = None) -> dict[str, Any]:
    body = error.as_batch_error()
    context = dict(body["context"])
    if trace is not None:
        context["objectWriteTraceId"] = [trace]
    if ids:
        context["ids"] = ids
    body["context"] = context
    return body


def batch_create(call: Call) -> Response:
    crm = call.sim.crm
    kind = call.object_type
    inputs = call.inputs(BATCH_LIMIT)
    traced = all(item.get("objectWriteTraceId") for item in inputs)
    started = crm.now_ms()
    prepared: list[tuple[dict[str, Any], dict[str, str], list[tuple[str, int, set[int]]]]] = []
    errors: list[dict[str, Any]] = []
    for item in inputs:
        trace = item.get("objectWriteTraceId")
        try:
            clean = crm.check_values(kind, _properties_of(item), None, call.source)
            links = _associations_for_create(call, item.get("associations"))
        except SimError as error:
            if not traced:
                raise  # without trace ids HubSpot cannot report per input: the whole batch fails
            errors.append(_input_error(error, str(trace)))
            continue
        prepared.append((item, clean, links))
    # The first duplicate value fails the whole batch (COMM #51), including duplicates within it.
    claimed: dict[tuple[str, str], int] = {}
    for position, (_item, clean, _links) in enumerate(prepared):
        crm.check_unique(kind, clean, None)
        for name in crm.unique_properties(kind):
            value = (clean.get(name) or "").lower()
            if value and (name, value) in claimed:
                raise SimError(
                    409,
                    "CONFLICT",
                    f"Duplicate {name} {value!r} in batch inputs {claimed[(name, value)]} and {position}",
                )
            if value:
                claimed[(name, value)] = position
    changes: list[Change] = []
    results = []
    for item, clean, links in prepared:
        record = crm.create(kind, {}, call.source, checked=clean, associations=links, changes=changes)
        extra = {"objectWriteTraceId": item["objectWriteTraceId"]} if item.get("objectWriteTraceId") else None
        results.append(_written(call, record, extra=extra))
    call.sim.commit(changes)
    return _batch_response(results, errors, started, 201)


def batch_update(call: Call) -> Response:
    crm = call.sim.crm
    kind = call.object_type
    inputs = call.inputs(BATCH_LIMIT)
    traced = all(item.get("objectWriteTraceId") for item in inputs)
    started = crm.now_ms()
    prepared: list[tuple[dict[str, Any], Record, dict[str, str]]] = []
    errors: list[dict[str, Any]] = []
    seen: set[int] = set()
    for item in inputs:
        raw_id = str(item.get("id", ""))
        id_property = item.get("idProperty")
        trace = item.get("objectWriteTraceId")
        # Batch update does not follow merged-away ids (only the single PATCH does, §8).
        if id_property and id_property != "hs_object_id":
            record = crm.resolve(kind, raw_id, id_property=id_property)
        else:
            record = crm.records[kind].get(int(raw_id)) if raw_id.isdigit() else None
            record = None if record is None or record.archived else record
        if record is None:
            errors.append(_input_error(not_found(f"Object {raw_id} not found"), trace, [raw_id]))
            continue
        if record.id in seen:
            raise validation_error(f"Duplicate IDs found in batch input: [{raw_id}]")
        seen.add(record.id)
        try:
            clean = crm.check_values(kind, _properties_of(item), record, call.source)
        except SimError as error:
            if not traced:
                raise
            errors.append(_input_error(error, str(trace)))
            continue
        crm.check_unique(kind, clean, record)
        prepared.append((item, record, clean))
    changes: list[Change] = []
    results = []
    for item, record, clean in prepared:
        crm.update(record, {}, call.source, checked=clean, changes=changes)
        extra = {"objectWriteTraceId": item["objectWriteTraceId"]} if item.get("objectWriteTraceId") else None
        results.append(_written(call, record, extra=extra))
    call.sim.commit(changes)
    return _batch_response(results, errors, started, 200)


def batch_upsert(call: Call) -> Response:
    crm = call.sim.crm
    kind = call.object_type
    inputs = call.inputs(BATCH_LIMIT)
    started = crm.now_ms()
    plans: list[tuple[dict[str, Any], Record | None, dict[str, str]]] = []
    errors: list[dict[str, Any]] = []
    partial = all(item.get("objectWriteTraceId") for item in inputs)
    for item in inputs:
        id_property = str(item.get("idProperty") or "")
        if id_property not in crm.unique_properties(kind):
            raise validation_error(f"Unable to perform update/upsert by non-unique {kind} property {id_property!r}")
        partial = partial and id_property != "email"  # "partial upserts are not supported" by email (§2.2)
        raw_id = str(item.get("id", ""))
        existing = crm.resolve(kind, raw_id, id_property=id_property)
        values = {**_properties_of(item)}
        if existing is None:
            values.setdefault(id_property, raw_id)
        try:
            clean = crm.check_values(kind, values, existing, call.source)
        except SimError as error:
            if not partial:
                raise
            errors.append(_input_error(error, str(item.get("objectWriteTraceId"))))
            continue
        crm.check_unique(kind, clean, existing)
        plans.append((item, existing, clean))
    changes: list[Change] = []
    results = []
    for item, existing, clean in plans:
        if existing is None:
            record = crm.create(kind, {}, call.source, checked=clean, changes=changes)
        else:
            record = crm.update(existing, {}, call.source, checked=clean, changes=changes)
        extra: dict[str, Any] = {"new": existing is None}
        if item.get("objectWriteTraceId"):
            extra["objectWriteTraceId"] = item["objectWriteTraceId"]
        results.append(_written(call, record, extra=extra))
    call.sim.commit(changes)
    return _batch_response(results, errors, started, 200)


def batch_archive(call: Call) -> Response:
    crm = call.sim.crm
    changes: list[Change] = []
    for item in call.inputs(BATCH_LIMIT):
        record = crm.resolve(call.object_type, str(item.get("id", "")))
        if record is not None:
            crm.archive(record, call.source, changes=changes)
    call.sim.commit(changes)
    return Response(status_code=204)


def search_objects(call: Call) -> Response:
    return json_response(call.sim.search.search(call.object_type, call.body, call.json_object()))


def routes(sim: HubSpotSimulator) -> list[BaseRoute]:
    base = "/crm/v3/objects/{object_type}"
    read, write = object_scope("read"), object_scope("write")
    return [
        Route(f"{base}/batch/read", api(sim, batch_read, scopes=read), methods=["POST"]),
        Route(f"{base}/batch/create", api(sim, batch_create, scopes=write), methods=["POST"]),
        Route(f"{base}/batch/update", api(sim, batch_update, scopes=write), methods=["POST"]),
        Route(f"{base}/batch/upsert", api(sim, batch_upsert, scopes=write), methods=["POST"]),
        Route(f"{base}/batch/archive", api(sim, batch_archive, scopes=write), methods=["POST"]),
        Route(f"{base}/search", api(sim, search_objects, scopes=read, search=True), methods=["POST"]),
        Route(f"{base}/merge", api(sim, merge_objects, scopes=write), methods=["POST"]),
        Route(f"{base}/gdpr-delete", api(sim, gdpr_delete, scopes=write), methods=["POST"]),
        Route(base, api(sim, list_objects, scopes=read), methods=["GET"]),
        Route(base, api(sim, create_object, scopes=write), methods=["POST"]),
        Route(f"{base}/{{object_id}}", api(sim, get_object, scopes=read), methods=["GET"]),
        Route(f"{base}/{{object_id}}", api(sim, update_object, scopes=write), methods=["PATCH"]),
        Route(f"{base}/{{object_id}}", api(sim, archive_object, scopes=write), methods=["DELETE"]),
    ]
