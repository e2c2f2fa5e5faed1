"""The objects API: one record, lists, batches, merges, history — against the simulator, both transports."""

from __future__ import annotations

import pytest

from interlink.connectors.hubspot.associations import AssociationTypeIds
from interlink.connectors.hubspot.client import HubSpotClient
from interlink.connectors.hubspot.errors import HubSpotConflict, HubSpotInvalidRequest, HubSpotNotFound
from interlink.connectors.hubspot.objects import AssociationInput, RecordCreate, RecordUpdate, RecordUpsert
from interlink.simulators.hubspot import HubSpotSimulator


def test_create_get_update_archive_a_contact(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    created = hubspot.contacts.create({"email": "ada@example.com", "firstname": "Ada", "lifecyclestage": "lead"})
    assert created.properties["email"] == "ada@example.com"
    assert created.properties["hs_object_id"] == created.id

    fetched = hubspot.contacts.get(created.id, properties=["email", "firstname", "lifecyclestage", "phone"])
    assert fetched.get("lifecyclestage") == "lead"
    assert fetched.get("phone") is None  # defined, no value
    assert fetched.modified_at_millis("contacts") is not None

    updated = hubspot.contacts.update(created.id, {"lastname": "Lovelace", "firstname": None})
    assert updated.get("lastname") == "Lovelace"
    assert updated.get("firstname") is None  # None clears the property
    assert updated.updated_at >= created.updated_at

    hubspot.contacts.archive(created.id)
    with pytest.raises(HubSpotNotFound):
        hubspot.contacts.get(created.id)
    assert hubspot.contacts.get(created.id, archived=True).archived is True


def test_get_by_a_unique_property_and_with_history(hubspot: HubSpotClient) -> None:
    created = hubspot.contacts.create({"email": "grace@example.com", "lifecyclestage": "lead"})
    hubspot.contacts.update(created.id, {"lifecyclestage": "customer"})
    found = hubspot.contacts.get("GRACE@example.com", id_property="email", properties_with_history=["lifecyclestage"])
    assert found.id == created.id
    assert found.properties_with_history is not None
    history = found.properties_with_history["lifecyclestage"]
    assert [version.value for version in history] == ["customer", "lead"]  # newest first
    assert history[0].source_type == "INTEGRATION"


def test_refused_writes_are_typed(hubspot: HubSpotClient) -> None:
    first = hubspot.contacts.create({"email": "dup@example.com"})
    with pytest.raises(HubSpotConflict) as conflict:
        hubspot.contacts.create({"email": "DUP@example.com"})
    assert conflict.value.existing_id == first.id
    with pytest.raises(HubSpotInvalidRequest) as unknown:
        hubspot.contacts.create({"email": "x@example.com", "favourite_colour": "blue"})
    assert unknown.value.codes == ["PROPERTY_DOESNT_EXIST"]
    with pytest.raises(HubSpotInvalidRequest) as option:
        hubspot.contacts.update(first.id, {"lifecyclestage": "VIP"})
    assert option.value.codes == ["INVALID_OPTION"]
    assert option.value.category == "VALIDATION_ERROR"


def test_listing_pages_past_the_first_page(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    ids = simulator.seed("companies", [{"name": f"Company {n}", "domain": f"c{n}.example"} for n in range(250)])
    simulator.calls.reset()
    listed = list(hubspot.companies.iterate(properties=["name", "domain"]))
    assert [company.id for company in listed] == ids
    assert listed[0].get("domain") == "c0.example"
    assert simulator.calls.count(route="/crm/v3/objects/{object_type}") == 3  # 100 + 100 + 50

    page = hubspot.companies.page(limit=100)
    assert len(page.results) == 100
    assert page.next_after is not None
    last = hubspot.companies.page(limit=100, after=hubspot.companies.page(limit=100, after=page.next_after).next_after)
    assert len(last.results) == 50
    assert last.next_after is None


def test_listing_archived_records_and_history_pages(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    simulator.seed("deals", [{"dealname": f"Deal {n}"} for n in range(60)])
    archived = simulator.seed("deals", [{"properties": {"dealname": "Old"}, "archived": True}])
    assert [deal.id for deal in hubspot.deals.iterate(archived=True)] == archived
    simulator.calls.reset()
    assert len(list(hubspot.deals.iterate(properties_with_history=["dealname"]))) == 60
    assert simulator.calls.count(route="/crm/v3/objects/{object_type}") == 2  # 50 per page with history


def test_batch_read_reports_missing_ids_and_resolves_merged_ones(
    hubspot: HubSpotClient, simulator: HubSpotSimulator
) -> None:
    ids = simulator.seed("contacts", [{"email": f"p{n}@example.com", "firstname": f"P{n}"} for n in range(230)])
    primary, secondary = ids[0], ids[1]
    merged = simulator.merge_as_user("contacts", primary, secondary)
    simulator.archive_as_user("contacts", ids[2])
    simulator.calls.reset()

    result = hubspot.contacts.batch_read([*ids, "999999"], properties=["email", "firstname"])

    assert simulator.calls.count(route="/crm/v3/objects/{object_type}/batch/read") == 3  # chunks of 100
    assert sorted(result.missing) == sorted([ids[2], "999999"])
    assert result.redirects == {primary: merged["id"], secondary: merged["id"]}
    assert result.records[primary].id == merged["id"] == result.records[secondary].id
    assert set(result.records[primary].merged_ids) == {primary, secondary}
    assert result.records[ids[100]].get("email") == "p100@example.com"
    assert len(result.records) == 229  # every id asked for except the archived one and the unknown one
    by_email = hubspot.contacts.batch_read(["P5@example.com", "nobody@example.com"], id_property="email")
    assert by_email.records["P5@example.com"].id == ids[5]
    assert by_email.missing == ["nobody@example.com"]
    by_old_email = hubspot.contacts.batch_read(["p1@example.com"], id_property="email")  # the merged-away address
    assert by_old_email.records["p1@example.com"].id == merged["id"]


def test_batch_create_chunks_and_reports_failures_per_input(
    hubspot: HubSpotClient, simulator: HubSpotSimulator
) -> None:
    existing = simulator.seed("contacts", [{"email": "taken@example.com"}])[0]
    inputs = [RecordCreate({"email": f"new{n}@example.com", "firstname": f"N{n}"}) for n in range(205)]
    inputs[150] = RecordCreate({"email": "new150@example.com", "lifecyclestage": "VIP"})  # invalid option
    inputs[42] = RecordCreate({"email": "taken@example.com"})  # duplicate: HubSpot refuses its whole chunk

    outcome = hubspot.contacts.batch_create(inputs)

    assert [item.index for item in outcome.failures] == [42, 150]
    conflict = outcome.items[42].error
    assert isinstance(conflict, HubSpotConflict)
    assert conflict.existing_id == existing
    invalid = outcome.items[150].error
    assert isinstance(invalid, HubSpotInvalidRequest)
    assert invalid.codes == ["INVALID_OPTION"]
    assert len(outcome.records) == 203
    assert outcome.items[7].record is not None
    assert outcome.items[7].record.get("firstname") == "N7"
    assert simulator.count("contacts") == 204


def test_batch_update_and_upsert(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    ids = simulator.seed("contacts", [{"email": f"u{n}@example.com"} for n in range(120)])
    merged = simulator.merge_as_user("contacts", ids[0], ids[1])
    updates = [RecordUpdate(record_id, {"jobtitle": f"T{n}"}) for n, record_id in enumerate(ids)]
    updates[5] = RecordUpdate(ids[5], {"lifecyclestage": "nonsense"})

    outcome = hubspot.contacts.batch_update(updates)

    failed = {item.index: item.error for item in outcome.failures}
    assert set(failed) == {0, 1, 5}  # merged-away ids fail in a batch update (HubSpot's rule), and the bad option
    assert isinstance(failed[0], HubSpotNotFound)
    assert isinstance(failed[5], HubSpotInvalidRequest)
    assert outcome.items[110].record is not None
    assert outcome.items[110].record.get("jobtitle") == "T110"
    hubspot.contacts.update(ids[0], {"jobtitle": "via the merged id"})  # a single PATCH follows the merge
    assert simulator.record("contacts", merged["id"], properties=["jobtitle"])["properties"]["jobtitle"] == (  # type: ignore[index]
        "via the merged id"
    )

    upserted = hubspot.contacts.batch_upsert(
        [
            RecordUpsert("u50@example.com", {"firstname": "Fifty"}),
            RecordUpsert("brand.new@example.com", {"firstname": "New"}),
        ],
        id_property="email",
    )
    assert [item.created for item in upserted.items] == [False, True]
    assert upserted.items[0].record is not None
    assert upserted.items[0].record.id == ids[50]
    assert simulator.find_by_email("brand.new@example.com") is not None


def test_batch_archive_and_create_with_associations(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    company = hubspot.companies.create({"name": "Acme", "domain": "acme.example"})
    contact = hubspot.contacts.create(
        {"email": "c@acme.example"},
        associations=[AssociationInput(company.id, AssociationTypeIds.CONTACT_TO_COMPANY_PRIMARY)],
    )
    fetched = hubspot.contacts.get(contact.id, associations=["companies"])
    assert fetched.associations is not None
    assert {item.type for item in fetched.associations["companies"].results} == {
        "contact_to_company",
        "contact_to_company_unlabeled",
    }
    ids = simulator.seed("contacts", [{"email": f"gone{n}@example.com"} for n in range(130)])
    hubspot.contacts.batch_archive(ids)
    assert simulator.count("contacts") == 1
    assert simulator.count("contacts", archived=True) == 130


def test_merge_mints_a_new_id_that_old_ids_resolve_to(hubspot: HubSpotClient) -> None:
    first = hubspot.contacts.create({"email": "one@example.com", "firstname": "One"})
    second = hubspot.contacts.create({"email": "two@example.com", "phone": "+44 1"})
    merged = hubspot.contacts.merge(first.id, second.id)
    assert merged.id not in {first.id, second.id}
    assert set(merged.merged_ids) == {first.id, second.id}
    via_old = hubspot.contacts.get(second.id, properties=["email", "phone", "hs_additional_emails"])
    assert via_old.id == merged.id
    assert via_old.get("email") == "one@example.com"  # the primary's values win
    assert via_old.get("phone") == "+44 1"  # the secondary fills what the primary lacked
    assert via_old.get("hs_additional_emails") == "two@example.com"


def test_a_batch_upsert_of_250_goes_in_three_calls(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    existing = simulator.seed("contacts", [{"email": f"old{n}@example.com"} for n in range(100)])
    inputs = [RecordUpsert(f"old{n}@example.com", {"firstname": f"Old {n}"}) for n in range(100)]
    inputs += [RecordUpsert(f"new{n}@example.com", {"firstname": f"New {n}"}) for n in range(150)]
    simulator.calls.reset()

    outcome = hubspot.contacts.batch_upsert(inputs, id_property="email")

    # HubSpot takes at most 100 inputs a call (the simulator refuses more with a 400): 100 + 100 + 50.
    assert simulator.calls.count(route="/crm/v3/objects/{object_type}/batch/upsert", status=200) == 3
    assert simulator.calls.count() == 3
    assert outcome.ok
    assert [item.created for item in outcome.items] == [False] * 100 + [True] * 150
    assert [item.record.id for item in outcome.items[:100] if item.record] == existing
    assert simulator.count("contacts") == 250
    assert simulator.find_by_email("new149@example.com") is not None
    updated = simulator.record("contacts", existing[42], properties=["firstname"])
    assert updated is not None
    assert updated["properties"]["firstname"] == "Old 42"
