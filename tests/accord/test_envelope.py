from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from interlink.accord.properties import DEFAULT_NAMES, changed_values, property_values, snapshot_of
from interlink.connectors.accord.envelope import (
    AccordStatus,
    InvalidEnvelope,
    MalformedEnvelope,
    Trigger,
    parse_envelope,
)
from tests.accord.support import envelope

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def parse(event: dict[str, Any]) -> Any:
    return parse_envelope(json.dumps(event).encode(), now=NOW)


def test_a_complete_event_parses() -> None:
    parsed = parse(envelope("acc-1", "123", trigger="step.updated", occurred_at=NOW, event_id="evt_1"))
    assert parsed.event_id == "evt_1"
    assert parsed.trigger is Trigger.step_updated
    assert parsed.occurred_at == NOW
    assert parsed.accord.status is AccordStatus.on_track
    assert parsed.accord.hubspot_deal_id == "123"
    assert (parsed.accord.customers_invited, parsed.accord.customers_accepted) == (4, 3)


def test_every_trigger_of_accords_list_is_accepted() -> None:
    names = {
        "accord.viewed", "accord.created", "accord.duplicated", "stage.created", "stage.deleted", "step.created",
        "step.deleted", "step.updated", "stakeholder.added", "customer.accepted", "member.added", "member.invited",
    }  # fmt: skip
    assert {trigger.value for trigger in Trigger} == names
    for name in names:
        assert parse(envelope("acc-1", "1", trigger=name, occurred_at=NOW)).trigger.value == name


@pytest.mark.parametrize(
    ("given", "expected"), [("at risk", "At Risk"), ("NOT_STARTED", "Not Started"), ("stalled", "Stalled")]
)
def test_status_spellings_are_normalised(given: str, expected: str) -> None:
    assert parse(envelope("acc-1", "1", status=given, occurred_at=NOW)).accord.status.value == expected


def test_a_numeric_deal_id_and_a_blank_stage_are_normalised() -> None:
    parsed = parse(envelope("acc-1", None, hubspot_deal_id=987, current_stage="  ", occurred_at=NOW))
    assert parsed.accord.hubspot_deal_id == "987"
    assert parsed.accord.current_stage is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"status": "Late"}, "accord.status", "must be one of Not Started, On Track, At Risk, Stalled"),
        ({"progress": 101}, "accord.progress", "less than or equal to 100"),
        ({"progress": -1}, "accord.progress", "greater than or equal to 0"),
        ({"progress": "50"}, "accord.progress", "must be a finite number"),
        ({"customers_invited": -1}, "accord.customers_invited", "greater than or equal to 0"),
        ({"customers_accepted": -2}, "accord.customers_accepted", "greater than or equal to 0"),
        ({"customers_invited": 2.5}, "accord.customers_invited", "must be a whole number"),
        ({"customers_invited": 2, "customers_accepted": 3}, "accord.customers_accepted", "cannot exceed"),
        ({"url": "javascript:alert(1)"}, "accord.url", "http:// or https://"),
        ({"hubspot_deal_id": "deal-9"}, "accord.hubspot_deal_id", "HubSpot deal id"),
        ({"execution_score": True}, "accord.execution_score", "must be a finite number"),
        ({"id": "bad id"}, "accord.id", "letters, digits"),
    ],
)
def test_invalid_values_name_the_field(overrides: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InvalidEnvelope) as caught:
        parse(envelope("acc-1", "1", occurred_at=NOW, **overrides))
    assert [problem["field"] for problem in caught.value.problems] == [field]
    assert message in caught.value.problems[0]["message"]
    assert str(caught.value).startswith(field)


def test_a_missing_value_is_an_error_not_a_silent_clear() -> None:
    event = envelope("acc-1", "1", occurred_at=NOW)
    del event["accord"]["execution_score"]
    del event["trigger"]
    with pytest.raises(InvalidEnvelope) as caught:
        parse(event)
    assert {(p["field"], p["message"]) for p in caught.value.problems} == {
        ("trigger", "is required"),
        ("accord.execution_score", "is required"),
    }


def test_unknown_triggers_naive_and_future_times_are_refused() -> None:
    with pytest.raises(InvalidEnvelope, match="trigger: must be one of accord.viewed"):
        parse(envelope("acc-1", "1", trigger="accord.archived", occurred_at=NOW))
    naive = envelope("acc-1", "1", occurred_at=NOW)
    naive["occurred_at"] = "2026-11-22T09:00:00"
    with pytest.raises(InvalidEnvelope, match="occurred_at"):
        parse(naive)
    with pytest.raises(InvalidEnvelope, match="occurred_at: is more than 5 minutes in the future"):
        parse(envelope("acc-1", "1", occurred_at=NOW + timedelta(minutes=6)))


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"", b'{"progress": NaN}', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedEnvelope):
        parse_envelope(body, now=NOW)


def test_unknown_keys_are_ignored() -> None:
    event = envelope("acc-1", "1", occurred_at=NOW, owner="someone")
    event["sender"] = "zapier"
    assert parse(event).accord.id == "acc-1"


def test_values_are_computed_in_hubspots_text_form_and_compared_exactly() -> None:
    parsed = parse(envelope("acc-1", "1", occurred_at=NOW, progress=45.0, execution_score=None))
    values = property_values(snapshot_of(parsed.accord), DEFAULT_NAMES)
    assert values == {
        "accord_url": "https://app.inaccord.com/accords/acc-1",
        "accord_status": "On Track",
        "current_stage": "Technical validation",
        "number_of_customers_invited": "4",
        "number_of_customers_accepted": "3",
        "accord_progress": "45",
        "accord_execution_score": None,
    }
    assert changed_values(values, values) == {}
    assert changed_values({**values, "accord_progress": "46"}, values) == {"accord_progress": "46"}
    # A property never pushed counts as empty, so an empty value is not written for nothing...
    assert changed_values({"accord_execution_score": None}, {}) == {}
    # ...unless the push is forced.
    assert changed_values(values, values, force=True) == values
