"""How one simulated HubSpot API call runs: injected faults, the bearer token, scopes, rate limits, then the
handler under the simulator's lock; ``SimError`` s become HubSpot's error bodies.

Query lists are accepted comma-separated (HubSpot's documented form) and repeated (the official SDK's
form, ``?properties=a&properties=b``); booleans in any case (the SDK sends ``archived=False``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from starlette.requests import Request
from starlette.responses import Response

from interlink.simulators.hubspot.crm import Source, object_type_of
from interlink.simulators.hubspot.oauth import Grant
from interlink.simulators.hubspot.wire import SimError, validation_error

if TYPE_CHECKING:
    from interlink.simulators.hubspot.simulator import HubSpotSimulator

Scopes = Callable[[Mapping[str, Any]], list[str]]


@dataclass
class Call:
    request: Request
    body: bytes
    grant: Grant | None
    sim: HubSpotSimulator

    @property
    def params(self) -> Mapping[str, Any]:
        return self.request.path_params

    @property
    def object_type(self) -> str:
        return object_type_of(str(self.params["object_type"]))

    @property
    def source(self) -> Source:
        assert self.grant is not None
        return Source.api(self.grant.app_id)

    @property
    def base_url(self) -> str:
        return str(self.request.base_url).rstrip("/")

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def query_list(self, name: str) -> list[str] | None:
        raw = self.request.query_params.getlist(name)
        if not raw:
            return None
        return [part.strip() for value in raw for part in value.split(",") if part.strip()]

    def query_bool(self, name: str, default: bool = False) -> bool:
        value = self.request.query_params.get(name)
        if value is None or value == "":
            return default
        if value.lower() in {"true", "1"}:
            return True
        if value.lower() in {"false", "0"}:
            return False
        raise validation_error(f"{name} must be true or false, not {value!r}")

    def query_int(self, name: str, default: int, *, low: int = 0, high: int | None = None) -> int:
        value = self.request.query_params.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise validation_error(f"{name} must be an integer, not {value!r}") from None
        if number < low or (high is not None and number > high):
            raise validation_error(f"{name} must be between {low} and {high}")
        return number

    def json(self) -> Any:
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise SimError(400, "VALIDATION_ERROR", f"Invalid input JSON on line 1: {exc}") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise validation_error("The request body must be a JSON object")
        return body

    def inputs(self, limit: int = 100) -> list[dict[str, Any]]:
        inputs = self.json_object().get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(item, dict) for item in inputs):
            raise validation_error("inputs must be a list of objects")
        if len(inputs) > limit:
            raise validation_error(f"Batch inputs are limited to {limit} (got {len(inputs)})")
        return inputs


Handler = Callable[[Call], Response]


def api(
    sim: HubSpotSimulator,
    handler: Handler,
    *,
    scopes: Scopes | None = None,
    search: bool = False,
    authenticated: bool = True,
    limited: bool = True,
) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        route = request.scope.get("route")
        template = getattr(route, "path", None) or request.url.path
        fault = sim.faults.take(request.method, template, request.url.path)
        if fault is not None and not fault.after_processing:
            if fault.delay:
                await anyio.sleep(fault.delay)
            return fault.response()
        headers: dict[str, str] = {}
        try:
            grant = sim.auth.authenticate(request.headers.get("authorization")) if authenticated else None
            if scopes is not None and grant is not None:
                sim.auth.require(grant, scopes(request.path_params))
            if limited and grant is not None:
                verdict = sim.limits.check(grant.token, search=search, daily_headers=grant.kind == "private_app")
                headers = verdict.headers
                if verdict.error is not None:
                    raise verdict.error
            body = await request.body()
            with sim.lock:
                response = handler(Call(request=request, body=body, grant=grant, sim=sim))
        except SimError as error:
            response = error.response()
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if fault is not None:  # done, but the caller hears only the fault
            if fault.delay:
                await anyio.sleep(fault.delay)
            return fault.response()
        return response

    return run


def object_scope(access: str) -> Scopes:
    def scopes(params: Mapping[str, Any]) -> list[str]:
        return [f"crm.objects.{object_type_of(str(params['object_type']))}.{access}"]

    return scopes


def schema_scope(access: str) -> Scopes:
    def scopes(params: Mapping[str, Any]) -> list[str]:
        kind = object_type_of(str(params["object_type"]))
        if access == "read":
            return [f"crm.schemas.{kind}.read|crm.objects.{kind}.read"]
        return [f"crm.schemas.{kind}.write"]

    return scopes


def pair_scope(access: str) -> Scopes:
    def scopes(params: Mapping[str, Any]) -> list[str]:
        return [
            f"crm.objects.{object_type_of(str(params['from_type']))}.{access}",
            f"crm.objects.{object_type_of(str(params['to_type']))}.{access}",
        ]

    return scopes


def fixed_scope(*names: str) -> Scopes:
    return lambda _params: list(names)
