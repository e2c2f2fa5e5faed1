"""An ``httpx`` transport that sends a synchronous ``httpx.Client``'s requests straight into an ASGI app.

This is how the simulators are "mounted in-process": the production clients keep their injected
``httpx.Client`` and only the transport differs. The app runs on an asyncio event loop in a daemon thread of
the transport's own, so any number of threads may send through one transport, and a transport nobody closed
cannot keep the process from exiting (an anyio blocking portal's executor thread would: interpreter exit
joins it, and its loop never ends).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any
from urllib.parse import unquote

import anyio
import httpx
from starlette.types import ASGIApp, Message


class ASGITransport(httpx.BaseTransport):
    def __init__(self, app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.app = app
        self.client = client
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="asgi-transport", daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        future = asyncio.run_coroutine_threadsafe(self._call_app(request, body), self._loop)
        status, headers, content = future.result()
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def _call_app(self, request: httpx.Request, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        url = request.url
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": unquote(url.path),
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(key.lower(), value) for key, value in request.headers.raw],
            "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
            "client": self.client,
        }
        finished = anyio.Event()
        request_sent = False
        status = 500
        response_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        started = False

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, response_headers, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    finished.set()

        try:
            await self.app(scope, receive, send)
        except Exception:
            if not started:
                raise
        finally:
            finished.set()
        return status, response_headers, b"".join(chunks)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()


def in_process_client(app: ASGIApp, base_url: str = "http://testserver", **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` whose requests go to ``app`` without a socket."""
    return httpx.Client(transport=ASGITransport(app), base_url=base_url, **kwargs)
