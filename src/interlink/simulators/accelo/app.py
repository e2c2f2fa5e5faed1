"""The simulator as an ASGI app: ``/api/v0`` (Accelo's API), ``/oauth2/v0`` (its OAuth server) and ``/_sim``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, Router
from starlette.types import Receive, Scope, Send

from interlink.simulators.accelo.api import ApiRoutes
from interlink.simulators.accelo.control import control_routes
from interlink.simulators.accelo.http import ApiGate, CountCalls, MethodOverride, envelope_body, json_response
from interlink.simulators.accelo.oauth import OAuthError
from interlink.simulators.accelo.simulator import AcceloSimulator


def oauth_routes(simulator: AcceloSimulator) -> list[Route]:
    server = simulator.oauth

    async def form_of(request: Request) -> dict[str, str]:
        params = dict(request.query_params)
        body = await request.body()
        if body:
            params.update(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        return params

    async def token(request: Request) -> Response:
        form = await form_of(request)
        try:
            body = server.token(request.headers.get("authorization"), form)
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(body, headers={"cache-control": "no-store"})

    async def authorize(request: Request) -> Response:
        try:
            location = server.authorize(await form_of(request))
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return RedirectResponse(location, status_code=302)

    async def revoke(request: Request) -> Response:
        form = await form_of(request)
        try:
            server.revoke(request.headers.get("authorization"), form)
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        code, body = envelope_body(None, {})
        return json_response(code, body)

    return [
        Route("/oauth2/v0/token", token, methods=["POST"]),
        Route("/oauth2/v0/authorize", authorize, methods=["GET", "POST"]),
        Route("/oauth2/v0/revoke", revoke, methods=["POST"]),
    ]


class AcceloSimulatorApp:
    """The ASGI app. ``app.state.simulator`` (also ``app.simulator``) is the controller."""

    def __init__(self, simulator: AcceloSimulator) -> None:
        self.simulator = simulator
        self.state = State()
        self.state.simulator = simulator
        router = Router(routes=[*oauth_routes(simulator), *control_routes(simulator), *ApiRoutes(simulator).routes()])
        self._app = CountCalls(MethodOverride(ApiGate(router, simulator)), simulator.calls)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self.simulator.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await self._app(scope, receive, send)

    def close(self) -> None:
        self.simulator.close()


def create_app(state_file: Path | None = None, webhook_urls: Sequence[str] = (), **options: Any) -> AcceloSimulatorApp:
    """A simulated deployment. ``options`` are ``AcceloSimulator``'s (deployment, rate_limit,
    rate_window_seconds, webhook_secret, webhook_retry_delays, webhook_timeout, webhook_client_for,
    access_token, latency_seconds, …)."""
    return AcceloSimulatorApp(AcceloSimulator(state_file=state_file, webhook_urls=webhook_urls, **options))
