"""Companies, contacts, affiliations and contacts-with-their-affiliation, against the simulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from interlink.connectors.accelo.errors import AcceloDuplicate, AcceloInvalidRequest, AcceloNotFound, NotWritable
from interlink.connectors.accelo.query import Filter, any_of, filter_term, negate, order_by_desc, search
from interlink.connectors.errors import Conflict, NotFound
from tests.connectors.accelo.harness import Harness


class TestCompanies:
    def test_create_read_update_delete(self, accelo: Harness) -> None:
        companies = accelo.client.companies
        active = accelo.sim.status_id("company", "Active")
        created = companies.create("Planet Express", status_id=active, fields={"website": "planetexpress.com"})
        assert created.id > 0
        assert created.status_id == active
        assert created.standing == "active"
        assert isinstance(created.date_created, datetime)
        assert created.date_created.tzinfo is UTC

        updated = companies.update(created.id, {"phone": "+1 212 555 0100", "comments": ""})
        assert updated.phone == "+1 212 555 0100"
        assert companies.get(created.id).website == "planetexpress.com"

        companies.delete(created.id)
        with pytest.raises(AcceloNotFound) as raised:
            companies.get(created.id)
        assert isinstance(raised.value, NotFound)  # the sync core sees "gone", not "bad input"
        assert raised.value.status_code == 400  # as Accelo answers it

    def test_writes_only_the_fields_accelo_allows(self, accelo: Harness) -> None:
        company = accelo.client.companies.create("Mom's Friendly Robot Company")
        with pytest.raises(NotWritable, match="progressions"):
            accelo.client.companies.update(company.id, {"status_id": 2})
        with pytest.raises(NotWritable, match="custom_id"):
            accelo.client.companies.update(company.id, {"custom_id": "X"})
        assert accelo.calls("/companies/{id:int}", method="PUT") == 0  # refused before anything was sent

    def test_a_status_that_cannot_start_a_record_is_refused_by_accelo(self, accelo: Harness) -> None:
        paused = accelo.sim.status_id("company", "Paused")
        with pytest.raises(AcceloInvalidRequest, match="cannot start"):
            accelo.client.companies.create("Slurm", status_id=paused)

    def test_updating_or_deleting_a_missing_company_is_not_found(self, accelo: Harness) -> None:
        with pytest.raises(AcceloNotFound):
            accelo.client.companies.update(404, {"name": "Nobody"})
        with pytest.raises(AcceloNotFound):
            accelo.client.companies.delete(404)

    def test_bad_input_on_an_existing_record_stays_invalid_request(self, accelo: Harness) -> None:
        company = accelo.client.companies.create("Kif Kroker Ltd")
        with pytest.raises(AcceloInvalidRequest) as raised:
            accelo.client.companies.update(company.id, {"name": ""})
        assert not isinstance(raised.value, NotFound)

    def test_profile_values_can_be_set_on_create(self, accelo: Harness) -> None:
        field_id = accelo.sim.add_profile_field("company", "Opening Hours")
        company = accelo.client.companies.create("Fishy Joe's", profile_values={field_id: "09-17"})
        assert accelo.sim.profile_values_of("company", company.id) == {field_id: "09-17"}

    def test_many_by_id_in_one_call_per_hundred(self, accelo: Harness) -> None:
        ids = [accelo.sim.user_create_company(f"Company {n}") for n in range(250)]
        accelo.sim.user_delete_company(ids[7])
        accelo.sim.calls.reset()

        found = accelo.client.companies.get_many([*ids, 99_999])

        assert set(found) == set(ids) - {ids[7]}
        assert found[ids[0]].name == "Company 0"
        assert accelo.calls("/companies", method="GET") == 3  # 251 ids: 100 + 100 + 51

    def test_find_missing_reports_deleted_ids(self, accelo: Harness) -> None:
        keep = accelo.sim.user_create_company("Keep")
        gone = accelo.sim.user_create_company("Gone")
        accelo.sim.user_delete_company(gone)
        assert accelo.client.find_missing("company", [keep, gone]) == {gone}

    def test_iterating_pages_until_a_short_page(self, accelo: Harness) -> None:
        for n in range(25):
            accelo.sim.user_create_company(f"Company {n:02d}")
        accelo.sim.calls.reset()

        names = [company.name for company in accelo.client.companies.iterate(page_size=10)]

        assert names == [f"Company {n:02d}" for n in range(25)]  # sorted by id, every one once
        assert accelo.calls("/companies", method="GET") == 3  # 10 + 10 + 5: no extra call for a total

    def test_filters_search_and_order(self, accelo: Harness) -> None:
        sim = accelo.sim
        a = sim.user_create_company("Acme Rockets", website="acme.example")
        b = sim.user_create_company("Acme Anvils", website="anvils.example")
        c = sim.user_create_company("Zapp Industries")
        sim.user_change_status("company", c, sim.status_id("company", "Active"))
        companies = accelo.client.companies

        assert [x.id for x in companies.iterate(search="acme")] == [a, b]
        assert [x.id for x in companies.iterate(search="acme rockets")] == [a]
        assert [x.id for x in companies.iterate(filter_term("standing", "active"))] == [c]
        assert [x.id for x in companies.iterate(negate(filter_term("standing", "active")))] == [a, b]
        assert [x.id for x in companies.iterate(order_by_desc("id"))] == [c, b, a]
        either = any_of(filter_term("id", a), filter_term("standing", "active"))
        assert [x.id for x in companies.iterate(either)] == [a, c]
        assert companies.count() == 3
        assert companies.count(search("acme")) == 2

    def test_default_fields_with_fields_asked_for(self, accelo: Harness) -> None:
        company_id = accelo.sim.user_create_company("Applied Cryogenics", website="cryo.example")
        bare = accelo.client.companies.get(company_id, fields=())
        assert bare.name == "Applied Cryogenics"
        assert bare.website is None
        expanded = accelo.client.companies.get(company_id, fields=("status(title,standing)", "website"))
        assert expanded.status is not None
        assert expanded.status.title == "Prospect"
        assert expanded.status_id == expanded.status.id
        assert expanded.website == "cryo.example"


class TestContacts:
    def test_a_contact_is_created_with_its_affiliation(self, accelo: Harness) -> None:
        company = accelo.client.companies.create("Planet Express")
        contact = accelo.client.contacts.create(
            company.id,
            "Hubert",
            "Farnsworth",
            fields={"email": "hubert@planetexpress.example", "phone": "555-0100", "position": "Owner"},
        )
        assert contact.default_affiliation_id is not None
        affiliation = accelo.client.affiliations.get(contact.default_affiliation_id)
        assert affiliation.company_id == company.id
        assert affiliation.contact_id == contact.id
        assert (affiliation.email, affiliation.phone, affiliation.position) == (
            "hubert@planetexpress.example",
            "555-0100",
            "Owner",
        )

    def test_contact_writes_and_deactivation(self, accelo: Harness) -> None:
        company_id = accelo.sim.user_create_company("Planet Express")
        contact_id = accelo.sim.user_create_contact(company_id, "Philip", "Fry")
        updated = accelo.client.contacts.update(contact_id, {"middlename": "J.", "title": "Mr"})
        assert (updated.middlename, updated.title) == ("J.", "Mr")
        with pytest.raises(NotWritable, match="affiliation"):
            accelo.client.contacts.update(contact_id, {"email": "fry@example.com"})
        accelo.client.contacts.deactivate(contact_id)
        assert accelo.client.contacts.get(contact_id).standing == "inactive"  # deactivated, not deleted

    def test_a_taken_username_is_a_conflict(self, accelo: Harness) -> None:
        company_id = accelo.sim.user_create_company("Planet Express")
        accelo.sim.user_create_contact(company_id, "Turanga", "Leela", username="leela")
        other = accelo.sim.user_create_contact(company_id, "Amy", "Wong")
        with pytest.raises(AcceloDuplicate) as raised:
            accelo.client.contacts.update(other, {"username": "leela"})
        assert isinstance(raised.value, Conflict)

    def test_email_filters_travel_as_json(self, accelo: Harness) -> None:
        company_id = accelo.sim.user_create_company("Planet Express")
        wanted = accelo.sim.user_create_contact(company_id, "Amy", "Wong", email="amy.wong@marslab.example")
        accelo.sim.user_create_contact(company_id, "Amy", "Other", email="other@marslab.example")
        accelo.sim.calls.reset()

        found = list(accelo.client.affiliations.iterate(Filter("email", ("Amy.Wong@marslab.example",))))

        assert [affiliation.contact_id for affiliation in found] == [wanted]
        assert accelo.calls("/affiliations", method="GET") == 1  # POST with "_method": "GET", counted as a GET


class TestAffiliatedContacts:
    def test_reading_contacts_with_their_email_phone_and_position(self, accelo: Harness) -> None:
        sim = accelo.sim
        company_id = sim.user_create_company("Planet Express")
        ids = [
            sim.user_create_contact(company_id, f"Crew{n}", "Member", email=f"crew{n}@pe.example", position="Crew")
            for n in range(3)
        ]
        sim.calls.reset()

        people = accelo.client.affiliated_contacts.get_many(ids)

        assert [people[i].email for i in ids] == [f"crew{n}@pe.example" for n in range(3)]
        assert {people[i].position for i in ids} == {"Crew"}
        assert people[ids[0]].company_id == company_id
        assert accelo.api_calls() == 2  # one bulk read of contacts, one of their affiliations

    def test_one_write_per_side_that_changes(self, accelo: Harness) -> None:
        sim = accelo.sim
        company_id = sim.user_create_company("Planet Express")
        contact_id = sim.user_create_contact(company_id, "Bender", "Rodriguez", email="bender@pe.example")
        affiliation_id = sim.record("contact", contact_id)["default_affiliation"]  # type: ignore[index]
        sim.calls.reset()

        contact, affiliation = accelo.client.affiliated_contacts.update(
            contact_id,
            {
                "surname": "Rodríguez",
                "email": "bender.rodriguez@pe.example",
                "phone": "555-0199",
                "position": "Bending",
            },
            affiliation_id=affiliation_id,
        )

        assert contact is not None
        assert contact.surname == "Rodríguez"
        assert affiliation is not None
        assert affiliation.email == "bender.rodriguez@pe.example"
        assert affiliation.position == "Bending"
        assert accelo.calls("/contacts/{id:int}", method="PUT") == 1
        assert accelo.calls("/affiliations/{id:int}", method="PUT") == 1
        assert accelo.api_calls() == 2

    def test_affiliation_only_changes_find_the_default_affiliation(self, accelo: Harness) -> None:
        company_id = accelo.sim.user_create_company("Planet Express")
        contact_id = accelo.sim.user_create_contact(company_id, "Hermes", "Conrad")
        contact, affiliation = accelo.client.affiliated_contacts.update(contact_id, {"mobile": "+1 555 0123"})
        assert contact is None
        assert affiliation is not None
        assert affiliation.mobile == "+1 555 0123"
        assert accelo.client.affiliated_contacts.get(contact_id).mobile == "+1 555 0123"

    def test_creating_one_with_a_mobile(self, accelo: Harness) -> None:
        company_id = accelo.sim.user_create_company("Planet Express")
        person = accelo.client.affiliated_contacts.create(
            company_id,
            {"firstname": "Zoidberg", "surname": "John", "email": "zoidberg@pe.example", "mobile": "555-0142"},
        )
        assert person.firstname == "Zoidberg"
        assert (person.email, person.mobile, person.company_id) == ("zoidberg@pe.example", "555-0142", company_id)

    def test_an_unknown_field_is_refused(self, accelo: Harness) -> None:
        with pytest.raises(NotWritable):
            accelo.client.affiliated_contacts.update(1, {"shoe_size": "12"})

    def test_company_contacts_and_affiliation_lookups(self, accelo: Harness) -> None:
        sim = accelo.sim
        first = sim.user_create_company("Planet Express")
        second = sim.user_create_company("MomCorp")
        fry = sim.user_create_contact(first, "Philip", "Fry")
        sim.user_create_contact(second, "Walt", "Mom")
        extra = accelo.client.affiliations.create(second, fry, fields={"position": "Delivery boy"})
        assert [c.id for c in accelo.client.companies.contacts(first)] == [fry]
        assert {a.company_id for a in accelo.client.affiliations.of_contact(fry)} == {first, second}
        assert [a.id for a in accelo.client.affiliations.of_company(second)][-1] == extra.id
        accelo.client.affiliations.delete(extra.id)
        assert accelo.client.find_missing("affiliation", [extra.id]) == {extra.id}


@pytest.mark.parametrize("size", [0, 101, 1000])
def test_a_page_size_accelo_does_not_allow_is_refused_before_any_call(local: Harness, size: int) -> None:
    message = f"_limit must be between 1 and 100, got {size}"
    with pytest.raises(ValueError, match=message):
        local.client.companies.iterate(page_size=size)
    with pytest.raises(ValueError, match=message):
        local.client.companies.page(limit=size)
    with pytest.raises(ValueError, match=message):
        local.client.profiles.iterate_values("contact", page_size=size)
    assert local.api_calls() == 0
