"""Failures become typed errors: HubSpot's error bodies, HTML pages, answers with missing fields, no answer."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from interlink.connectors.errors import ConnectorError, MalformedResponse, RateLimited
from interlink.connectors.hubspot.client import HubSpotClient
from interlink.connectors.hubspot.errors import (
    HubSpotAuthenticationFailed,
    HubSpotConflict,
    HubSpotDailyLimitReached,
    HubSpotInvalidRequest,
    HubSpotMalformedResponse,
    HubSpotMissingScopes,
    HubSpotNotFound,
    HubSpotRateLimited,
    HubSpotServerError,
    HubSpotTokenExpired,
    HubSpotTransportFailure,
    classify,
    error_from_body,
)
from interlink.connectors.hubspot.objects import RecordCreate, RecordUpdate
from interlink.simulators.hubspot import HubSpotSimulator
from tests.connectors.hubspot.support import FAST_RETRY, client_for, credentials, served
from tests.support.servers import free_port

GET_ONE = "/crm/v3/objects/{object_type}/{object_id}"
BATCH_CREATE = "/crm/v3/objects/{object_type}/batch/create"
BATCH_UPDATE = "/crm/v3/objects/{object_type}/batch/update"
BATCH_READ = "/crm/v3/objects/{object_type}/batch/read"
SEARCH = "/crm/v3/objects/{object_type}/search"
HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"


def answer(
    status: int, body: object = None, *, text: str | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json", **(headers or {})}
    )


class TestClassify:
    def test_success_and_multi_status_are_not_errors(self) -> None:
        assert classify(answer(200, {})) is None
        assert classify(answer(207, {"results": [], "errors": []})) is None

    def test_hubspot_error_bodies(self) -> None:
        conflict = classify(
            answer(
                409,
                {
                    "status": "error",
                    "message": "Contact already exists. Existing ID: 5101",
                    "correlationId": "c-1",
                    "category": "CONFLICT",
                },
            )
        )
        assert isinstance(conflict, HubSpotConflict)
        assert (conflict.existing_id, conflict.correlation_id, conflict.status_code) == ("5101", "c-1", 409)
        scopes = classify(
            answer(
                403,
                {
                    "status": "error",
                    "message": "This app hasn't been granted all required scopes",
                    "category": "MISSING_SCOPES",
                    "errors": [
                        {"message": "One or more", "context": {"requiredGranularScopes": ["crm.objects.deals.read"]}}
                    ],
                },
            )
        )
        assert isinstance(scopes, HubSpotMissingScopes)
        assert scopes.required_scopes == ["crm.objects.deals.read"]
        invalid = classify(
            answer(
                400,
                {
                    "category": "VALIDATION_ERROR",
                    "message": "Property values were not valid",
                    "errors": [{"code": "PROPERTY_DOESNT_EXIST", "context": {"propertyName": ["x"]}}],
                },
            )
        )
        assert isinstance(invalid, HubSpotInvalidRequest)
        assert invalid.codes == ["PROPERTY_DOESNT_EXIST"]
        expired = classify(answer(401, {"category": "EXPIRED_AUTHENTICATION", "message": "expired 3 minute(s) ago"}))
        assert isinstance(expired, HubSpotTokenExpired)
        assert isinstance(classify(answer(404, {"category": "OBJECT_NOT_FOUND"})), HubSpotNotFound)

    def test_rate_limit_policies_decide_the_wait(self) -> None:
        ten = classify(answer(429, {"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING", "message": "m"}))
        assert isinstance(ten, HubSpotRateLimited)
        assert ten.retryable
        assert (ten.policy, ten.retry_after) == ("TEN_SECONDLY_ROLLING", 10.0)
        windowed = classify(
            answer(
                429,
                {"policyName": "TEN_SECONDLY_ROLLING"},
                headers={"X-HubSpot-RateLimit-Interval-Milliseconds": "2000"},
            )
        )
        assert isinstance(windowed, RateLimited)
        assert windowed.retry_after == 2.0
        search = classify(answer(429, {"policyName": "SECONDLY", "message": "You have reached your secondly limit."}))
        assert isinstance(search, RateLimited)
        assert search.retry_after == 1.0
        told = classify(answer(429, {"policyName": "TEN_SECONDLY_ROLLING"}, headers={"Retry-After": "3"}))
        assert isinstance(told, RateLimited)
        assert told.retry_after == 3.0
        daily = classify(answer(429, {"policyName": "DAILY", "message": "You have reached your daily limit."}))
        assert isinstance(daily, HubSpotDailyLimitReached)
        assert not daily.retryable
        assert daily.retry_after is not None
        assert 0 < daily.retry_after <= 86_400

    def test_non_json_errors_still_classify_by_status(self) -> None:
        gateway = classify(answer(502, text=HTML_502, headers={"content-type": "text/html"}))
        assert isinstance(gateway, HubSpotServerError)
        assert gateway.retryable
        assert "non-JSON" in gateway.message
        assert "502 Bad Gateway" in gateway.message
        assert isinstance(classify(answer(400, text="Bad Request")), HubSpotInvalidRequest)
        assert isinstance(classify(answer(477, {"message": "Migration in progress"})), HubSpotServerError)

    def test_a_207_entry_becomes_a_typed_error(self) -> None:
        entry = {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": "Could not get some CONTACT objects",
            "context": {"ids": ["1", "2"]},
        }
        error = error_from_body(entry)
        assert isinstance(error, HubSpotNotFound)
        assert error.context == {"ids": ["1", "2"]}
        assert "hubspot: Could not get some CONTACT objects" in str(error)


class TestAgainstTheSimulator:
    def test_an_html_gateway_error_is_retried_then_succeeds(
        self, hubspot: HubSpotClient, simulator: HubSpotSimulator
    ) -> None:
        record = hubspot.contacts.create({"email": "r@example.com"})
        simulator.inject_fault(GET_ONE, status=502, body=HTML_502, content_type="text/html", times=2)
        simulator.calls.reset()
        assert hubspot.contacts.get(record.id).id == record.id
        assert simulator.calls.count(route=GET_ONE) == 3

    def test_persistent_server_errors_surface_typed(self, hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
        simulator.inject_fault(GET_ONE, status=503, body=HTML_502, content_type="text/html", times=None)
        with pytest.raises(HubSpotServerError) as failed:
            hubspot.contacts.get("1001")
        assert failed.value.status_code == 503
        assert simulator.calls.count(route=GET_ONE) == 4  # the retry policy's attempts

    def test_a_create_whose_answer_was_lost_is_not_sent_again(
        self, hubspot: HubSpotClient, simulator: HubSpotSimulator
    ) -> None:
        """HubSpot made the company and a gateway lost the answer: sending it again would make a second one."""
        simulator.inject_fault("/crm/v3/objects/{object_type}", method="POST", status=502, after_processing=True)
        with pytest.raises(HubSpotServerError):
            hubspot.companies.create({"name": "Acme", "domain": "acme.example"})
        assert simulator.calls.count(method="POST", route="/crm/v3/objects/{object_type}") == 1
        assert [c.get("name") for c in hubspot.companies.iterate(properties=["name"])] == ["Acme"]

        simulator.inject_fault(BATCH_CREATE, status=504, after_processing=True)
        with pytest.raises(HubSpotServerError):
            hubspot.companies.batch_create([RecordCreate({"name": "Beta"}), RecordCreate({"name": "Gamma"})])
        assert simulator.calls.count(route=BATCH_CREATE) == 1
        assert sorted(c.get("name") or "" for c in hubspot.companies.iterate(properties=["name"])) == [
            "Acme",
            "Beta",
            "Gamma",
        ]

    def test_reads_and_updates_whose_answer_was_lost_are_sent_again(
        self, hubspot: HubSpotClient, simulator: HubSpotSimulator
    ) -> None:
        (company,) = simulator.seed("companies", [{"name": "Acme"}])
        simulator.inject_fault(BATCH_UPDATE, status=502, after_processing=True)
        simulator.inject_fault(BATCH_READ, status=502, after_processing=True)
        simulator.inject_fault(SEARCH, status=502, after_processing=True)
        simulator.calls.reset()

        hubspot.companies.batch_update([RecordUpdate(company, {"name": "Acme Ltd"})])
        assert hubspot.companies.batch_read([company], properties=["name"]).records[company].get("name") == "Acme Ltd"
        assert [c.id for c in hubspot.companies.search()] == [company]
        assert [simulator.calls.count(route=route) for route in (BATCH_UPDATE, BATCH_READ, SEARCH)] == [2, 2, 2]

    def test_a_create_refused_with_429_is_sent_again(self, hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
        simulator.inject_fault(
            "/crm/v3/objects/{object_type}",
            method="POST",
            status=429,
            body=json.dumps({"status": "error", "message": "slow down", "policyName": "TEN_SECONDLY_ROLLING"}),
            headers={"Retry-After": "0"},
        )
        assert hubspot.companies.create({"name": "Acme"}).get("name") == "Acme"
        assert len(list(hubspot.companies.iterate())) == 1

    @pytest.mark.parametrize(
        ("body", "content_type", "expected"),
        [
            (HTML_502, "text/html", "expected JSON, got text/html"),
            ('{"properties": {}, "createdAt": "2024-01-01T00:00:00Z"}', "application/json", "id: Field required"),
            ('[{"id": "1"}]', "application/json", "expected a JSON object"),
            (
                '{"id": "1", "properties": {}, "createdAt": "yesterday", "updatedAt": 1}',
                "application/json",
                "createdAt",
            ),
            ("", "application/json", "expected JSON"),
        ],
        ids=["html-page", "missing-id", "array", "bad-dates", "empty"],
    )
    def test_malformed_success_answers_raise_typed_errors(
        self, hubspot: HubSpotClient, simulator: HubSpotSimulator, body: str, content_type: str, expected: str
    ) -> None:
        simulator.inject_fault(GET_ONE, status=200, body=body, content_type=content_type)
        with pytest.raises(HubSpotMalformedResponse, match=expected) as malformed:
            hubspot.contacts.get("1001")
        assert isinstance(malformed.value, MalformedResponse)
        assert isinstance(malformed.value, ConnectorError)

    def test_malformed_pages_and_batches(self, hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
        simulator.inject_fault("/crm/v3/objects/{object_type}/search", status=200, body='{"results": []}')
        with pytest.raises(HubSpotMalformedResponse, match="no total"):
            list(hubspot.contacts.search())
        simulator.inject_fault("/crm/v3/objects/{object_type}/batch/read", status=200, body='{"results": {"a": 1}}')
        with pytest.raises(HubSpotMalformedResponse, match="no results list"):
            hubspot.contacts.batch_read(["1"])
        simulator.inject_fault(
            "/crm/v3/objects/{object_type}", status=200, body='{"results": [{"id": 1}]}', method="GET"
        )
        with pytest.raises(HubSpotMalformedResponse, match="properties"):
            list(hubspot.contacts.iterate())

    def test_a_rate_limit_answer_is_waited_out_and_retried(
        self, hubspot: HubSpotClient, simulator: HubSpotSimulator
    ) -> None:
        record = hubspot.contacts.create({"email": "w@example.com"})
        body = json.dumps(
            {"status": "error", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING", "message": "m"}
        )
        simulator.inject_fault(
            GET_ONE, status=429, body=body, headers={"X-HubSpot-RateLimit-Interval-Milliseconds": "300"}
        )
        started = time.monotonic()
        assert hubspot.contacts.get(record.id).id == record.id
        assert time.monotonic() - started >= 0.25  # the budget paused for the window HubSpot named

    def test_a_daily_limit_is_not_retried_and_stops_later_calls_at_once(
        self, hubspot: HubSpotClient, simulator: HubSpotSimulator
    ) -> None:
        body = json.dumps({"status": "error", "errorType": "RATE_LIMIT", "policyName": "DAILY", "message": "daily"})
        simulator.inject_fault(GET_ONE, status=429, body=body)
        with pytest.raises(HubSpotDailyLimitReached):
            hubspot.contacts.get("1001")
        simulator.calls.reset()
        started = time.monotonic()
        with pytest.raises(HubSpotDailyLimitReached) as later:
            hubspot.contacts.create({"email": "later@example.com"})
        assert time.monotonic() - started < 1.0
        assert later.value.retry_after is not None
        assert later.value.retry_after > 60
        assert simulator.calls.count() == 0  # nothing was sent while the allowance is spent
        hubspot.transport.budget.reset()

    def test_authentication_and_scopes(self, simulator: HubSpotSimulator) -> None:
        from tests.connectors.hubspot.support import served

        simulator.add_private_app_token("pat-read-only", scopes=["crm.objects.contacts.read"])
        with served(simulator, "in_process") as (base_url, http):
            stranger = client_for(base_url, http, credentials=credentials(base_url, access_token="pat-unknown"))
            with pytest.raises(HubSpotAuthenticationFailed) as unauthenticated:
                stranger.contacts.get("1")
            assert unauthenticated.value.category == "INVALID_AUTHENTICATION"
            reader = client_for(base_url, http, credentials=credentials(base_url, access_token="pat-read-only"))
            assert list(reader.contacts.iterate()) == []
            with pytest.raises(HubSpotMissingScopes) as denied:
                reader.contacts.create({"email": "no@example.com"})
            assert denied.value.required_scopes == ["crm.objects.contacts.write"]

    def test_no_answer_is_a_transport_failure(self) -> None:
        base_url = f"http://127.0.0.1:{free_port()}"
        with httpx.Client(timeout=1) as http:
            client = client_for(base_url, http)
            with pytest.raises(HubSpotTransportFailure, match="ConnectError"):
                client.contacts.get("1")


class DroppingConnections(httpx.BaseTransport):
    """Between the client and the simulator: the first ``failures`` requests die as a flaky network kills them
    (nothing reaches HubSpot), the rest pass through."""

    def __init__(self, inner: httpx.Client, failures: list[Exception] | None) -> None:
        self.inner = inner
        self.failures = failures  # None: every request fails
        self.attempts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.failures is None:
            raise httpx.ConnectError("Connection refused", request=request)
        if self.failures:
            raise self.failures.pop(0)
        return self.inner.send(request)


@pytest.mark.parametrize("transport", ["in_process", "loopback"])
class TestTransportErrors:
    def test_dropped_connections_are_retried_until_one_gets_through(
        self, simulator: HubSpotSimulator, transport: str
    ) -> None:
        record_id = simulator.seed("contacts", [{"email": "r@example.com"}])[0]
        with served(simulator, transport) as (base_url, inner):
            dropping = DroppingConnections(
                inner, [httpx.ConnectError("Connection refused"), httpx.ReadTimeout("timed out")]
            )
            with httpx.Client(transport=dropping) as http:
                simulator.calls.reset()
                assert client_for(base_url, http).contacts.get(record_id).get("email") == "r@example.com"
        assert dropping.attempts == 3
        assert simulator.calls.count(route=GET_ONE) == 1  # only the attempt that got through reached HubSpot

    def test_a_network_that_never_answers_is_a_transport_failure_after_every_attempt(
        self, simulator: HubSpotSimulator, transport: str
    ) -> None:
        with served(simulator, transport) as (base_url, inner):
            dropping = DroppingConnections(inner, None)
            with httpx.Client(transport=dropping) as http, pytest.raises(HubSpotTransportFailure) as failed:
                client_for(base_url, http).contacts.get("1")
        assert "ConnectError" in str(failed.value)
        assert failed.value.retryable
        assert dropping.attempts == FAST_RETRY.attempts
        assert simulator.calls.count() == 0
