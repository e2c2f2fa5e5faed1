"""Sending one HubSpot request: the bearer token, the right budget, typed errors, and JSON or nothing.

Everything goes through ``VendorHttp`` (budget, classification, tenacity retries). Searches use their own
``VendorHttp`` over the search budget, so a search 429 pauses searches only. Whatever escapes is a
``HubSpotError``: the shared layer's ``TransportFailure`` and the budget's ``BudgetExceeded`` are
re-raised as their HubSpot counterparts, so callers catch one tree.
"""

from __future__ import annotations

import copy
from collections.abc import Generator, Mapping, Sequence
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from interlink.connectors.errors import TransportFailure
from interlink.connectors.http import CallObserver, RetryPolicy, VendorHttp, ignore_call, json_body
from interlink.connectors.hubspot.auth import DEFAULT_RETRY, TokenProvider
from interlink.connectors.hubspot.errors import (
    HubSpotDailyLimitReached,
    HubSpotError,
    HubSpotMalformedResponse,
    HubSpotRateLimited,
    HubSpotTransportFailure,
    classify,
)
from interlink.connectors.hubspot.limits import HubSpotRateLimits, RateLimitHeaders, RateLimitSnapshot
from interlink.connectors.ratelimit import BudgetExceeded, RateBudget

Params = Mapping[str, str | int | Sequence[str]] | None

# A wait longer than this for the budget can only be the daily allowance (or a pause for it).
DAILY_WAIT_THRESHOLD = 600.0


class _Bearer(httpx.Auth):
    """Sets the token on every attempt, so a retry after a refresh carries the new one."""

    def __init__(self, tokens: TokenProvider) -> None:
        self._tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._tokens.bearer_token()}"
        yield request


class HubSpotTransport:
    def __init__(
        self,
        client: httpx.Client,
        *,
        base_url: str,
        tokens: TokenProvider,
        budget: RateBudget,
        search_budget: RateBudget,
        limits: HubSpotRateLimits,
        retry: RetryPolicy = DEFAULT_RETRY,
        observer: CallObserver = ignore_call,
        daily_reset_zone: ZoneInfo | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.share = 1.0  # the fraction of each budget window this transport may use (see ``with_share``)
        self.budget = budget
        self.search_budget = search_budget
        self.headers = RateLimitHeaders(limits, daily_reset_zone=daily_reset_zone)
        classify_for_account = partial(classify, daily_reset_zone=daily_reset_zone)
        self._auth = _Bearer(tokens)
        self._api = VendorHttp(
            client,
            vendor="hubspot",
            budget=budget,
            classify=classify_for_account,
            observe_headers=self.headers.observe,
            retry=retry,
            observer=observer,
        )
        self._search = VendorHttp(
            client,
            vendor="hubspot",
            budget=search_budget,
            classify=classify_for_account,
            retry=retry,
            observer=observer,
        )

    def with_share(self, share: float) -> HubSpotTransport:
        """The same transport (same budgets, retries, token), limited to ``share`` of each window."""
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        shared = copy.copy(self)
        shared.share = share
        return shared

    @property
    def rate_limits(self) -> RateLimitSnapshot | None:
        """What HubSpot's rate-limit headers said last (None before the first call)."""
        return self.headers.last

    def send(
        self,
        method: str,
        path: str,
        *,
        route: str,
        params: Params = None,
        json: Any = None,
        search: bool = False,
        share: float | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """One request. ``idempotent`` marks a POST that may safely be sent twice (reads, updates): only
        those are resent after an answer was lost (see ``interlink.connectors.http``)."""
        http = self._search if search else self._api
        share = self.share if share is None else share
        kwargs: dict[str, Any] = {"auth": self._auth}
        if params is not None:
            kwargs["params"] = _query(params)
        if json is not None:
            kwargs["json"] = json
        try:
            return http.send(method, self.base_url + path, route=route, share=share, idempotent=idempotent, **kwargs)
        except HubSpotError:
            raise
        except TransportFailure as exc:
            raise HubSpotTransportFailure(exc.message, request_sent=exc.request_sent) from exc
        except BudgetExceeded as exc:
            if exc.wait_seconds >= DAILY_WAIT_THRESHOLD:
                raise HubSpotDailyLimitReached(
                    f"HubSpot's daily allowance is spent; calls resume in {exc.wait_seconds / 3600:.1f}h",
                    retry_after=exc.wait_seconds,
                    policy="DAILY",
                ) from exc
            raise HubSpotRateLimited(
                f"the shared HubSpot budget has no room for {exc.wait_seconds:.0f}s",
                retry_after=exc.wait_seconds,
                policy="CLIENT_BUDGET",
            ) from exc

    def json(self, method: str, path: str, *, route: str, **kwargs: Any) -> Any:
        """Send, and return the JSON body; an empty or non-JSON success is a malformed response."""
        response = self.send(method, path, route=route, **kwargs)
        return json_body(response, HubSpotMalformedResponse)

    def json_object(self, method: str, path: str, *, route: str, **kwargs: Any) -> dict[str, Any]:
        body = self.json(method, path, route=route, **kwargs)
        if not isinstance(body, dict):
            raise HubSpotMalformedResponse(f"expected a JSON object from {route}, got {type(body).__name__}")
        return body


def _query(params: Mapping[str, str | int | Sequence[str]]) -> list[tuple[str, str]]:
    """Query pairs with lists comma-separated, as HubSpot documents them (§2.3)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, str):
            pairs.append((key, value))
        elif isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        elif isinstance(value, int):
            pairs.append((key, str(value)))
        elif value:
            pairs.append((key, ",".join(value)))
    return pairs


def results_of(body: Mapping[str, Any], *, what: str) -> list[Any]:
    results = body.get("results")
    if not isinstance(results, list):
        raise HubSpotMalformedResponse(f"{what} from HubSpot has no results list")
    return results


def next_after(body: Mapping[str, Any]) -> str | None:
    """The cursor of the next page; HubSpot omits ``paging`` on the last page (§2.4)."""
    paging = body.get("paging")
    if not isinstance(paging, dict):
        return None
    following = paging.get("next")
    if not isinstance(following, dict):
        return None
    after = following.get("after")
    return None if after in (None, "") else str(after)
