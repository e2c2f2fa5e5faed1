"""The Accord simulator as an ASGI app (``interlink simulate accord``), with its ``/_sim`` control surface.

Accord has no public API to simulate here (reference/accelo-api.md §7); what it sends is Interlink's own
signed event envelope. So the app is the control surface alone: change an Accord as a person would and the
matching event goes to every webhook URL. ``app.state.simulator`` is the ``AccordSimulator`` for Python use.

    GET    /_sim/state                                  webhook URLs, Accords, deliveries pending
    POST   /_sim/reset                                  the seeded Accords again
    GET    /_sim/accords                                every Accord
    POST   /_sim/accords                                {"name", "hubspot_deal_id", ...values} -> 201, "accord.created"
    GET    /_sim/accords/{id}                           one Accord
    PATCH  /_sim/accords/{id}                           {...values, "trigger": "step.updated"}: change and send
    PUT    /_sim/accords/{id}/deal                      {"hubspot_deal_id": "123" | null}: connect (sends nothing)
    POST   /_sim/accords/{id}/events                    {"trigger": "accord.viewed", "times": 1}: send, no change
    POST   /_sim/accords/{id}/duplicate                 {"name", "hubspot_deal_id"} -> 201, "accord.duplicated"
    PUT    /_sim/webhooks                               {"urls": [...], "signingSecret": "..."}
    GET    /_sim/deliveries                             every event sent, with attempts and answers
    POST   /_sim/deliveries/flush                       wait until sent ({"timeout": seconds})
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from interlink.simulators.accord.simulator import AccordSimulator, SimulatorError

Handler = Callable[[Request, dict[str, Any]], Any]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _control(handler: Handler, *, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return _error(400, "the body must be JSON")
        if not isinstance(body, dict):
            return _error(400, "the body must be a JSON object")
        try:
            result = await anyio.to_thread.run_sync(handler, request, body)
        except SimulatorError as exc:
            return _error(exc.status, exc.message)
        except (TypeError, ValueError) as exc:
            return _error(400, f"bad control request: {exc}")
        return JSONResponse(result, status_code=status)

    return run


def routes(sim: AccordSimulator) -> list[Route]:
    def accord_id(request: Request) -> str:
        return str(request.path_params["accord_id"])

    def state(_request: Request, _body: dict[str, Any]) -> dict[str, Any]:
        return {
            "webhookUrls": sim.webhook_urls,
            "accords": [asdict(accord) for accord in sim.all_accords()],
            "pendingDeliveries": sim.deliverer.pending(),
        }

    def reset(_request: Request, _body: dict[str, Any]) -> dict[str, Any]:
        sim.reset()
        return {"reset": True}

    def list_accords(_request: Request, _body: dict[str, Any]) -> list[dict[str, Any]]:
        return [asdict(accord) for accord in sim.all_accords()]

    def create(_request: Request, body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.pop("name", "") or "New Accord")
        return asdict(sim.create(name, **body))

    def get_one(request: Request, _body: dict[str, Any]) -> dict[str, Any]:
        return asdict(sim.get(accord_id(request)))

    def change(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        trigger = str(body.pop("trigger", "step.updated"))
        event_ids = sim.change(accord_id(request), trigger, **body)
        return {"accord": asdict(sim.get(accord_id(request))), "eventIds": event_ids}

    def connect(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return asdict(sim.connect(accord_id(request), body.get("hubspot_deal_id")))

    def fire(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        trigger = str(body.get("trigger", "accord.viewed"))
        times = int(body.get("times", 1))
        if not 1 <= times <= 10_000:
            raise SimulatorError(400, "times must be between 1 and 10000")
        unconnected = bool(body.get("unconnected", False))
        event_ids = [
            event_id
            for _ in range(times)
            for event_id in sim.fire(accord_id(request), trigger, unconnected=unconnected)
        ]
        return {"eventIds": event_ids}

    def duplicate(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        copy = sim.duplicate(accord_id(request), name=body.get("name"), hubspot_deal_id=body.get("hubspot_deal_id"))
        return asdict(copy)

    def webhooks(_request: Request, body: dict[str, Any]) -> dict[str, Any]:
        urls = body.get("urls")
        sim.configure(urls=list(urls) if urls is not None else None, signing_secret=body.get("signingSecret"))
        return {"webhookUrls": sim.webhook_urls}

    def deliveries(_request: Request, _body: dict[str, Any]) -> list[dict[str, Any]]:
        return sim.deliveries()

    def flush(_request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return {"flushed": sim.flush(float(body.get("timeout", 30)))}

    base = "/_sim/accords/{accord_id}"
    return [
        Route("/_sim/state", _control(state), methods=["GET"]),
        Route("/_sim/reset", _control(reset), methods=["POST"]),
        Route("/_sim/accords", _control(list_accords), methods=["GET"]),
        Route("/_sim/accords", _control(create, status=201), methods=["POST"]),
        Route(base, _control(get_one), methods=["GET"]),
        Route(base, _control(change), methods=["PATCH"]),
        Route(f"{base}/deal", _control(connect), methods=["PUT"]),
        Route(f"{base}/events", _control(fire), methods=["POST"]),
        Route(f"{base}/duplicate", _control(duplicate, status=201), methods=["POST"]),
        Route("/_sim/webhooks", _control(webhooks), methods=["PUT"]),
        Route("/_sim/deliveries", _control(deliveries), methods=["GET"]),
        Route("/_sim/deliveries/flush", _control(flush), methods=["POST"]),
    ]


def create_app(
    state_file: Path | None = None,
    webhook_urls: Sequence[str] = (),
    *,
    simulator: AccordSimulator | None = None,
    **options: Any,
) -> Starlette:
    """An Accord simulator app. ``options`` go to ``AccordSimulator`` (signing secret, deal ids, clock...)."""
    sim = simulator or AccordSimulator(state_file=state_file, webhook_urls=webhook_urls, **options)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        sim.close()

    app = Starlette(routes=list(routes(sim)), lifespan=lifespan)
    app.state.simulator = sim
    return app
