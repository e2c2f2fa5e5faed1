"""Sending a vendor request: spend from the rate budget, send, classify the answer, retry what is worth it.

Retries use ``tenacity``: rate limits wait as long as the vendor says (and pause the shared budget, so every
process waits), server errors and transport failures back off exponentially with jitter. Every call,
retried or not, is reported to the observer (metrics, simulator-free call counting).

A request that may have done its work before its answer was lost (a 5xx, a timeout or a reset after it was
sent) is sent again only when sending it twice is harmless: every method but POST, and the POSTs a caller
marks ``idempotent`` (searches, batch reads and updates). A create is not: a second one would be a duplicate
record. It is retried only when the vendor certainly did not act on it (a 429, or no connection at all);
otherwise the error goes up, and whoever retries the record later matches before creating, so finds the
first one if it was made.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from interlink.connectors.errors import ConnectorError, MalformedResponse, RateLimited, TransportFailure
from interlink.connectors.ratelimit import RateBudget


class CallObserver(Protocol):
    def __call__(self, *, vendor: str, route: str, status: int | None, seconds: float) -> None: ...


def ignore_call(*, vendor: str, route: str, status: int | None, seconds: float) -> None:
    return None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_seconds: float = 0.5
    max_seconds: float = 30.0
    max_rate_limit_wait: float = 120.0


ErrorClassifier = Callable[[httpx.Response], ConnectorError | None]
HeaderObserver = Callable[[httpx.Response, RateBudget], None]


class VendorHttp:
    """One vendor account's requests: an injected ``httpx.Client``, a rate budget and an error classifier."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        vendor: str,
        budget: RateBudget,
        classify: ErrorClassifier,
        observe_headers: HeaderObserver | None = None,
        retry: RetryPolicy = RetryPolicy(),
        observer: CallObserver = ignore_call,
    ) -> None:
        self.client = client
        self.vendor = vendor
        self.budget = budget
        self.classify = classify
        self.observe_headers = observe_headers
        self.retry = retry
        self.observer = observer

    def send(
        self,
        method: str,
        url: str,
        *,
        route: str,
        limits: Sequence[str] | None = None,
        share: float = 1.0,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries; return a successful response or raise the classified ``ConnectorError``.

        ``idempotent`` says whether a request that may already have been carried out can be sent again;
        by default, every method but POST."""
        resend = idempotent if idempotent is not None else method.upper() != "POST"
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            retry=retry_if_exception(lambda exc: _worth_retrying(exc, resend)),
            wait=self._wait,
            reraise=True,
        )
        response: httpx.Response = retrying(self._attempt, method, url, route, limits, share, kwargs)
        return response

    def _attempt(
        self,
        method: str,
        url: str,
        route: str,
        limits: Sequence[str] | None,
        share: float,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        self.budget.acquire(limits=limits, share=share)
        started = time.perf_counter()
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            self.observer(vendor=self.vendor, route=route, status=None, seconds=time.perf_counter() - started)
            raise TransportFailure(
                f"{type(exc).__name__} calling {route}: {exc}", request_sent=not isinstance(exc, _NEVER_SENT)
            ) from exc
        self.observer(
            vendor=self.vendor,
            route=route,
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        if self.observe_headers is not None:
            self.observe_headers(response, self.budget)
        error = self.classify(response)
        if error is not None:
            if isinstance(error, RateLimited) and error.retry_after:
                self.budget.pause(error.retry_after, reason=f"{route} answered 429")
            raise error
        return response

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            # The shared budget is paused for retry_after; acquire() does the waiting, across processes.
            return 0.0 if exc.retry_after else min(self.retry.max_rate_limit_wait, 1.0 * state.attempt_number)
        backoff = wait_random_exponential(multiplier=self.retry.base_seconds, max=self.retry.max_seconds)
        return float(backoff(state))


# Failures before a connection existed: the vendor never saw the request.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _worth_retrying(exc: BaseException, resend: bool) -> bool:
    if not isinstance(exc, ConnectorError) or not exc.retryable:
        return False
    if resend or isinstance(exc, RateLimited):
        return True
    return isinstance(exc, TransportFailure) and not exc.request_sent


def json_body(response: httpx.Response, vendor_error: type[ConnectorError] = MalformedResponse) -> Any:
    """The response's JSON, or a MalformedResponse that says what came back instead."""
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        snippet = response.text[:120].replace("\n", " ")
        raise vendor_error(f"expected JSON, got {kind}: {snippet!r}", status_code=response.status_code) from None
