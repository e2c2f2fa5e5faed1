"""The ``/_sim`` control surface: the simulator's Python methods over HTTP (plain JSON, no Accelo envelope).

| route | does |
|---|---|
| ``GET /_sim/state`` | counts, rate-limit accounting, webhook queue |
| ``POST /_sim/reset`` | forget records, calls, deliveries and spent requests |
| ``POST /_sim/save`` | write the state file now |
| ``POST /_sim/seed`` | records (``companies``, ``contacts``, ``profile_fields``) or ``{"generate": {...}}`` |
| ``POST /_sim/companies`` / ``POST /_sim/contacts`` | create as a user (webhook) |
| ``PATCH /_sim/{companies,contacts,affiliations}/{id}`` | edit as a user (webhook for companies and contacts only) |
| ``DELETE /_sim/{companies,contacts,affiliations}/{id}`` | delete as a user (no webhook) |
| ``PUT /_sim/{collection}/{id}/profile/{field_id}`` | ``{"value": …}`` (no webhook) |
| ``POST /_sim/{collection}/{id}/status`` | ``{"status_id": …}`` through a progression (webhook) |
| ``POST /_sim/profile-fields`` | ``{"object_type", "field_name", "field_type", "options"}`` |
| ``PUT /_sim/transitions/{object_type}`` | ``[{"from": id or null, "to": id, "title": …}]`` |
| ``GET /_sim/calls`` / ``DELETE /_sim/calls`` | API calls per route / forget them |
| ``GET /_sim/rate-limit`` / ``PUT /_sim/rate-limit`` | accounting / ``{"limit", "window_seconds", "enabled"}`` |
| ``GET /_sim/webhooks`` / ``POST /_sim/webhooks/flush`` | deliveries made / wait for the queue |
| ``POST /_sim/webhooks/subscribe`` | ``{"url", "secret", "content_type"}`` for every company and contact event |
| ``POST /_sim/faults`` | ``{"path_pattern", "status", "body", "content_type", "method", "times",
  "after_processing"}`` |
| ``POST /_sim/clock`` | ``{"advance": seconds}`` |
| ``POST /_sim/tokens`` | ``{"expires_in": seconds}`` → a fresh access token |
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from interlink.simulators.accelo.query import ApiFault
from interlink.simulators.accelo.simulator import AcceloSimulator, Fault
from interlink.simulators.accelo.state import OBJECT_OF_COLLECTION

ControlHandler = Callable[[Request, dict[str, Any]], Any]


def _kind(collection: str) -> str:
    kind = OBJECT_OF_COLLECTION.get(collection)
    if kind is None:
        raise ValueError(f"unknown collection {collection!r}; use companies, contacts or affiliations")
    return kind


def control_routes(simulator: AcceloSimulator) -> list[Route]:
    sim = simulator

    def handle(handler: ControlHandler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                return JSONResponse({"error": "the body is not JSON"}, status_code=400)
            try:
                result = await anyio.to_thread.run_sync(handler, request, body)
            except (ApiFault, ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse(result if result is not None else {"ok": True})

        return endpoint

    def path_int(request: Request, name: str) -> int:
        value: int = request.path_params[name]
        return value

    def create_company(request: Request, body: dict[str, Any]) -> Any:
        fields = dict(body)
        return {"id": sim.user_create_company(fields.pop("name"), **fields)}

    def create_contact(request: Request, body: dict[str, Any]) -> Any:
        fields = dict(body)
        company_id = int(fields.pop("company_id"))
        return {"id": sim.user_create_contact(company_id, fields.pop("firstname"), fields.pop("surname"), **fields)}

    def edit(request: Request, body: dict[str, Any]) -> Any:
        kind = _kind(request.path_params["collection"])
        record_id = path_int(request, "id")
        if kind == "company":
            sim.user_update_company(record_id, **body)
        elif kind == "contact":
            sim.user_update_contact(record_id, **body)
        else:
            sim.user_update_affiliation(record_id, **body)
        return sim.record(kind, record_id)

    def delete(request: Request, body: dict[str, Any]) -> Any:
        kind = _kind(request.path_params["collection"])
        if kind == "company":
            sim.user_delete_company(path_int(request, "id"))
        elif kind == "contact":
            sim.user_delete_contact(path_int(request, "id"))
        else:
            sim.user_delete_affiliation(path_int(request, "id"))

    def profile(request: Request, body: dict[str, Any]) -> Any:
        kind = _kind(request.path_params["collection"])
        value_id = sim.user_set_profile_value(
            kind, path_int(request, "id"), path_int(request, "field_id"), body.get("value")
        )
        return {"id": value_id}

    def status(request: Request, body: dict[str, Any]) -> Any:
        kind = _kind(request.path_params["collection"])
        sim.user_change_status(kind, path_int(request, "id"), int(body["status_id"]))
        return sim.record(kind, path_int(request, "id"))

    def seed(request: Request, body: dict[str, Any]) -> Any:
        result: dict[str, Any] = {}
        if "generate" in body:
            result["generated"] = sim.generate(**body.pop("generate"))
        result.update(sim.seed(body))
        return result

    def profile_field(request: Request, body: dict[str, Any]) -> Any:
        fields = dict(body)
        return {"id": sim.add_profile_field(fields.pop("object_type"), fields.pop("field_name"), **fields)}

    def transitions(request: Request, body: Any) -> Any:
        items = [(item.get("from"), int(item["to"]), str(item.get("title") or "Progress")) for item in body]
        return {"ids": sim.set_transitions(request.path_params["object_type"], items)}

    def rate_limit(request: Request, body: dict[str, Any]) -> Any:
        if request.method == "PUT":
            sim.rate_limit.configure(
                limit=body.get("limit"), window_seconds=body.get("window_seconds"), enabled=body.get("enabled")
            )
        return sim.rate_limit.stats()

    def calls(request: Request, body: dict[str, Any]) -> Any:
        if request.method == "DELETE":
            sim.calls.reset()
            return None
        return {"total": sim.calls.count(), "calls": sim.calls.snapshot()}

    def webhooks(request: Request, body: dict[str, Any]) -> Any:
        return {
            "sent": [asdict(item) for item in sim.webhooks.sent],
            "removed_subscriptions": sim.webhooks.removed,
            "subscriptions": sim.subscriptions(),
            "pending": sim.webhooks.deliverer.pending(),
        }

    def subscribe(request: Request, body: dict[str, Any]) -> Any:
        ids = sim.subscribe_everything(
            body["url"],
            secret=body.get("secret") or "",
            content_type=body.get("content_type") or "application/x-www-form-urlencoded",
        )
        return {"ids": ids}

    def fault(request: Request, body: dict[str, Any]) -> Any:
        sim.add_fault(Fault(**body))

    def clock(request: Request, body: dict[str, Any]) -> Any:
        sim.clock.advance(float(body.get("advance", 0)))
        return {"now": sim.clock.now(), "offset": sim.clock.offset}

    def token(request: Request, body: dict[str, Any]) -> Any:
        return {"access_token": sim.issue_token(expires_in=body.get("expires_in"))}

    def save(request: Request, body: dict[str, Any]) -> Any:
        sim.save()

    return [
        Route("/_sim/state", handle(lambda request, body: sim.summary()), methods=["GET"]),
        Route("/_sim/reset", handle(lambda request, body: sim.reset()), methods=["POST"]),
        Route("/_sim/save", handle(save), methods=["POST"]),
        Route("/_sim/seed", handle(seed), methods=["POST"]),
        Route("/_sim/companies", handle(create_company), methods=["POST"]),
        Route("/_sim/contacts", handle(create_contact), methods=["POST"]),
        Route("/_sim/profile-fields", handle(profile_field), methods=["POST"]),
        Route("/_sim/transitions/{object_type}", handle(transitions), methods=["PUT"]),
        Route("/_sim/calls", handle(calls), methods=["GET", "DELETE"]),
        Route("/_sim/rate-limit", handle(rate_limit), methods=["GET", "PUT"]),
        Route("/_sim/webhooks", handle(webhooks), methods=["GET"]),
        Route(
            "/_sim/webhooks/flush", handle(lambda request, body: {"flushed": sim.webhooks.flush(30)}), methods=["POST"]
        ),
        Route("/_sim/webhooks/subscribe", handle(subscribe), methods=["POST"]),
        Route("/_sim/faults", handle(fault), methods=["POST"]),
        Route("/_sim/clock", handle(clock), methods=["POST"]),
        Route("/_sim/tokens", handle(token), methods=["POST"]),
        Route("/_sim/{collection}/{id:int}", handle(edit), methods=["PATCH"]),
        Route("/_sim/{collection}/{id:int}", handle(delete), methods=["DELETE"]),
        Route("/_sim/{collection}/{id:int}/profile/{field_id:int}", handle(profile), methods=["PUT"]),
        Route("/_sim/{collection}/{id:int}/status", handle(status), methods=["POST"]),
    ]
