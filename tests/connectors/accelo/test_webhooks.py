"""Webhook intake (signatures, payloads, typed events), subscriptions, and delivery from the simulator."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlencode

import pytest

from interlink.connectors.accelo.webhooks import (
    InvalidSignature,
    MalformedWebhook,
    parse_event,
    read_webhook,
    sign,
    verify_signature,
)
from interlink.simulators.accelo import DEFAULT_WEBHOOK_SECRET
from tests.connectors.accelo.harness import RECEIVER_URL, Harness, Receiver, harness, receiving
from tests.support.servers import serve_over_loopback
from tests.support.waiting import wait_for

SECRET = "subscription-secret"
BODY = json.dumps({"id": "45", "resource_url": "https://planet-express.api.accelo.com/api/v0/companies/45"}).encode()


def headers(body: bytes = BODY, *, signature: str | None = None, event: str = "update_company") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Accelo-Event": event,
        "X-Hub-Signature": signature if signature is not None else sign(body, SECRET),
    }


class TestSignatures:
    @pytest.mark.parametrize(
        "signature",
        [
            hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),
            "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),
            hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(),
            "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(),
            "SHA1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest().upper(),
        ],
    )
    def test_accepted_forms(self, signature: str) -> None:
        verify_signature(BODY, signature, SECRET)

    def test_a_tampered_body_is_rejected(self) -> None:
        signature = sign(BODY, SECRET)
        tampered = BODY.replace(b'"45"', b'"46"')
        with pytest.raises(InvalidSignature, match="does not match"):
            verify_signature(tampered, signature, SECRET)

    def test_a_wrong_secret_is_rejected(self) -> None:
        with pytest.raises(InvalidSignature, match="does not match"):
            verify_signature(BODY, sign(BODY, "someone-elses-secret"), SECRET)

    def test_a_missing_header_is_rejected(self) -> None:
        with pytest.raises(InvalidSignature, match="missing") as raised:
            read_webhook(BODY, {"Content-Type": "application/json", "X-Accelo-Event": "update_company"}, secret=SECRET)
        assert raised.value.status_code == 401

    @pytest.mark.parametrize("signature", ["", "md5=abc", "sha1=" + "0" * 39, "not-hex-and-not-40"])
    def test_garbage_is_rejected(self, signature: str) -> None:
        with pytest.raises(InvalidSignature):
            verify_signature(BODY, signature, SECRET)

    def test_no_configured_secret_refuses_everything(self) -> None:
        with pytest.raises(InvalidSignature, match="no webhook secret"):
            verify_signature(BODY, sign(BODY, ""), None)

    def test_the_signature_prefix_picks_the_algorithm(self) -> None:
        sha1 = hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
        with pytest.raises(InvalidSignature):
            verify_signature(BODY, "sha256=" + sha1, SECRET)  # a SHA-1 digest labelled SHA-256


class TestEvents:
    def test_json_and_form_bodies_give_the_same_event(self) -> None:
        form = urlencode({"id": "45", "resource_url": "https://x.api.accelo.com/api/v0/companies/45"}).encode()
        from_json = read_webhook(BODY, headers(), secret=SECRET)
        from_form = read_webhook(
            form,
            {
                "content-type": "application/x-www-form-urlencoded",
                "x-accelo-event": "update_company",
                "x-hub-signature": sign(form, SECRET),
            },
            secret=SECRET,
        )
        assert (from_json.event_id, from_json.object_type, from_json.action, from_json.object_id) == (
            "update_company",
            "company",
            "update",
            45,
        )
        assert (from_form.object_type, from_form.object_id) == ("company", 45)
        assert from_json.record_key == "company:45"

    def test_a_body_without_a_content_type_is_sniffed(self) -> None:
        event = parse_event(BODY, event_id="create_company", content_type=None)
        assert event.object_type == "company"
        assert event.action == "create"

    @pytest.mark.parametrize(
        ("body", "event", "reason"),
        [
            (b"{not json", "update_company", "not valid JSON"),
            (b"[1, 2]", "update_company", "not an object"),
            (json.dumps({"resource_url": "https://x/api/v0/companies/1"}).encode(), "update_company", "no id"),
            (
                json.dumps({"id": "abc", "resource_url": "https://x/api/v0/companies/1"}).encode(),
                "update_company",
                "not a record id",
            ),
            (json.dumps({"id": "1"}).encode(), "update_company", "no resource_url"),
            (json.dumps({"id": "1", "resource_url": "/companies/1"}).encode(), "update_company", "absolute"),
            (
                json.dumps({"id": "1", "resource_url": "https://x/api/v0/contacts/1"}).encode(),
                "update_company",
                "companies/1",
            ),
            (BODY, "explode_company", "unknown Accelo event"),
            (BODY, "", "header is missing"),
            (b"\xff\xfe", "update_company", "UTF-8"),
        ],
    )
    def test_malformed_deliveries_say_why(self, body: bytes, event: str, reason: str) -> None:
        with pytest.raises(MalformedWebhook, match=reason) as raised:
            read_webhook(body, headers(body, event=event), secret=SECRET)
        assert raised.value.status_code == 400


class TestDelivery:
    def test_creates_and_updates_of_companies_and_contacts_are_delivered_signed_and_thin(self) -> None:
        receiver = Receiver(secret=DEFAULT_WEBHOOK_SECRET)
        with (
            receiving(receiver) as target,
            harness(webhook_urls=[RECEIVER_URL], webhook_client_for=lambda _u: target) as wired,
        ):
            sim = wired.sim
            company = sim.user_create_company("Planet Express")
            sim.user_update_company(company, website="planetexpress.example")
            contact = sim.user_create_contact(company, "Philip", "Fry", email="fry@pe.example")
            sim.user_update_contact(contact, middlename="J.")
            sim.user_change_status("company", company, sim.status_id("company", "Active"))
            assert sim.webhooks.flush(10)

            assert sorted(receiver.kinds()) == sorted(
                [
                    ("create_company", company),
                    ("update_company", company),
                    ("create_contact", contact),
                    ("update_contact", contact),
                    ("update_company", company),  # the status change
                ]
            )
            assert receiver.rejected == []
            sent_headers, raw_body = receiver.raw[0]
            assert sent_headers["content-type"] == "application/x-www-form-urlencoded"
            body = dict(parse_qsl(raw_body.decode()))
            assert set(body) == {"id", "resource_url"}  # thin: an id and where to read it
            assert body["resource_url"] == f"https://simulator.api.accelo.com/api/v0/companies/{company}"

    def test_no_events_for_affiliations_profile_values_or_deletes(self) -> None:
        receiver = Receiver(secret=DEFAULT_WEBHOOK_SECRET)
        with (
            receiving(receiver) as target,
            harness(webhook_urls=[RECEIVER_URL], webhook_client_for=lambda _u: target) as wired,
        ):
            sim = wired.sim
            company = sim.seed(
                {"companies": [{"name": "Planet Express", "contacts": [{"firstname": "A", "surname": "B"}]}]}
            )
            company_id, contact_id = company["companies"][0], company["contacts"][0]
            field_id = sim.add_profile_field("company", "Hours")
            affiliation_id = sim.record("contact", contact_id)["default_affiliation"]  # type: ignore[index]

            sim.user_update_affiliation(affiliation_id, email="new@pe.example")
            sim.user_set_profile_value("company", company_id, field_id, "9-5")
            wired.client.affiliations.update(affiliation_id, {"phone": "555"})
            sim.user_delete_contact(contact_id)
            sim.user_delete_company(company_id)
            assert sim.webhooks.flush(10)

            assert receiver.events == []
            assert sim.webhooks.sent == []

    def test_api_writes_fire_webhooks_too(self) -> None:
        receiver = Receiver(secret=DEFAULT_WEBHOOK_SECRET)
        with (
            receiving(receiver) as target,
            harness(webhook_urls=[RECEIVER_URL], webhook_client_for=lambda _u: target) as wired,
        ):
            company = wired.client.companies.create("Planet Express")
            wired.client.companies.update(company.id, {"phone": "555"})
            assert wired.sim.webhooks.flush(10)
            assert receiver.kinds() == [("create_company", company.id), ("update_company", company.id)]

    def test_failed_deliveries_are_retried_and_a_410_unsubscribes(self) -> None:
        receiver = Receiver(secret=DEFAULT_WEBHOOK_SECRET, answers=[503, 200, 410])
        with (
            receiving(receiver) as target,
            harness(webhook_urls=[RECEIVER_URL], webhook_client_for=lambda _u: target) as wired,
        ):
            sim = wired.sim
            company = sim.user_create_company("Planet Express")  # 503 then 200
            assert sim.webhooks.flush(10)
            assert receiver.kinds() == [("create_company", company)]
            sim.user_update_company(company, phone="1")  # 410: Accelo drops that subscription
            assert sim.webhooks.flush(10)
            assert [s["event_id"] for s in sim.subscriptions()] == [
                "create_company",
                "create_contact",
                "update_contact",
            ]
            sim.user_update_company(company, phone="2")
            assert sim.webhooks.flush(10)
            assert len(receiver.raw) == 3  # nothing more was sent

    def test_deliveries_that_time_out_are_retried(self) -> None:
        receiver = Receiver(secret=DEFAULT_WEBHOOK_SECRET, hang_seconds=[1.0])
        with serve_over_loopback(receiver.app()) as url:
            target = f"{url}/webhooks/accelo"
            with harness(webhook_urls=[target], webhook_timeout=0.3) as wired:
                company = wired.sim.user_create_company("Planet Express")
                assert wired.sim.webhooks.flush(10)
                wait_for(lambda: receiver.events, timeout=5, what="the retried delivery")
                outcomes = [sent.outcome for sent in wired.sim.webhooks.sent]
                assert outcomes[0] == "ReadTimeout"
                assert outcomes[-1] == "200"
                assert receiver.kinds()[-1] == ("create_company", company)

    def test_too_many_timeouts_in_a_row_remove_the_subscription(self) -> None:
        with harness(
            webhook_urls=["http://127.0.0.1:9/unreachable"], webhook_retry_delays=(0.01,), max_consecutive_timeouts=3
        ) as wired:
            for n in range(2):
                wired.sim.user_create_company(f"Company {n}")
            assert wired.sim.webhooks.flush(10)
            assert all(s["event_id"] != "create_company" for s in wired.sim.subscriptions())
            assert wired.sim.webhooks.removed[0]["reason"].endswith("timed out")


class TestSubscriptions:
    def test_subscribe_list_and_unsubscribe(self, accelo: Harness) -> None:
        hooks = accelo.client.webhooks
        assert {t.event_id for t in hooks.types()} >= {"create_company", "update_contact"}
        made = hooks.subscribe("update_company", RECEIVER_URL, secret=SECRET)
        assert (made.event_id, made.trigger_url, made.trigger_table, made.trigger_type) == (
            "update_company",
            RECEIVER_URL,
            "company",
            "update",
        )
        assert [s.subscription_id for s in hooks.all()] == [made.subscription_id]
        hooks.unsubscribe(made.subscription_id)
        assert hooks.all() == []

    def test_ensure_makes_only_what_is_missing(self, accelo: Harness) -> None:
        hooks = accelo.client.webhooks
        first = hooks.ensure(RECEIVER_URL, secret=SECRET)
        accelo.sim.calls.reset()
        again = hooks.ensure(RECEIVER_URL, secret=SECRET)
        assert [s.subscription_id for s in again] == [s.subscription_id for s in first]
        assert [s.event_id for s in again] == ["create_company", "update_company", "create_contact", "update_contact"]
        assert accelo.calls("/webhooks/subscriptions", method="POST") == 0
        rotated = hooks.ensure(RECEIVER_URL, secret="rotated", replace=True)
        assert {s.subscription_id for s in rotated}.isdisjoint({s.subscription_id for s in first})
        assert {row["secret"] for row in accelo.sim.state.subscriptions.rows.values()} == {"rotated"}

    def test_dispatch_reports_the_receivers_answer(self) -> None:
        receiver = Receiver(secret=SECRET, answers=[202])
        with receiving(receiver) as target, harness(webhook_client_for=lambda _u: target) as wired:
            company = wired.sim.user_create_company("Planet Express")
            made = wired.client.webhooks.subscribe("update_company", RECEIVER_URL, secret=SECRET)
            assert wired.client.webhooks.dispatch(made.subscription_id, company) == 202
