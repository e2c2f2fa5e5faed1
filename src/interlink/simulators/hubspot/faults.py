"""Injected faults: make the next call(s) to a route answer something else (a 502 HTML page, a 200 that is not
JSON, a 429 on the token endpoint, a slow answer). Tests of a client's error handling use these."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from starlette.responses import Response


@dataclass
class Fault:
    route: str  # a route template ("/crm/v3/objects/{object_type}/{object_id}") or a literal path
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    method: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = 1  # None: until cleared
    delay: float = 0.0
    # The request is carried out first and only its answer is replaced: a write whose answer was lost (a
    # gateway timing out after HubSpot made the record).
    after_processing: bool = False

    def response(self) -> Response:
        return Response(self.body, status_code=self.status, headers=self.headers, media_type=self.content_type)


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, template: str, path: str) -> Fault | None:
        with self._lock:
            self._faults = [fault for fault in self._faults if fault.times is None or fault.times > 0]
            for fault in self._faults:
                if fault.route not in (template, path) or (fault.method and fault.method.upper() != method):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        with self._lock:
            return len(self._faults)
