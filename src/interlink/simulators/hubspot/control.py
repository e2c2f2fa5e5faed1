"""The ``/_sim`` control surface: what tests, demos and benchmarks do to the simulator over HTTP.

These calls need no token, are not rate limited and are not counted as API calls. Bodies and answers are
JSON; ids are strings.

    GET    /_sim/state                                   counts, webhook and rate-limit figures
    POST   /_sim/reset                                   a fresh account
    POST   /_sim/save                                    write the state file now
    POST   /_sim/seed/{type}                             {"records": [...], "emitWebhooks": false} -> {"ids"}
    GET    /_sim/records/{type}/{id}?history=a,b         a record with its history (merged ids resolve)
    POST   /_sim/ui/{type}                               create as a HubSpot user {"properties", "userId"}
    PATCH  /_sim/ui/{type}/{id}                          edit as a user (fires webhooks, changeSource CRM_UI)
    DELETE /_sim/ui/{type}/{id}                          delete as a user
    POST   /_sim/ui/{type}/{id}/restore                  restore from the recycle bin
    POST   /_sim/ui/{type}/merge                         {"primaryObjectId", "objectIdToMerge"}
    PUT    /_sim/ui/associations/{from}/{id}/{to}/{toId} associate as a user ({"typeIds": [...]})
    DELETE /_sim/ui/associations/{from}/{id}/{to}/{toId} remove the association as a user
    GET    /_sim/calls        DELETE /_sim/calls         API calls per (method, route template, status)
    GET    /_sim/rate-limits  PUT /_sim/rate-limits      {"perInterval", "intervalMs", "daily", "searchPerSecond"}
    GET    /_sim/webhooks     PUT /_sim/webhooks         {"urls", "duplicate", "outOfOrder", "retryDelays", ...}
    POST   /_sim/webhooks/flush                          wait for pending deliveries ({"timeout": s})
    POST   /_sim/tokens                                  {"token", "scopes", "appId"}: accept a private-app token
    POST   /_sim/oauth/codes                             {"redirectUri", "clientId", "scopes"} -> {"code"}
    POST   /_sim/oauth/expire                            {"token"}: expire an access token now
    POST   /_sim/faults       DELETE /_sim/faults        {"route", "status", "body", "contentType", "method", "times",
                                                          "delay", "afterProcessing" (do the call, lose its answer)}
    POST   /_sim/owners                                  {"email", "firstName", "lastName"} -> {"id"}
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from interlink.simulators.hubspot.wire import SimError, json_response, not_found, validation_error

if TYPE_CHECKING:
    from interlink.simulators.hubspot.simulator import HubSpotSimulator

ControlHandler = Callable[[Request, dict[str, Any]], Any]

_SETTING_NAMES = {
    "perInterval": "per_interval",
    "intervalMs": "interval_ms",
    "daily": "daily",
    "searchPerSecond": "search_per_second",
    "urls": "urls",
    "duplicate": "duplicate",
    "outOfOrder": "out_of_order",
    "retryDelays": "retry_delays",
    "subscriptions": "subscriptions",
    "properties": "properties",
    "timeout": "timeout",
    "enabled": "enabled",
    "reorderWindow": "reorder_window",
}


def _snake(body: dict[str, Any]) -> dict[str, Any]:
    return {_SETTING_NAMES.get(key, re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()): value for key, value in body.items()}


def _control(sim: HubSpotSimulator, handler: ControlHandler) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise validation_error("the body must be a JSON object")
            result = await anyio.to_thread.run_sync(handler, request, body)
        except SimError as error:
            return error.response()
        except (ValueError, TypeError, KeyError) as exc:
            return SimError(400, "VALIDATION_ERROR", f"bad control request: {exc}").response()
        if isinstance(result, Response):
            return result
        return json_response(result)

    return run


def routes(sim: HubSpotSimulator) -> list[BaseRoute]:
    def state(request: Request, body: dict[str, Any]) -> Any:
        return sim.state_summary()

    def reset(request: Request, body: dict[str, Any]) -> Any:
        sim.reset()
        return {"reset": True}

    def save(request: Request, body: dict[str, Any]) -> Any:
        return {"saved": str(sim.save())}

    def seed(request: Request, body: dict[str, Any]) -> Any:
        records = body.get("records")
        if not isinstance(records, list):
            raise validation_error("records must be a list")
        ids = sim.seed(request.path_params["object_type"], records, emit_webhooks=bool(body.get("emitWebhooks")))
        return {"ids": ids}

    def record(request: Request, body: dict[str, Any]) -> Any:
        history = [name for name in (request.query_params.get("history") or "").split(",") if name]
        found = sim.record(
            request.path_params["object_type"],
            request.path_params["object_id"],
            history=history,
            archived=request.query_params.get("archived", "").lower() == "true",
        )
        if found is None:
            raise not_found()
        return found

    def user_id(body: dict[str, Any]) -> int:
        return int(body.get("userId", 9001))

    def ui_create(request: Request, body: dict[str, Any]) -> Any:
        return sim.create_as_user(
            request.path_params["object_type"], body.get("properties") or {}, user_id=user_id(body)
        )

    def ui_update(request: Request, body: dict[str, Any]) -> Any:
        params = request.path_params
        return sim.update_as_user(
            params["object_type"], params["object_id"], body.get("properties") or {}, user_id=user_id(body)
        )

    def ui_archive(request: Request, body: dict[str, Any]) -> Any:
        sim.archive_as_user(request.path_params["object_type"], request.path_params["object_id"], user_id=user_id(body))
        return Response(status_code=204)

    def ui_restore(request: Request, body: dict[str, Any]) -> Any:
        params = request.path_params
        return sim.restore_as_user(params["object_type"], params["object_id"], user_id=user_id(body))

    def ui_merge(request: Request, body: dict[str, Any]) -> Any:
        return sim.merge_as_user(
            request.path_params["object_type"],
            str(body["primaryObjectId"]),
            str(body["objectIdToMerge"]),
            user_id=user_id(body),
        )

    def ui_associate(request: Request, body: dict[str, Any]) -> Any:
        params = request.path_params
        sim.associate_as_user(
            params["from_type"],
            params["from_id"],
            params["to_type"],
            params["to_id"],
            type_ids=[int(type_id) for type_id in body.get("typeIds") or []],
            user_id=user_id(body),
        )
        return Response(status_code=204)

    def ui_disassociate(request: Request, body: dict[str, Any]) -> Any:
        params = request.path_params
        sim.disassociate_as_user(
            params["from_type"], params["from_id"], params["to_type"], params["to_id"], user_id=user_id(body)
        )
        return Response(status_code=204)

    def calls(request: Request, body: dict[str, Any]) -> Any:
        return {"total": sim.calls.count(), "calls": sim.calls.snapshot()}

    def reset_calls(request: Request, body: dict[str, Any]) -> Any:
        sim.calls.reset()
        return Response(status_code=204)

    def rate_limits(request: Request, body: dict[str, Any]) -> Any:
        if request.method == "PUT":
            sim.configure_rate_limits(**_snake(body))
        return sim.limits.report()

    def webhooks(request: Request, body: dict[str, Any]) -> Any:
        if request.method == "PUT":
            sim.configure_webhooks(**_snake(body))
        return sim.webhooks.report()

    def flush(request: Request, body: dict[str, Any]) -> Any:
        return {"flushed": sim.webhooks.flush(float(body.get("timeout", 30.0)))}

    def tokens(request: Request, body: dict[str, Any]) -> Any:
        token = str(body["token"])
        kwargs: dict[str, Any] = {"app_id": int(body.get("appId", sim.webhooks.settings.app_id))}
        if body.get("scopes") is not None:
            kwargs["scopes"] = [str(scope) for scope in body["scopes"]]
        sim.add_private_app_token(token, **kwargs)
        return {"token": token}

    def oauth_code(request: Request, body: dict[str, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        if body.get("clientId"):
            kwargs["client_id"] = str(body["clientId"])
        if body.get("scopes") is not None:
            kwargs["scopes"] = [str(scope) for scope in body["scopes"]]
        return {"code": sim.issue_authorization_code(str(body["redirectUri"]), **kwargs)}

    def oauth_expire(request: Request, body: dict[str, Any]) -> Any:
        sim.expire_access_token(str(body["token"]))
        return Response(status_code=204)

    def faults(request: Request, body: dict[str, Any]) -> Any:
        if request.method == "DELETE":
            sim.faults.clear()
            return Response(status_code=204)
        sim.inject_fault(
            str(body["route"]),
            status=int(body["status"]),
            body=str(body.get("body", "")),
            content_type=str(body.get("contentType", "application/json")),
            method=body.get("method"),
            times=body.get("times", 1),
            delay=float(body.get("delay", 0.0)),
            after_processing=bool(body.get("afterProcessing", False)),
        )
        return {"pending": sim.faults.pending()}

    def owners(request: Request, body: dict[str, Any]) -> Any:
        return {"id": sim.add_owner(str(body["email"]), str(body.get("firstName", "")), str(body.get("lastName", "")))}

    def route(path: str, handler: ControlHandler, methods: list[str]) -> Route:
        return Route(path, _control(sim, handler), methods=methods)

    ui = "/_sim/ui/{object_type}"
    return [
        route("/_sim/state", state, ["GET"]),
        route("/_sim/reset", reset, ["POST"]),
        route("/_sim/save", save, ["POST"]),
        route("/_sim/seed/{object_type}", seed, ["POST"]),
        route("/_sim/records/{object_type}/{object_id}", record, ["GET"]),
        route("/_sim/ui/associations/{from_type}/{from_id}/{to_type}/{to_id}", ui_associate, ["PUT"]),
        route("/_sim/ui/associations/{from_type}/{from_id}/{to_type}/{to_id}", ui_disassociate, ["DELETE"]),
        route(f"{ui}/merge", ui_merge, ["POST"]),
        route(ui, ui_create, ["POST"]),
        route(f"{ui}/{{object_id}}", ui_update, ["PATCH"]),
        route(f"{ui}/{{object_id}}", ui_archive, ["DELETE"]),
        route(f"{ui}/{{object_id}}/restore", ui_restore, ["POST"]),
        route("/_sim/calls", calls, ["GET"]),
        route("/_sim/calls", reset_calls, ["DELETE"]),
        route("/_sim/rate-limits", rate_limits, ["GET", "PUT"]),
        route("/_sim/webhooks", webhooks, ["GET", "PUT"]),
        route("/_sim/webhooks/flush", flush, ["POST"]),
        route("/_sim/tokens", tokens, ["POST"]),
        route("/_sim/oauth/codes", oauth_code, ["POST"]),
        route("/_sim/oauth/expire", oauth_expire, ["POST"]),
        route("/_sim/faults", faults, ["POST", "DELETE"]),
        route("/_sim/owners", owners, ["POST"]),
    ]
