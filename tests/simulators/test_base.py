from __future__ import annotations

import json
import threading

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from interlink.kit.asgi import in_process_client
from interlink.simulators.base import CallCountingMiddleware, CallLog, Delivery, WebhookDeliverer


def test_the_in_process_transport_carries_method_path_query_headers_and_body() -> None:
    app = FastAPI()

    @app.post("/items/{item_id}")
    async def echo(item_id: str, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "id": item_id,
                "query": request.query_params.multi_items(),
                "auth": request.headers.get("authorization"),
                "body": await request.json(),
            },
            status_code=201,
        )

    with in_process_client(app) as client:
        response = client.post(
            "/items/a%20b",
            params=[("p", "1"), ("p", "2")],
            headers={"Authorization": "Bearer t"},
            json={"x": 1},
        )
    assert response.status_code == 201
    assert response.json() == {
        "id": "a b",
        "query": [["p", "1"], ["p", "2"]],
        "auth": "Bearer t",
        "body": {"x": 1},
    }


def test_calls_are_counted_by_route_template() -> None:
    app = FastAPI()

    @app.get("/crm/v3/objects/{object_type}/{object_id}")
    def get_object(object_type: str, object_id: str) -> dict[str, str]:
        return {"id": object_id}

    calls = CallLog()
    app.add_middleware(CallCountingMiddleware, calls=calls)
    with in_process_client(app) as client:
        for object_id in ("1", "2", "3"):
            client.get(f"/crm/v3/objects/contacts/{object_id}")
        client.get("/_sim/state")
    assert calls.count(route="/crm/v3/objects/{object_type}/{object_id}") == 3
    assert calls.count() == 3  # control-surface calls are not vendor calls


def test_webhooks_are_retried_on_the_schedule_until_accepted() -> None:
    answers = iter([500, 503, 200])
    received: list[dict[str, int]] = []
    lock = threading.Lock()

    def target(request: httpx.Request) -> httpx.Response:
        with lock:
            received.append(json.loads(request.content))
            return httpx.Response(next(answers))

    client = httpx.Client(transport=httpx.MockTransport(target))
    deliverer = WebhookDeliverer(lambda _url: client, retry_delays=[0.01, 0.01, 0.01])
    delivery = Delivery(
        url="http://interlink.test/webhooks",
        build=lambda attempt: (
            json.dumps({"attempt": attempt}).encode(),
            {"content-type": "application/json"},
        ),
        judge=lambda response: "delivered" if response is not None and response.status_code == 200 else "retry",
    )
    deliverer.submit(delivery)
    assert deliverer.flush(5)
    assert received == [{"attempt": 0}, {"attempt": 1}, {"attempt": 2}]
    assert delivery.outcomes == ["500", "503", "200"]
    assert deliverer.delivered == [delivery]
    deliverer.close()


def test_loopback_server_serves_the_app() -> None:
    from tests.support.servers import serve_over_loopback

    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    with serve_over_loopback(app) as base_url:
        assert httpx.get(f"{base_url}/ping").json() == {"pong": "yes"}
