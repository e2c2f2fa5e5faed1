"""The simulator as an ASGI app: mount it in-process (``in_process_client(app)``) or run it alone
(``interlink simulate hubspot --port N``). ``app.state.simulator`` is its controller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interlink.simulators.base import CallCountingMiddleware
from interlink.simulators.hubspot import control, routes_associations, routes_oauth, routes_objects, routes_schema
from interlink.simulators.hubspot.simulator import HubSpotSimulator
from interlink.simulators.hubspot.wire import SimError


async def _not_found(request: Request, exc: Exception) -> Response:
    return SimError(404, "OBJECT_NOT_FOUND", f"no route for {request.method} {request.url.path}").response()


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return SimError(405, None, f"{request.method} is not allowed on {request.url.path}").response()


def create_app(
    state_file: Path | None = None,
    webhook_urls: Sequence[str] = (),
    *,
    simulator: HubSpotSimulator | None = None,
    **options: Any,
) -> Starlette:
    """A HubSpot simulator app. ``options`` go to ``HubSpotSimulator`` (rate limits, secrets, clock...)."""
    sim = simulator or HubSpotSimulator(state_file=state_file, webhook_urls=webhook_urls, **options)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        sim.close()

    app = Starlette(
        routes=[
            *control.routes(sim),
            *routes_oauth.routes(sim),
            *routes_objects.routes(sim),
            *routes_schema.routes(sim),
            *routes_associations.routes(sim),
        ],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
        lifespan=lifespan,
    )
    app.state.simulator = sim
    app.add_middleware(_call_counting(sim))
    return app


def _call_counting(sim: HubSpotSimulator) -> Any:
    class CountCalls(CallCountingMiddleware):
        """Counts a call before its answer leaves, not after: over a real socket the caller may otherwise
        read the counts (``/_sim/calls``) before the last call is in them."""

        def __init__(self, app: ASGIApp) -> None:
            super().__init__(app, sim.calls)

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"].startswith(self.ignore_prefixes):
                await self.app(scope, receive, send)
                return
            counted = False

            def count(status: int) -> None:
                nonlocal counted
                if not counted:
                    counted = True
                    route = scope.get("route")
                    self.calls.record(scope["method"], getattr(route, "path", None) or scope["path"], status)

            async def send_and_count(message: Message) -> None:
                if message["type"] == "http.response.start":
                    count(message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_and_count)
            finally:
                count(500)

    return CountCalls
