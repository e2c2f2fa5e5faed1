"""The links REST API as ops use it: list by state (in sync, needs review, failed, paused) with the summary's
counts agreeing, retry a failed record, resync a link (optionally letting one side win), unlink, and read a link's
history. And the oscillation breaker end to end: a field that keeps flipping is paused, the link shows as paused
and flagged, and that field is written no more until a person resumes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from interlink.models import LedgerEntry, Link
from tests.fixtures.world import World
from tests.sync.test_end_to_end import affiliation_of, hubspot_value, linked_contact, refuse_accelo_writes, writes

FIRSTNAME = "firstname|firstname"
LASTNAME = "lastname|surname"


def api(world: World, method: str, path: str, **kwargs: Any) -> Any:
    return world.api.request(method, path, headers=world.tenant.headers, **kwargs)


def ids_in_state(world: World, state: str) -> set[str]:
    response = api(world, "GET", f"/api/v1/links?state={state}&object_type=contact")
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def ledger(world: World, action: str | None = None) -> list[LedgerEntry]:
    with world.db.transaction() as session:
        statement = select(LedgerEntry).order_by(LedgerEntry.id)
        if action:
            statement = statement.where(LedgerEntry.action == action)
        return list(session.scalars(statement))


def failed_contact(world: World, email: str) -> tuple[str, int, Link]:
    """A linked contact whose edit Accelo keeps refusing, until it is given up on (failed)."""
    contact, accelo_id, link = linked_contact(world, email=email)
    refuse_accelo_writes(world, accelo_id)
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Refused"})
    world.settle()
    return contact, accelo_id, link


def flip(world: World, contact: str, accelo_id: int, times: int, *, field: str = "lastname") -> None:
    """Someone (another integration, say) keeps changing the field on alternate sides."""
    for turn in range(times):
        if turn % 2 == 0:
            world.hubspot.update_as_user("contacts", contact, {field: f"Hub{turn}"})
        else:
            world.accelo.user_update_contact(accelo_id, **{"surname" if field == "lastname" else field: f"Acc{turn}"})
        world.settle()


def set_policy(world: World, hubspot_property: str, policy: str) -> None:
    mapping = next(
        m
        for m in api(world, "GET", "/api/v1/field-mappings?object_type=contact").json()
        if m["hubspot_property"] == hubspot_property
    )
    response = api(world, "PATCH", f"/api/v1/field-mappings/{mapping['id']}", json={"conflict_policy": policy})
    assert response.status_code == 200, response.text


# -- the oscillation breaker --------------------------------------------------------------------------------------


def test_a_field_that_keeps_flipping_is_paused_flagged_and_written_no_more_until_resumed(world: World) -> None:
    contact, accelo_id, link = linked_contact(world)
    flip(world, contact, accelo_id, 4)  # four writes in the window: the most the breaker allows
    assert api(world, "GET", f"/api/v1/links/{link.id}").json()["state"] == "in_sync"
    assert hubspot_value(world, contact, "lastname") == "Acc3"

    world.hubspot.update_as_user("contacts", contact, {"lastname": "Hub4"})  # the fifth flip
    world.settle()
    detail = api(world, "GET", f"/api/v1/links/{link.id}").json()
    assert (detail["state"], detail["flagged"]) == ("paused", True)
    assert "flipped 5 times" in detail["state_reason"]
    held = next(f for f in detail["fields"] if f["key"] == LASTNAME)
    assert held["state"] == "paused"
    assert world.accelo.record("contact", accelo_id)["surname"] == "Acc3"  # the fifth was not written
    (paused,) = [e for e in ledger(world, "needs_review") if e.details.get("paused")]
    assert (paused.field, paused.link_id) == (LASTNAME, link.id)

    # No further writes for it, from either side; the other fields still sync.
    before = writes(world)
    world.hubspot.update_as_user("contacts", contact, {"lastname": "Hub5"})
    world.accelo.user_update_contact(accelo_id, surname="Acc5")
    world.settle()
    assert writes(world) == before
    assert hubspot_value(world, contact, "lastname") == "Hub5"
    assert world.accelo.record("contact", accelo_id)["surname"] == "Acc5"
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Augusta"})
    world.settle()
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Augusta"
    assert api(world, "GET", f"/api/v1/links/{link.id}").json()["state"] == "paused"

    # A person resumes the field: the link is in sync again and the field syncs as usual.
    resumed = api(world, "POST", f"/api/v1/links/{link.id}/resolve", json={"field": LASTNAME, "keep": "hubspot"})
    assert resumed.status_code == 200, resumed.text
    assert (resumed.json()["link"]["state"], resumed.json()["link"]["flagged"]) == ("in_sync", False)
    world.settle()
    assert hubspot_value(world, contact, "lastname") == world.accelo.record("contact", accelo_id)["surname"]
    assert api(world, "GET", f"/api/v1/links/{link.id}").json()["state"] == "in_sync"


def test_a_write_that_failed_is_not_counted_as_a_flip(world: World) -> None:
    contact, accelo_id, link = linked_contact(world)
    refuse_accelo_writes(world, accelo_id)
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Refused"})
    world.settle()  # retried until given up on: many attempts, no write
    detail = api(world, "GET", f"/api/v1/links/{link.id}").json()
    assert detail["state"] == "failed"
    assert next(f for f in detail["fields"] if f["key"] == FIRSTNAME)["state"] == "in_sync"


# -- filters and counts -------------------------------------------------------------------------------------------


def test_the_state_filter_and_the_summary_agree_for_in_sync_needs_review_failed_and_paused(world: World) -> None:
    _, _, in_sync = linked_contact(world, email="ada@engines.example")

    review_contact, review_accelo, needs_review = linked_contact(world, email="bea@engines.example")
    set_policy(world, "firstname", "review")
    world.hubspot.update_as_user("contacts", review_contact, {"firstname": "One"})
    world.accelo.user_update_contact(review_accelo, firstname="Two")
    world.settle()

    _, _, failed = failed_contact(world, "cat@engines.example")

    paused_contact, paused_accelo, paused = linked_contact(world, email="dot@engines.example")
    flip(world, paused_contact, paused_accelo, 5)

    assert ids_in_state(world, "in_sync") == {str(in_sync.id)}
    assert ids_in_state(world, "needs_review") == {str(needs_review.id)}
    assert ids_in_state(world, "failed") == {str(failed.id)}
    assert ids_in_state(world, "paused") == {str(paused.id)}
    flagged = api(world, "GET", "/api/v1/links?flagged=true").json()["items"]
    assert {item["id"] for item in flagged} == {str(needs_review.id), str(failed.id), str(paused.id)}

    summary = api(world, "GET", "/api/v1/links/summary").json()
    assert summary == {
        "counts": {"in_sync": 1 + 4, "needs_review": 1, "failed": 1, "paused": 1},  # four companies in sync
        "flagged": 3,
    }
    assert api(world, "GET", "/api/v1/links?state=sleeping").status_code == 422


# -- actions ------------------------------------------------------------------------------------------------------


def test_retrying_a_failed_record_syncs_it_once_the_cause_is_gone(world: World) -> None:
    _contact, accelo_id, link = failed_contact(world, "ada@engines.example")
    detail = api(world, "GET", f"/api/v1/links/{link.id}").json()
    assert (detail["state"], detail["attempts"]) == ("failed", world.settings.inbox_max_attempts)
    assert "firstname is not acceptable" in detail["last_error"]
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Ada"

    world.accelo.faults.clear()  # whatever Accelo objected to is fixed
    response = api(world, "POST", f"/api/v1/links/{link.id}/retry")
    assert response.status_code == 200, response.text
    assert response.json()["queued_events"] == 2  # both sides are read again
    assert (response.json()["link"]["state"], response.json()["link"]["attempts"]) == ("in_sync", 0)
    world.settle()
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Refused"
    detail = api(world, "GET", f"/api/v1/links/{link.id}").json()
    assert (detail["state"], detail["last_error"], detail["next_attempt_at"]) == ("in_sync", None, None)


def test_resyncing_reconciles_again_and_with_prefer_lets_one_side_win_every_difference(world: World) -> None:
    contact, accelo_id, link = linked_contact(world, jobtitle="Analyst")
    affiliation = int(affiliation_of(world, accelo_id)["id"])
    world.accelo.user_update_affiliation(affiliation, position="Engineer")  # Accelo sends no webhook for this
    world.settle()
    assert hubspot_value(world, contact, "jobtitle") == "Analyst"

    response = api(world, "POST", f"/api/v1/links/{link.id}/resync")
    assert response.status_code == 200, response.text
    assert response.json()["queued_events"] == 2
    world.settle()
    assert hubspot_value(world, contact, "jobtitle") == "Engineer"  # only Accelo had moved

    world.accelo.user_update_affiliation(affiliation, position="Countess")
    response = api(world, "POST", f"/api/v1/links/{link.id}/resync", json={"prefer": "hubspot"})
    assert response.status_code == 200, response.text
    assert response.json()["queued_events"] == 1
    world.settle()
    assert affiliation_of(world, accelo_id)["position"] == "Engineer"  # HubSpot's value won
    assert hubspot_value(world, contact, "jobtitle") == "Engineer"
    (requested,) = ledger(world, "resync")
    assert "hubspot wins every difference" in (requested.reason or "")


def test_unlinking_closes_the_link_on_the_ledger_and_deletes_nothing(world: World) -> None:
    contact, accelo_id, link = linked_contact(world)
    response = api(world, "DELETE", f"/api/v1/links/{link.id}")
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["flagged"]) == ("closed", False)
    (entry,) = ledger(world, "unlinked")
    assert (entry.link_id, entry.hubspot_id, entry.accelo_id) == (link.id, contact, str(accelo_id))
    assert world.hubspot.record("contacts", contact) is not None
    assert world.accelo.record("contact", accelo_id) is not None
    assert hubspot_value(world, contact, "email") == "ada@engines.example"
    assert ids_in_state(world, "closed") == {str(link.id)}
    assert ids_in_state(world, "in_sync") == set()
    assert api(world, "POST", f"/api/v1/links/{link.id}/retry").status_code == 409
    assert api(world, "POST", f"/api/v1/links/{link.id}/resync").status_code == 409
    assert api(world, "DELETE", f"/api/v1/links/{link.id}").json()["state"] == "closed"  # unlinking twice is fine
    assert len(ledger(world, "unlinked")) == 1


def test_a_links_history_says_why_each_field_changed_newest_first(world: World) -> None:
    contact, accelo_id, link = linked_contact(world)
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Augusta"})
    world.settle()
    world.accelo.user_update_contact(accelo_id, surname="King")
    world.settle()

    history = api(world, "GET", f"/api/v1/links/{link.id}/history").json()["items"]
    ids = [entry["id"] for entry in history]
    assert ids == sorted(ids, reverse=True)
    actions = [entry["action"] for entry in history]
    assert actions.index("created") > actions.index("updated")  # created first, so listed after the updates
    (surname,) = [e for e in history if e["action"] == "updated" and e["field"] == LASTNAME]
    assert (surname["direction"], surname["old_value"], surname["new_value"]) == ("to_hubspot", "Lovelace", "King")
    assert surname["event_ids"]  # tied to the Accelo webhook that caused it

    only_firstname = api(world, "GET", f"/api/v1/links/{link.id}/history?field=firstname").json()["items"]
    assert [(e["action"], e["new_value"], e["direction"]) for e in only_firstname] == [
        ("updated", "Augusta", "to_accelo")
    ]

    first_page = api(world, "GET", f"/api/v1/links/{link.id}/history?limit=1").json()
    assert [e["id"] for e in first_page["items"]] == ids[:1]
    second_page = api(
        world, "GET", f"/api/v1/links/{link.id}/history?limit=1&cursor={first_page['next_cursor']}"
    ).json()
    assert [e["id"] for e in second_page["items"]] == ids[1:2]
    assert api(world, "GET", "/api/v1/links/00000000-0000-0000-0000-000000000000/history").status_code == 404
