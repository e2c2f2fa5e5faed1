"""The request core every Accelo resource uses: auth header, rate budget, envelope, paging, bulk id reads.

Every call goes through ``VendorHttp`` (rate budget, error classification, retries with backoff). On a
401 the token is renewed once and the call repeated. Answers are unwrapped from ``{meta, response}`` and
validated into the resource's model; anything that does not fit raises ``AcceloMalformedResponse``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from interlink.connectors.accelo.auth import TokenManager
from interlink.connectors.accelo.errors import (
    AcceloDuplicate,
    AcceloInvalidClient,
    AcceloInvalidRequest,
    AcceloMalformedResponse,
    AcceloNotFound,
    AcceloTransportFailure,
)
from interlink.connectors.accelo.query import MAX_LIMIT, Query, ids
from interlink.connectors.accelo.values import wire_text
from interlink.connectors.errors import TransportFailure
from interlink.connectors.http import VendorHttp, json_body

M = TypeVar("M", bound=BaseModel)

API_PREFIX = "/api/v0"


def chunked(values: Sequence[int], size: int = MAX_LIMIT) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


class AcceloApi:
    def __init__(self, http: VendorHttp, *, base_url: str, tokens: TokenManager, share: float = 1.0) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.share = share

    def with_share(self, share: float) -> AcceloApi:
        """The same deployment, spending at most ``share`` of each rate window (bulk jobs)."""
        return AcceloApi(self.http, base_url=self.base_url, tokens=self.tokens, share=share)

    # -- sending ------------------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        route: str,
        query: Query | None = None,
        form: Mapping[str, object] | None = None,
        record: tuple[str, int] | None = None,
        expect_response: bool = True,
    ) -> Any:
        """Send one request and return the envelope's ``response``.

        ``record=(collection_path, id)`` names the record the call addresses; Accelo's ``invalid_request``
        then becomes ``AcceloNotFound`` when that record does not exist (for a GET at once, since its only
        input is the id; for a write after checking with a list read, as bad input gives the same answer).
        """
        kwargs: dict[str, Any] = {}
        if query is not None and query.needs_json and method == "GET":
            method = "POST"  # Accelo's method override: the query travels as JSON, "_method": "GET" inside
            kwargs["json"] = query.json_body()
        else:
            if query is not None:
                kwargs["params"] = query.params()
            if form is not None:
                kwargs["data"] = {name: wire_text(value) for name, value in form.items() if value is not None}
        try:
            response = self._send(method, self.base_url + API_PREFIX + path, route, kwargs)
        except AcceloInvalidRequest as exc:
            if record is None or isinstance(exc, AcceloDuplicate | AcceloNotFound):
                raise
            collection, record_id = record
            if method == "GET" or record_id not in self.existing_ids(collection, [record_id]):
                raise AcceloNotFound(
                    f"{collection.rstrip('s')} {record_id} does not exist ({exc.message})",
                    status_code=exc.status_code,
                    category=exc.category,
                    details=exc.details,
                ) from exc
            raise
        body = json_body(response, AcceloMalformedResponse)
        if not isinstance(body, dict) or ("meta" not in body and "response" not in body):
            raise AcceloMalformedResponse(f"{route}: the answer is not Accelo's {{meta, response}} envelope")
        if expect_response and "response" not in body:
            raise AcceloMalformedResponse(f"{route}: the answer has no response")
        return body.get("response")

    def _send(self, method: str, url: str, route: str, kwargs: dict[str, Any]) -> httpx.Response:
        token = self.tokens.access_token()
        try:
            try:
                return self._send_with(token, method, url, route, kwargs)
            except AcceloInvalidClient:
                if not self.tokens.can_renew:
                    raise
                self.tokens.invalidate(token)
                return self._send_with(self.tokens.access_token(), method, url, route, kwargs)
        except TransportFailure as exc:
            if isinstance(exc, AcceloTransportFailure):
                raise
            raise AcceloTransportFailure(exc.message, request_sent=exc.request_sent) from exc

    def _send_with(self, token: str, method: str, url: str, route: str, kwargs: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        return self.http.send(method, url, route=route, share=self.share, headers=headers, **kwargs)

    # -- reading ------------------------------------------------------------------------------------------
    def one(
        self,
        model: type[M],
        path: str,
        *,
        route: str,
        query: Query | None = None,
        record: tuple[str, int] | None = None,
        method: str = "GET",
        form: Mapping[str, object] | None = None,
    ) -> M:
        payload = self.call(method, path, route=route, query=query, form=form, record=record)
        return self.parse(model, payload, route)

    def page(self, model: type[M], path: str, *, route: str, query: Query) -> list[M]:
        payload = self.call("GET", path, route=route, query=query)
        return self.parse_list(model, payload, route)

    def pages(
        self, model: type[M], path: str, *, route: str, query: Query, most: int | None = None
    ) -> Iterator[list[M]]:
        """Page after page (``_page`` 0, 1, …) until a short page: Accelo gives no totals. A caller that knows
        no more than ``most`` records can match saves the call that would only find the end."""
        limit = query.limit or MAX_LIMIT
        page_number = query.page or 0
        delivered = 0
        while True:
            records = self.page(model, path, route=route, query=query.replace(limit=limit, page=page_number))
            if records:
                yield records
            delivered += len(records)
            if len(records) < limit or (most is not None and delivered >= most):
                return
            page_number += 1

    def iterate(self, model: type[M], path: str, *, route: str, query: Query, most: int | None = None) -> Iterator[M]:
        for records in self.pages(model, path, route=route, query=query, most=most):
            yield from records

    def many(
        self, model: type[M], path: str, record_ids: Iterable[int], *, route: str, query: Query | None = None
    ) -> dict[int, M]:
        """Records by id, 100 per call (``_filters=id(…)``). Ids that do not resolve are simply absent."""
        wanted = sorted(set(record_ids))
        found: dict[int, M] = {}
        base = query or Query()
        for chunk in chunked(wanted):
            chunk_query = base.replace(filters=(ids(chunk), *base.filters), limit=len(chunk), page=None)
            for record in self.page(model, path, route=route, query=chunk_query):
                record_id = getattr(record, "id", None)
                if isinstance(record_id, int):
                    found[record_id] = record
        return found

    def existing_ids(self, path: str, record_ids: Iterable[int]) -> set[int]:
        """Which of these ids still resolve (the cheapest read: default fields only)."""
        wanted = sorted(set(record_ids))
        present: set[int] = set()
        for chunk in chunked(wanted):
            payload = self.call(
                "GET", f"/{path}", route=f"/{path}", query=Query(filters=(ids(chunk),), limit=len(chunk))
            )
            for item in self._list_payload(payload, f"/{path}"):
                if isinstance(item, dict) and str(item.get("id", "")).isdigit():
                    present.add(int(item["id"]))
        return present

    def count(self, path: str, *, route: str, query: Query | None = None) -> int:
        payload = self.call("GET", path, route=route, query=query)
        if not isinstance(payload, dict) or "count" not in payload:
            raise AcceloMalformedResponse(f"{route}: expected {{count}}, got {str(payload)[:80]!r}")
        try:
            return int(payload["count"])
        except (TypeError, ValueError):
            raise AcceloMalformedResponse(f"{route}: count is not a number: {payload['count']!r}") from None

    # -- parsing ------------------------------------------------------------------------------------------
    @staticmethod
    def parse(model: type[M], payload: Any, route: str) -> M:
        if not isinstance(payload, dict):
            raise AcceloMalformedResponse(f"{route}: expected a record, got {type(payload).__name__}")
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            raise AcceloMalformedResponse(
                f"{route}: the {model.__name__} does not match its documented shape: {_summary(exc)}",
                details=payload,
            ) from None

    def parse_list(self, model: type[M], payload: Any, route: str) -> list[M]:
        return [self.parse(model, item, route) for item in self._list_payload(payload, route)]

    @staticmethod
    def _list_payload(payload: Any, route: str) -> list[Any]:
        if payload is None:  # an empty list may come back as null
            return []
        if not isinstance(payload, list):
            raise AcceloMalformedResponse(f"{route}: expected a list, got {type(payload).__name__}")
        return payload


def _summary(error: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or 'record'}: {item['msg']}" for item in error.errors()[:3]
    ]
    return "; ".join(problems)
