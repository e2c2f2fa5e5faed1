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
from starlette.types import ASGIApp

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
        def __init__(self, app: ASGIApp) -> None:
            super().__init__(app, sim.calls)

    return CountCalls
