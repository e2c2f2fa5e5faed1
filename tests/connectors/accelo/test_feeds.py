"""Polling: every change is found once, including the edits Accelo sends no webhook for."""

from __future__ import annotations

import pytest

from interlink.connectors.accelo.feeds import ChangeFeed, FeedCursor
from interlink.connectors.accelo.schemas import AcceloModel
from tests.connectors.accelo.harness import Harness


def drain(feed: ChangeFeed, cursor: FeedCursor | None) -> tuple[list[AcceloModel], FeedCursor]:  # type: ignore[type-arg]
    batch = feed.poll(cursor)
    assert batch.complete
    return list(batch.records), batch.cursor


def keys(records: list[AcceloModel]) -> list[int]:
    return [record.id for record in records]  # type: ignore[attr-defined]


def test_polling_finds_every_change_including_those_without_webhooks(accelo: Harness) -> None:
    sim = accelo.sim
    clock = sim.clock
    clock.freeze()
    seeded = sim.seed(
        {
            "companies": [
                {
                    "name": f"Company {n}",
                    "contacts": [{"firstname": f"P{n}", "surname": "Q", "email": f"p{n}@x.example"}],
                }
                for n in range(3)
            ]
        }
    )
    field_id = sim.add_profile_field("company", "Hours")
    companies, contacts = seeded["companies"], seeded["contacts"]
    affiliations = [sim.record("contact", c)["default_affiliation"] for c in contacts]  # type: ignore[index]
    for company_id in companies:
        sim.user_set_profile_value("company", company_id, field_id, "9-5")
    feeds = accelo.client.feeds
    company_feed, contact_feed = feeds.companies(), feeds.contacts()
    affiliation_feed, value_feed, history_feed = (
        feeds.affiliations(),
        feeds.profile_values("company"),
        feeds.status_history(),
    )

    # Everything so far, from the beginning.
    first, company_cursor = drain(company_feed, None)
    assert keys(first) == companies
    _, contact_cursor = drain(contact_feed, None)
    _, affiliation_cursor = drain(affiliation_feed, None)
    values, value_cursor = drain(value_feed, None)
    assert sorted(v.link_id for v in values) == companies  # type: ignore[attr-defined]
    _, history_cursor = drain(history_feed, None)

    # A few seconds later, people edit things. Only some of these send a webhook.
    clock.advance(3)
    sim.user_update_company(companies[1], phone="555-0101")  # webhook
    sim.user_update_affiliation(affiliations[0], phone="555-0000", position="Boss")  # no webhook
    sim.user_set_profile_value("company", companies[2], field_id, "24/7")  # no webhook
    sim.user_change_status("contact", contacts[2], sim.status_id("contact", "Active"))  # webhook + history
    created = sim.user_create_company("Newcomer")

    changed, company_cursor = drain(company_feed, company_cursor)
    assert keys(changed) == [companies[1], created]
    changed, contact_cursor = drain(contact_feed, contact_cursor)
    assert keys(changed) == [contacts[2]]
    changed, affiliation_cursor = drain(affiliation_feed, affiliation_cursor)
    assert keys(changed) == [affiliations[0]]
    assert changed[0].phone == "555-0000"
    changed, value_cursor = drain(value_feed, value_cursor)
    assert [(v.link_id, v.value) for v in changed] == [(companies[2], "24/7")]  # type: ignore[attr-defined]
    changed, history_cursor = drain(history_feed, history_cursor)
    assert [(h.against_type, h.against_id, h.to_title) for h in changed] == [("contact", contacts[2], "Active")]  # type: ignore[attr-defined]

    # Polling again re-reads the overlap window and delivers nothing twice.
    for feed, cursor in [
        (company_feed, company_cursor),
        (contact_feed, contact_cursor),
        (affiliation_feed, affiliation_cursor),
        (value_feed, value_cursor),
        (history_feed, history_cursor),
    ]:
        again, _ = drain(feed, cursor)
        assert again == []


def test_no_duplicates_and_no_misses_across_many_overlapping_polls(accelo: Harness) -> None:
    sim = accelo.sim
    clock = sim.clock
    clock.freeze()
    ids = [sim.user_create_company(f"Company {n}") for n in range(20)]
    feed = accelo.client.feeds.companies()
    known: dict[int, str | None] = {}  # what the feed has told us, per company
    versions: set[tuple[int, int, str | None]] = set()
    cursor = FeedCursor.from_beginning()
    for step in range(40):
        if step % 3 == 0:
            clock.advance(1)  # several polls per second, and windows that overlap many times over
        for target in (ids[(step * 7) % len(ids)], ids[(step * 3) % len(ids)]):
            sim.user_update_company(target, comments=f"edit {step}")
        batch = feed.poll(cursor)
        cursor = FeedCursor.from_json(batch.cursor.to_json())  # as the product stores it
        for record in batch.records:
            version = (record.id, int(record.date_modified.timestamp()), record.comments)  # type: ignore[union-attr]
            assert version not in versions, f"delivered twice: {version}"
            versions.add(version)
            known[record.id] = record.comments
        truth = {company_id: sim.record("company", company_id)["comments"] for company_id in ids}  # type: ignore[index]
        assert known == truth, f"after poll {step} the feed missed a change"


def test_a_second_edit_in_the_same_second_is_not_lost(accelo: Harness) -> None:
    sim = accelo.sim
    sim.clock.freeze()
    company_id = sim.user_create_company("Planet Express")
    feed = accelo.client.feeds.companies()
    records, cursor = drain(feed, None)
    sim.user_update_company(company_id, phone="1")  # same second: same date_modified
    records, cursor = drain(feed, cursor)
    assert [r.phone for r in records] == ["1"]  # type: ignore[attr-defined]
    records, cursor = drain(feed, cursor)
    assert records == []


def test_more_than_a_page_of_changes_in_one_second(accelo: Harness) -> None:
    sim = accelo.sim
    sim.clock.freeze()
    sim.generate(companies=250)
    feed = accelo.client.feeds.companies()
    sim.calls.reset()

    first = feed.poll(None, max_records=120)  # stops early: the rest waits for the next poll
    rest = feed.poll(first.cursor)

    assert not first.complete
    assert rest.complete
    all_ids = keys(first.records) + keys(rest.records)
    assert len(all_ids) == len(set(all_ids)) == 250
    assert accelo.calls("/companies", method="GET") < 12


def test_a_change_that_becomes_visible_late_is_found_in_the_overlap(accelo: Harness) -> None:
    sim = accelo.sim
    now = sim.clock.freeze()
    early = sim.user_create_company("Committed late")
    feed = accelo.client.feeds.companies()
    sim.clock.freeze(now + 10)
    late_visible = sim.user_create_company("Polled already")
    _, cursor = drain(feed, FeedCursor.starting_at(now + 5))
    # A change stamped 5 seconds before the newest one shows up only now (its transaction was slow).
    sim.clock.freeze(now + 6)
    sim.user_update_company(early, phone="555")
    records, _ = drain(feed, cursor)
    assert keys(records) == [early]
    assert late_visible not in keys(records)


def test_deleted_records_are_found_by_id(accelo: Harness) -> None:
    sim = accelo.sim
    company_id = sim.user_create_company("Planet Express")
    contacts = [sim.user_create_contact(company_id, f"P{n}", "Q") for n in range(3)]
    sim.user_delete_contact(contacts[1])  # deleted in Accelo's web app: no webhook, no feed entry
    assert accelo.client.find_missing("contact", contacts) == {contacts[1]}


def test_cursors_survive_storage() -> None:
    cursor = FeedCursor(
        since=1_700_000_000, seen=frozenset({(1, 1_700_000_000, "abc123"), (2, 1_699_999_999, "def456")})
    )
    assert FeedCursor.from_json(cursor.to_json()) == cursor
    assert FeedCursor.from_json(FeedCursor.from_beginning().to_json()) == FeedCursor()
    with pytest.raises(ValueError, match="feed cursor"):
        FeedCursor.from_json('{"since": "yesterday"}')


def test_contact_profile_values_are_polled_on_their_own_feed(accelo: Harness) -> None:
    sim = accelo.sim
    sim.clock.freeze()
    seeded = sim.seed(
        {
            "companies": [
                {
                    "name": "Planet Express",
                    "contacts": [
                        {"firstname": "Philip", "surname": "Fry", "email": "fry@planet.example"},
                        {"firstname": "Turanga", "surname": "Leela", "email": "leela@planet.example"},
                    ],
                }
            ]
        }
    )
    (company,), (fry, leela) = seeded["companies"], seeded["contacts"]
    nickname = sim.add_profile_field("contact", "Nickname")
    skills = sim.add_profile_field("contact", "Skills", "multi_select", options=["Piloting", "Delivery", "Karate"])
    hours = sim.add_profile_field("company", "Hours")
    sim.user_set_profile_value("contact", fry, nickname, "Fry")
    sim.user_set_profile_value("company", company, hours, "9-5")  # a company's value: not on the contact feed
    feed = accelo.client.feeds.profile_values("contact")

    first, cursor = drain(feed, None)
    assert [(v.link_type, v.link_id, v.field_id, v.value) for v in first] == [("contact", fry, nickname, "Fry")]  # type: ignore[attr-defined]

    sim.clock.advance(3)
    sim.user_set_profile_value("contact", leela, skills, ["Karate", "Piloting"])  # Accelo sends no webhook for this
    sim.user_set_profile_value("contact", fry, nickname, "Philip J.")
    changed, cursor = drain(feed, cursor)
    found = sorted((v.link_id, v.field_id, v.typed_value()) for v in changed)  # type: ignore[attr-defined]
    assert found == sorted([(leela, skills, ["Karate", "Piloting"]), (fry, nickname, "Philip J.")])

    again, _ = drain(feed, cursor)
    assert again == []
