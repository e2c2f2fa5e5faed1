"""The simulator's HTTP edge: Accelo's envelope, reading parameters, the method override, and the gate every
``/api`` request passes (latency, rate limit, injected faults, bearer token)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interlink.simulators.accelo.query import (
    ApiFault,
    FieldSpec,
    Term,
    invalid,
    paging,
    parse_fields,
    parse_terms,
    terms_from_json,
)
from interlink.simulators.base import CallLog, route_path

if TYPE_CHECKING:
    from interlink.simulators.accelo.simulator import AcceloSimulator, Fault

STATUS_INFO = "https://affinitylive.jira.com/wiki/display/APIS/Status+Codes#"
OK_MESSAGE = "Everything executed as expected."
NO_RESPONSE = object()  # a handler's answer when Accelo returns the meta object only (DELETE)


def _yes(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "yes", "true")


def envelope_body(
    payload: Any, params: Mapping[str, Any], *, status: str = "ok", message: str = OK_MESSAGE, http_status: int = 200
) -> tuple[int, dict[str, Any]]:
    meta: dict[str, Any] = {"status": status}
    if not _yes(params.get("_suppress_message", "")):
        meta["message"] = message
        meta["more_info"] = STATUS_INFO + status
    code = http_status
    if _yes(params.get("_suppress_http_status", "")):
        meta["response_code"] = http_status
        code = 200
    body: dict[str, Any] = {}
    if payload is not NO_RESPONSE:
        body["response"] = payload
    if not _yes(params.get("_suppress_meta", "")):
        body["meta"] = meta
    return code, body


def json_response(code: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")).encode(),
        status_code=code,
        media_type="application/json",
        headers=headers,
    )


def fault_response(fault: ApiFault, params: Mapping[str, Any] | None = None) -> Response:
    code, body = envelope_body(
        None, params or {}, status=fault.status, message=fault.message, http_status=fault.http_status
    )
    return json_response(code, body)


async def read_params(request: Request) -> dict[str, Any]:
    """Query and body parameters together (Accelo takes either, form-encoded or JSON)."""
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    if body.strip():
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            try:
                data = json.loads(body)
            except ValueError:
                raise invalid("the JSON body is not valid") from None
            if not isinstance(data, dict):
                raise invalid("the JSON body must be an object")
            params.update(data)
        else:
            try:
                params.update(parse_qsl(body.decode(), keep_blank_values=True))
            except UnicodeDecodeError:
                raise invalid("the body is not UTF-8") from None
    return params


@dataclass
class Call:
    """One API request as a handler sees it."""

    simulator: AcceloSimulator
    request: Request
    params: dict[str, Any]

    def path_int(self, name: str) -> int:
        value: int = self.request.path_params[name]
        return value

    def fields(self, default: FieldSpec | None = None) -> FieldSpec:
        raw = self.params.get("_fields")
        hide = _yes(self.params.get("_hide_defaults", ""))
        if raw in (None, "") and default is not None:
            return default
        return parse_fields(str(raw) if raw is not None else None, hide_defaults=hide)

    def terms(self) -> list[Term]:
        raw = self.params.get("_filters")
        if raw in (None, ""):
            return []
        return terms_from_json(raw) if isinstance(raw, dict) else parse_terms(str(raw))

    def search(self) -> str | None:
        raw = self.params.get("_search")
        return None if raw in (None, "") else str(raw)

    def paging(self) -> tuple[int, int]:
        return paging(self.params)

    def form(self) -> dict[str, Any]:
        """The write parameters (everything that is not a control parameter)."""
        return {name: value for name, value in self.params.items() if not name.startswith("_")}


Handler = Callable[[Call], Any]


def endpoint(simulator: AcceloSimulator, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        params: dict[str, Any] = {}
        try:
            params = await read_params(request)
            with simulator.lock:
                payload = handler(Call(simulator, request, params))
                if request.method != "GET":
                    simulator.touch()
        except ApiFault as fault:
            return fault_response(fault, params)
        code, body = envelope_body(payload, params)
        return json_response(code, body)

    return handle


async def _read_all(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class CountCalls:
    """Records each API call in the ``CallLog`` by route template, *before* the answer leaves.

    ``simulators.base.CallCountingMiddleware`` records after the response is sent, so over a real socket a
    client can read the answer (and a test the count) before the call is counted. Same log, same keys.
    """

    def __init__(self, app: ASGIApp, calls: CallLog) -> None:
        self.app = app
        self.calls = calls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_path(scope).startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        recorded = False

        def record(status: int) -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                route = scope.get("route")
                self.calls.record(scope["method"], getattr(route, "path", None) or route_path(scope), status)

        async def send_and_count(message: Message) -> None:
            if message["type"] == "http.response.start":
                record(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_count)
        finally:
            record(500)


class MethodOverride:
    """``POST …?_method=delete`` (or ``"_method"`` in the body) is handled as that method."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not route_path(scope).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        override = parse_qs(scope.get("query_string", b"").decode()).get("_method", [None])[-1]
        body: bytes | None = None
        if override is None:
            body = await _read_all(receive)
            kind = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
            try:
                if kind == b"application/json":
                    data = json.loads(body) if body.strip() else {}
                    override = data.get("_method") if isinstance(data, dict) else None
                elif body:
                    override = dict(parse_qsl(body.decode())).get("_method")
            except (ValueError, UnicodeDecodeError):
                override = None
        if override and str(override).upper() in ("GET", "PUT", "POST", "DELETE"):
            scope["method"] = str(override).upper()  # in place: the call log reads it too
        if body is not None:
            replayed = body

            async def replay() -> Message:
                nonlocal replayed
                chunk, replayed = replayed, b""
                return {"type": "http.request", "body": chunk, "more_body": False}

            receive = replay
        await self.app(scope, receive, send)


async def _discard(message: Message) -> None:
    return None


class ApiGate:
    """Latency, the deployment's rate limit, injected faults and the bearer token, for ``/api`` paths only
    (``/oauth2`` calls do not count against Accelo's limit; ``/_sim`` is the control surface)."""

    def __init__(self, app: ASGIApp, simulator: AcceloSimulator) -> None:
        self.app = app
        self.simulator = simulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not route_path(scope).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        simulator = self.simulator
        if simulator.latency_seconds > 0:
            await anyio.sleep(simulator.latency_seconds)
        verdict = simulator.rate_limit.check()
        rate_headers = verdict.headers()
        if not verdict.allowed:
            code, body = envelope_body(
                None,
                {},
                status="too_many_requests",
                message=f"Rate limit exceeded for {simulator.deployment}.api.accelo.com",
                http_status=429,
            )
            body["meta"]["more_info"] = "api.accelo.com/docs/#rate-limiting"
            await self._send(send, json_response(code, body), rate_headers)
            return
        fault = simulator.take_fault(scope["method"], route_path(scope))
        if fault is not None and not fault.after_processing:
            await self._send(send, self._fault_answer(fault), rate_headers)
            return
        problem = self._authenticate(scope)
        if problem is not None:
            await self._send(send, fault_response(problem), rate_headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *rate_headers]}
            await send(message)

        if fault is not None:  # the work is done; its answer is lost and the fault's goes out instead
            await self.app(scope, receive, _discard)
            await self._send(send, self._fault_answer(fault), rate_headers)
            return
        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _fault_answer(fault: Fault) -> Response:
        return Response(fault.body.encode(), status_code=fault.status, media_type=fault.content_type)

    def _authenticate(self, scope: Scope) -> ApiFault | None:
        header = dict(scope["headers"]).get(b"authorization", b"").decode()
        query = parse_qs(scope.get("query_string", b"").decode())
        query_token = query.get("_bearer_token", [None])[-1]
        header_token = header[7:].strip() if header.lower().startswith("bearer ") else None
        if header_token and query_token:
            return invalid("send the token in the Authorization header or _bearer_token, not both")
        token = header_token or query_token
        if not token:
            return ApiFault("invalid_client", "no access token")
        issued = self.simulator.oauth.check(token)
        if issued is None:
            return ApiFault("invalid_client", "the access token is invalid or expired")
        scope["accelo.token"] = token
        return None

    @staticmethod
    async def _send(send: Send, response: Response, extra: list[tuple[bytes, bytes]]) -> None:
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": [*response.raw_headers, *extra]}
        )
        await send({"type": "http.response.body", "body": response.body})
