"""Webhook signatures (the published vectors, and every way a delivery can be refused) and event parsing."""

from __future__ import annotations

import json

import pytest

from interlink.connectors.hubspot.webhooks import (
    AssociationChangeEvent,
    CreationEvent,
    DeletionEvent,
    MalformedWebhook,
    MergeEvent,
    OtherEvent,
    PrivacyDeletionEvent,
    PropertyChangeEvent,
    RestoreEvent,
    SignatureInvalid,
    WebhookEvent,
    decode_signed_uri,
    parse_events,
    signature_v1,
    signature_v2,
    signature_v3,
    signed_uri,
    verify_signature,
)

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://www.example.com/webhook_uri"
V1_BODY = (
    b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
    b'"changeFlag":"NEW","appId":54321}]'
)
EXAMPLE_BODY = b'{"example_field":"example_value"}'
TS = "1693657560000"
NOW = int(TS) / 1000 + 30  # half a minute after the signature


class TestPublishedVectors:
    def test_v1(self) -> None:
        assert signature_v1(SECRET, V1_BODY) == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"

    def test_v2(self) -> None:
        assert (
            signature_v2(SECRET, "GET", URI, b"") == "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
        )
        assert (
            signature_v2(SECRET, "POST", URI, EXAMPLE_BODY)
            == "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
        )

    def test_v3_sdk_vector(self) -> None:
        body = b"{'example_field':'example_value'}"
        assert signature_v3(SECRET, "POST", URI, body, TS) == "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="

    def test_v3_computed_vectors(self) -> None:
        assert signature_v3(SECRET, "POST", URI, EXAMPLE_BODY, TS) == "oaA3M5dEtt6kFsseJD/Hv/x+JNl1vsoxFj4oxmwP6Go="
        assert (
            signature_v3(SECRET, "POST", URI, V1_BODY, "1564113600000")
            == "DxmVAjFNa2xfF3YgQjdZP6TNcok9k1oaH7UXombPtvw="
        )
        # HubSpot signs the URI with %3A decoded: the escaped and the plain form verify alike.
        expected = "aRFskgO2uw0moqDb+iykks8W0uGttQbPZO6qttk/siY="
        assert signature_v3(SECRET, "POST", f"{URI}?a=b%3Ac", V1_BODY, "1564113600000") == expected
        assert signature_v3(SECRET, "POST", f"{URI}?a=b:c", V1_BODY, "1564113600000") == expected


def v3_headers(signature: str = "oaA3M5dEtt6kFsseJD/Hv/x+JNl1vsoxFj4oxmwP6Go=", timestamp: str = TS) -> dict[str, str]:
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp}


class TestVerify:
    def test_accepts_v3_and_prefers_it(self) -> None:
        headers = {**v3_headers(), "X-HubSpot-Signature": "not-checked", "X-HubSpot-Signature-Version": "v1"}
        assert (
            verify_signature(client_secret=SECRET, method="POST", uri=URI, body=EXAMPLE_BODY, headers=headers, now=NOW)
            == "v3"
        )

    def test_header_names_are_case_insensitive(self) -> None:
        headers = {name.lower(): value for name, value in v3_headers().items()}
        assert (
            verify_signature(client_secret=SECRET, method="POST", uri=URI, body=EXAMPLE_BODY, headers=headers, now=NOW)
            == "v3"
        )

    def test_falls_back_to_v1_without_v3(self) -> None:
        headers = {
            "X-HubSpot-Signature": "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
            "X-HubSpot-Signature-Version": "v1",
        }
        assert verify_signature(client_secret=SECRET, method="POST", uri=URI, body=V1_BODY, headers=headers) == "v1"
        with pytest.raises(SignatureInvalid, match="only v3"):
            verify_signature(
                client_secret=SECRET, method="POST", uri=URI, body=V1_BODY, headers=headers, allow_v1=False
            )

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"body": b'{"example_field":"tampered"}'}, "does not match"),
            ({"client_secret": "wrong-secret"}, "does not match"),
            ({"uri": "https://www.example.com/other_uri"}, "does not match"),
            ({"uri": "https://attacker.example.com/webhook_uri"}, "does not match"),
            ({"method": "PUT"}, "does not match"),
            ({"now": int(TS) / 1000 + 301}, "older than|more than 300s"),
            ({"now": int(TS) / 1000 - 301}, "in the future"),
            ({"headers": {}}, "no HubSpot signature headers"),
            ({"headers": {"X-HubSpot-Signature-v3": "abc"}}, "needs the x-hubspot-request-timestamp header"),
            ({"headers": v3_headers(timestamp="1693657560")}, "older than|s old"),
            ({"headers": v3_headers(timestamp="yesterday")}, "not epoch milliseconds"),
            ({"headers": v3_headers(signature="")}, "does not match"),
            (
                {
                    "headers": {
                        **v3_headers(signature="forged"),
                        "X-HubSpot-Signature": signature_v1(SECRET, EXAMPLE_BODY),
                    }
                },
                "v3 signature does not match",
            ),
            ({"headers": {"X-HubSpot-Signature": "00" * 32}}, "v1 signature does not match"),
        ],
        ids=[
            "tampered-body",
            "wrong-secret",
            "other-path",
            "other-host",
            "other-method",
            "stale-timestamp",
            "future-timestamp",
            "no-headers",
            "no-timestamp",
            "seconds-not-ms",
            "garbage-timestamp",
            "empty-signature",
            "no-v1-fallback-when-v3-fails",
            "bad-v1",
        ],
    )
    def test_rejects(self, change: dict[str, object], reason: str) -> None:
        arguments: dict[str, object] = {
            "client_secret": SECRET,
            "method": "POST",
            "uri": URI,
            "body": EXAMPLE_BODY,
            "headers": v3_headers(),
            "now": NOW,
            **change,
        }
        with pytest.raises(SignatureInvalid, match=reason) as rejected:
            verify_signature(**arguments)  # type: ignore[arg-type]
        assert rejected.value.http_status == 401

    def test_the_uri_comes_from_the_public_base_url(self) -> None:
        assert (
            signed_uri("https://sync.example.com/", "/webhooks/hubspot", "a=b")
            == "https://sync.example.com/webhooks/hubspot?a=b"
        )
        assert decode_signed_uri("https://x.example/p%3Aq%2Fr%20s?x=%40%2c") == "https://x.example/p:q/r%20s?x=@,"


class TestParse:
    def test_typed_events_with_both_type_field_names(self) -> None:
        body = json.dumps(
            [
                {
                    "objectId": 1246965,
                    "propertyName": "lifecyclestage",
                    "propertyValue": "subscriber",
                    "changeSource": "ACADEMY",
                    "eventId": 3816279340,
                    "subscriptionId": 25,
                    "portalId": 33,
                    "appId": 1160452,
                    "occurredAt": 1462216307945,
                    "subscriptionType": "contact.propertyChange",
                    "attemptNumber": 0,
                },
                {
                    "objectId": 1246978,
                    "changeSource": "IMPORT",
                    "eventId": 3816279480,
                    "subscriptionId": 22,
                    "portalId": 33,
                    "appId": 1160452,
                    "occurredAt": 1462216307945,
                    "eventType": "company.creation",
                    "attemptNumber": 2,
                },
                {
                    "eventId": 9,
                    "portalId": 33,
                    "occurredAt": 1,
                    "subscriptionType": "contact.merge",
                    "objectId": 303,
                    "primaryObjectId": 101,
                    "mergedObjectIds": [202],
                    "newObjectId": 303,
                    "numberOfPropertiesMoved": 12,
                },
                {
                    "eventId": 10,
                    "portalId": 33,
                    "occurredAt": 2,
                    "subscriptionType": "contact.associationChange",
                    "objectId": 101,
                    "associationType": "CONTACT_TO_COMPANY",
                    "fromObjectId": 101,
                    "toObjectId": 555,
                    "associationRemoved": False,
                    "isPrimaryAssociation": True,
                },
                {
                    "eventId": 11,
                    "portalId": 33,
                    "occurredAt": 3,
                    "subscriptionType": "object.creation",
                    "objectTypeId": "0-3",
                    "objectId": 7,
                    "changeSource": "INTEGRATION",
                    "sourceId": "1160452",
                },
                {
                    "eventId": 12,
                    "portalId": 33,
                    "occurredAt": 4,
                    "subscriptionType": "conversation.newMessage",
                    "messageId": "m",
                },
            ]
        )
        change, creation, merge, association, generic, other = parse_events(body)
        assert isinstance(change, PropertyChangeEvent)
        assert (change.object_type, change.action, change.object_id) == ("contacts", "propertyChange", "1246965")
        assert (change.property_name, change.property_value, change.change_source) == (
            "lifecyclestage",
            "subscriber",
            "ACADEMY",
        )
        assert change.occurred_at.year == 2016
        assert isinstance(creation, CreationEvent)
        assert creation.object_type == "companies"
        assert creation.attempt_number == 2
        assert isinstance(merge, MergeEvent)
        assert (merge.merged_object_ids, merge.surviving_id, merge.primary_object_id) == (["202"], "303", "101")
        assert isinstance(association, AssociationChangeEvent)
        assert (association.to_object_id, association.is_primary_association, association.association_removed) == (
            "555",
            True,
            False,
        )
        assert generic.object_type == "deals"
        assert generic.written_by_app(1160452)
        assert not change.written_by_app(1160452)
        assert isinstance(other, OtherEvent)
        assert change.dedupe_key != creation.dedupe_key
        assert change.dedupe_key == parse_events(body)[0].dedupe_key

    @pytest.mark.parametrize(
        ("type_field", "subscription_type", "extra", "expected", "object_type"),
        [
            ("subscriptionType", "contact.deletion", {"changeFlag": "DELETED"}, DeletionEvent, "contacts"),
            ("eventType", "company.deletion", {}, DeletionEvent, "companies"),
            ("subscriptionType", "object.deletion", {"objectTypeId": "0-2"}, DeletionEvent, "companies"),
            ("subscriptionType", "contact.restore", {}, RestoreEvent, "contacts"),
            ("eventType", "deal.restore", {}, RestoreEvent, "deals"),
            ("subscriptionType", "object.restore", {"objectTypeId": "0-1"}, RestoreEvent, "contacts"),
            ("subscriptionType", "contact.privacyDeletion", {}, PrivacyDeletionEvent, "contacts"),
            ("eventType", "contact.privacyDeletion", {}, PrivacyDeletionEvent, "contacts"),
        ],
    )
    def test_deletions_restores_and_privacy_deletions_are_typed(
        self,
        type_field: str,
        subscription_type: str,
        extra: dict[str, object],
        expected: type[WebhookEvent],
        object_type: str,
    ) -> None:
        common = {"eventId": 7, "subscriptionId": 3, "portalId": 62515, "appId": 54321, "occurredAt": 1564113600000}
        body = json.dumps([{**common, type_field: subscription_type, "objectId": 123, "changeSource": "CRM", **extra}])
        (event,) = parse_events(body)
        assert type(event) is expected
        assert (event.object_type, event.object_id, event.subscription_type) == (object_type, "123", subscription_type)
        assert event.action == subscription_type.split(".")[1]
        assert event.change_flag == extra.get("changeFlag")

    def test_a_privacy_deletion_and_its_deletion_are_two_events_about_one_record(self) -> None:
        """HubSpot sends ``contact.deletion`` with ``contact.privacyDeletion``, in either order; both name the
        record, and neither is taken for a redelivery of the other."""
        common = {"portalId": 62515, "occurredAt": 1564113600000, "objectId": 123}
        deletion, privacy = parse_events(
            json.dumps(
                [
                    {**common, "eventId": 2, "subscriptionType": "contact.deletion"},
                    {**common, "eventId": 1, "subscriptionType": "contact.privacyDeletion"},
                ]
            )
        )
        assert (type(deletion), type(privacy)) == (DeletionEvent, PrivacyDeletionEvent)
        assert deletion.object_id == privacy.object_id == "123"
        assert deletion.dedupe_key != privacy.dedupe_key

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (b"not json", "not JSON"),
            (b'{"eventId": 1}', "not an array"),
            (b"[1]", "event 0 is not an object"),
            (b'[{"eventId": 1, "portalId": 2, "occurredAt": 3}]', "no subscriptionType"),
            (b'[{"subscriptionType": "contact.creation", "portalId": 2, "occurredAt": 3}]', "event_id"),
            (
                b'[{"subscriptionType": "contact.propertyChange", "eventId": 1, "portalId": 2, "occurredAt": 3}]',
                "property_name",
            ),
            (b'[{"subscriptionType": "contact.creation", "eventId": "x", "portalId": 2, "occurredAt": 3}]', "event_id"),
            (b"\xff\xfe", "not JSON"),
        ],
    )
    def test_malformed_bodies_raise_with_a_reason(self, body: bytes, reason: str) -> None:
        with pytest.raises(MalformedWebhook, match=reason) as rejected:
            parse_events(body)
        assert rejected.value.http_status == 400
