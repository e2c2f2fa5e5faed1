"""Statuses and progressions: the only way the API moves a status."""

from __future__ import annotations

import pytest

from interlink.connectors.accelo.errors import AcceloInvalidRequest, AcceloNotFound, NoProgressionToStatus
from interlink.connectors.accelo.query import against, filter_term
from interlink.connectors.errors import InvalidRequest, NotFound
from tests.connectors.accelo.harness import Harness


def test_statuses_of_each_record_type(accelo: Harness) -> None:
    statuses = accelo.client.statuses
    company = statuses.all("company")
    assert [(s.title, s.standing, s.start) for s in company] == [
        ("Prospect", "prospect", True),
        ("Active", "active", True),
        ("Paused", "paused", False),
        ("Inactive", "inactive", False),
    ]
    assert [s.title for s in statuses.all("contact")] == ["Potential", "Active", "Inactive"]
    assert statuses.count("affiliation") == 2
    assert statuses.get("company", company[1].id).title == "Active"
    company_id = accelo.sim.user_create_company("Planet Express")
    assert statuses.of_record("company", company_id).title == "Prospect"


def test_listing_and_applying_a_progression(accelo: Harness) -> None:
    sim = accelo.sim
    company_id = sim.user_create_company("Planet Express")
    progressions = accelo.client.progressions

    allowed = progressions.allowed("company", company_id)
    assert [(p.title, p.status.title if p.status else None) for p in allowed] == [
        ("Win", "Active"),
        ("Disqualify", "Inactive"),
    ]
    company = progressions.apply("company", company_id, allowed[0].id)
    assert company.status_id == sim.status_id("company", "Active")
    assert company.standing == "active"
    assert sim.status_of("company", company_id) == sim.status_id("company", "Active")


def test_move_to_status_finds_the_progression(accelo: Harness) -> None:
    sim = accelo.sim
    company_id = sim.user_create_company("Planet Express")
    contact_id = sim.user_create_contact(company_id, "Philip", "Fry")
    active = sim.status_id("contact", "Active")
    sim.calls.reset()

    contact = accelo.client.progressions.move_to_status("contact", contact_id, active)

    assert contact.status_id == active
    assert accelo.api_calls() == 2  # list the allowed progressions, apply one


def test_no_progression_to_the_status_is_flagged_not_forced(accelo: Harness) -> None:
    sim = accelo.sim
    company_id = sim.user_create_company("Planet Express")
    paused = sim.status_id("company", "Paused")  # Prospect cannot go straight to Paused

    with pytest.raises(NoProgressionToStatus) as raised:
        accelo.client.progressions.move_to_status("company", company_id, paused)

    assert isinstance(raised.value, InvalidRequest)
    assert raised.value.allowed == [
        (sim.status_id("company", "Active"), "Active"),
        (sim.status_id("company", "Inactive"), "Inactive"),
    ]
    assert sim.status_of("company", company_id) == sim.status_id("company", "Prospect")


def test_transitions_are_configurable(accelo: Harness) -> None:
    sim = accelo.sim
    prospect, paused = sim.status_id("company", "Prospect"), sim.status_id("company", "Paused")
    sim.set_transitions("company", [(prospect, paused, "Park it")])
    company_id = sim.user_create_company("Planet Express")

    company = accelo.client.progressions.move_to_status("company", company_id, paused)

    assert company.status_id == paused
    assert accelo.client.progressions.allowed("company", company_id) == []  # nothing leads out of Paused now


def test_a_progression_not_allowed_now_is_refused(accelo: Harness) -> None:
    sim = accelo.sim
    company_id = sim.user_create_company("Planet Express")
    with pytest.raises(AcceloInvalidRequest) as raised:
        accelo.client.progressions.apply("company", company_id, 999)
    assert not isinstance(raised.value, NotFound)  # the company exists; the progression is what is wrong
    with pytest.raises(AcceloNotFound):
        accelo.client.progressions.allowed("company", 404)


def test_status_history(accelo: Harness) -> None:
    sim = accelo.sim
    first = sim.user_create_company("Planet Express")
    second = sim.user_create_company("MomCorp")
    sim.user_change_status("company", first, sim.status_id("company", "Active"))
    sim.user_change_status("company", second, sim.status_id("company", "Inactive"))
    sim.user_change_status("company", first, sim.status_id("company", "Paused"))

    everything = list(accelo.client.progressions.history())
    of_first = list(accelo.client.progressions.history(against(company=[first])))

    assert [(h.against_id, h.to_title) for h in everything] == [
        (first, "Active"),
        (second, "Inactive"),
        (first, "Paused"),
    ]
    assert [h.to_title for h in of_first] == ["Active", "Paused"]
    assert all(h.against_type == "company" and h.date_modified is not None for h in everything)
    assert list(accelo.client.progressions.history(filter_term("against_type", "contact"))) == []
