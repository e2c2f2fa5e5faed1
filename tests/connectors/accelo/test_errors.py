"""Every answer Accelo (or something in front of it) may give becomes a typed error, never a crash."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from interlink.connectors.accelo import AcceloClient, accelo_client
from interlink.connectors.accelo.errors import (
    AcceloDuplicate,
    AcceloInvalidClient,
    AcceloInvalidRequest,
    AcceloLockedOut,
    AcceloMalformedResponse,
    AcceloPermissionDenied,
    AcceloRateLimited,
    AcceloServerError,
    AcceloTransportFailure,
    classify,
)
from interlink.connectors.errors import ConnectorError, MalformedResponse, PermissionDenied, ServerError
from interlink.simulators.accelo import Fault
from tests.connectors.accelo.harness import FAST_RETRY, Harness, credentials

Handler = Callable[[httpx.Request], httpx.Response]


def envelope(response: object, status: str = "ok", code: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        code, json={"meta": {"status": status, "message": status}, "response": response}, headers=headers
    )


def scripted(*answers: httpx.Response | Exception) -> tuple[AcceloClient, list[httpx.Request]]:
    """A client whose requests get these answers in turn (the last one repeats)."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    http = httpx.Client(transport=httpx.MockTransport(handler))
    creds = credentials(client_secret=None, access_token="static-token")
    return accelo_client(creds, http_client=http, retry=FAST_RETRY), seen


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (envelope(None, "invalid_request", 400), AcceloInvalidRequest),
        (envelope(None, "duplicate", 400), AcceloDuplicate),
        (envelope(None, "invalid_client", 401), AcceloInvalidClient),
        (envelope(None, "invalid_permission", 403), AcceloPermissionDenied),
        (envelope(None, "too_many_requests", 429), AcceloRateLimited),
        (envelope(None, "server_error", 500), AcceloServerError),
        (httpx.Response(401, json={"error": "invalid_client", "error_description": "nope"}), AcceloInvalidClient),
        (httpx.Response(503, text="<html>Service Unavailable</html>"), AcceloServerError),
        (httpx.Response(404, text="<html>Not Found</html>"), AcceloInvalidRequest),
        (httpx.Response(200, text="<html>Login</html>"), AcceloMalformedResponse),
        (httpx.Response(200, json=["not", "an", "envelope"]), AcceloMalformedResponse),
        (httpx.Response(200, json={"response": {"id": "1"}}), AcceloMalformedResponse),
        (envelope(None, "invalid_request", 200), AcceloInvalidRequest),  # _suppress_http_status style
    ],
)
def test_classification(response: httpx.Response, expected: type[ConnectorError]) -> None:
    error = classify(response)
    assert type(error) is expected
    assert error is not None
    assert error.vendor == "accelo"


def test_a_good_answer_is_not_an_error() -> None:
    assert classify(envelope({"id": "1"})) is None


def test_an_html_page_instead_of_json_is_retried_then_reported() -> None:
    client, seen = scripted(
        httpx.Response(200, text="<html><body>Maintenance</body></html>", headers={"content-type": "text/html"})
    )
    with pytest.raises(AcceloMalformedResponse, match="text/html") as raised:
        client.companies.get(1)
    assert isinstance(raised.value, MalformedResponse)
    assert len(seen) == FAST_RETRY.attempts


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"name": "No id"}, "id"),
        ({"id": "1", "date_modified": "yesterday"}, "date_modified"),
        ({"id": "one"}, "id"),
        ("a string", "expected a record"),
    ],
)
def test_a_record_that_does_not_fit_its_shape(payload: object, message: str) -> None:
    client, _ = scripted(envelope(payload))
    with pytest.raises(AcceloMalformedResponse, match=message):
        client.companies.get(1)


def test_a_list_that_is_not_a_list() -> None:
    client, _ = scripted(envelope({"id": "1"}))
    with pytest.raises(AcceloMalformedResponse, match="expected a list"):
        list(client.companies.iterate())


def test_a_count_without_a_number() -> None:
    client, _ = scripted(envelope({"count": "many"}))
    with pytest.raises(AcceloMalformedResponse, match="count"):
        client.companies.count()


def test_an_envelope_without_a_response() -> None:
    client, _ = scripted(httpx.Response(200, json={"meta": {"status": "ok"}}))
    with pytest.raises(AcceloMalformedResponse, match="no response"):
        client.companies.get(1)


def test_server_errors_are_retried_with_backoff_then_raised() -> None:
    client, seen = scripted(envelope(None, "server_error", 500))
    with pytest.raises(AcceloServerError) as raised:
        client.companies.count()
    assert isinstance(raised.value, ServerError)
    assert raised.value.retryable
    assert len(seen) == FAST_RETRY.attempts


def test_permission_errors_are_not_retried() -> None:
    client, seen = scripted(envelope(None, "invalid_permission", 403))
    with pytest.raises(AcceloPermissionDenied) as raised:
        client.companies.count()
    assert isinstance(raised.value, PermissionDenied)
    assert len(seen) == 1


def test_a_429_waits_for_the_reset_and_succeeds() -> None:
    reset = str(int(time.time()) + 1)
    client, seen = scripted(
        envelope(None, "too_many_requests", 429, **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}),
        envelope({"count": "3"}),
    )
    started = time.monotonic()
    assert client.companies.count() == 3
    assert len(seen) == 2
    assert time.monotonic() - started >= 0.9  # the budget was paused until the window reset


def test_a_lockout_says_how_long() -> None:
    client, _ = scripted(
        httpx.Response(
            401,
            json={"meta": {"status": "too_many_failed_logins", "message": "locked"}},
            headers={"Retry-After": "300"},
        )
    )
    with pytest.raises(AcceloLockedOut) as raised:
        client.companies.count()
    assert raised.value.retry_after == 300


def test_no_connection_is_a_transport_failure() -> None:
    client, seen = scripted(httpx.ConnectError("connection refused"))
    with pytest.raises(AcceloTransportFailure) as raised:
        client.companies.count()
    assert raised.value.vendor == "accelo"
    assert len(seen) == FAST_RETRY.attempts


def test_a_bad_gateway_page_from_the_simulator_is_retried_transparently(accelo: Harness) -> None:
    company_id = accelo.sim.user_create_company("Planet Express")
    accelo.sim.add_fault(Fault(r"^/api/v0/companies/\d+$", status=502, times=2))
    assert accelo.client.companies.get(company_id).name == "Planet Express"
    assert accelo.calls("/companies/{id:int}") == 1  # the two 502s never reached the API
    assert accelo.sim.rate_limit.stats()["counted"] >= 3  # but they were counted against the limit
