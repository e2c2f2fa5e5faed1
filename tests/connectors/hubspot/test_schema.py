"""Properties (types, options, idempotent ensure), associations v4, pipelines and owners through the client."""

from __future__ import annotations

import threading

import pytest

from interlink.connectors.hubspot.associations import AssociationPair, AssociationTypeIds
from interlink.connectors.hubspot.client import HubSpotClient
from interlink.connectors.hubspot.errors import HubSpotNotFound, HubSpotPropertyMismatch
from interlink.connectors.hubspot.schemas import AssociationSpec, PropertyOption, PropertySpec
from interlink.simulators.hubspot import HubSpotSimulator

STATUS = PropertySpec(
    name="accord_status",
    label="Accord status",
    type="enumeration",
    field_type="select",
    group_name="accord_collaboration",
    options=[
        PropertyOption(label="On Track", value="on_track", display_order=0),
        PropertyOption(label="At Risk", value="at_risk", display_order=1),
    ],
)


def test_properties_list_types_and_enumeration_options(hubspot: HubSpotClient) -> None:
    properties = {definition.name: definition for definition in hubspot.properties.get_all("contacts")}
    lifecycle = properties["lifecyclestage"]
    assert lifecycle.type == "enumeration"
    assert lifecycle.option_values[:3] == ["subscriber", "lead", "marketingqualifiedlead"]
    assert properties["createdate"].read_only
    assert not properties["email"].read_only
    stages = hubspot.properties.get("deals", "dealstage")
    assert stages is not None
    assert "closedwon" in stages.option_values
    assert hubspot.properties.get("contacts", "no_such_property") is None


def test_ensure_property_group_and_property_are_idempotent(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    group = hubspot.properties.ensure_property_group(
        "deals", "accord_collaboration", "Accord Customer Collaboration Data"
    )
    assert group.created
    again = hubspot.properties.ensure_property_group("deals", "accord_collaboration", "Accord collaboration")
    assert not again.created
    assert again.cosmetic == {"label": ("Accord Customer Collaboration Data", "Accord collaboration")}

    created = hubspot.properties.ensure_property("deals", STATUS)
    assert created.created
    assert created.value.option_values == ["on_track", "at_risk"]
    simulator.calls.reset()
    same = hubspot.properties.ensure_property("deals", STATUS)
    assert not same.created
    assert same.cosmetic == {}
    assert simulator.calls.count(method="POST") == 0  # nothing created the second time

    relabelled = STATUS.model_copy(update={"label": "Status (Accord)", "field_type": "radio"})
    cosmetic = hubspot.properties.ensure_property("deals", relabelled)
    assert set(cosmetic.cosmetic) == {"label", "fieldType"}  # an admin may relabel; values still fit


def test_ensure_property_reports_a_clash_with_a_typed_error(hubspot: HubSpotClient) -> None:
    hubspot.properties.ensure_property_group("deals", "accord_collaboration", "Accord")
    hubspot.properties.ensure_property("deals", STATUS)
    as_number = STATUS.model_copy(update={"type": "number", "field_type": "number", "options": []})
    with pytest.raises(HubSpotPropertyMismatch, match="accord_status") as clash:
        hubspot.properties.ensure_property("deals", as_number)
    assert set(clash.value.differences) == {"type"}
    more_options = STATUS.model_copy(
        update={"options": [*STATUS.options, PropertyOption(label="Stalled", value="stalled")]}
    )
    with pytest.raises(HubSpotPropertyMismatch) as missing:
        hubspot.properties.ensure_property("deals", more_options)
    assert set(missing.value.differences) == {"options"}
    with pytest.raises(HubSpotPropertyMismatch, match="hs_object_id"):
        hubspot.properties.ensure_property(
            "contacts",
            PropertySpec(
                name="hs_object_id", label="Id", type="number", field_type="number", group_name="contactinformation"
            ),
        )


def test_concurrent_ensures_create_once(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    hubspot.properties.ensure_property_group("deals", "accord_collaboration", "Accord")
    results: list[bool] = []
    errors: list[Exception] = []

    def ensure() -> None:
        try:
            results.append(hubspot.properties.ensure_property("deals", STATUS).created)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=ensure) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results.count(True) == 1
    assert simulator.calls.count(route="/crm/v3/properties/{object_type}", method="POST", status=201) == 1


def test_associations_v4(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    companies = simulator.seed("companies", [{"name": f"Co{n}"} for n in range(3)])
    contacts = simulator.seed("contacts", [{"email": f"k{n}@example.com"} for n in range(3)])
    deal = simulator.seed("deals", [{"dealname": "Big"}])[0]

    hubspot.associations.associate_default("contacts", contacts[0], "companies", companies[0])
    hubspot.associations.associate(
        "contacts",
        contacts[0],
        "companies",
        companies[1],
        [AssociationSpec(association_type_id=AssociationTypeIds.CONTACT_TO_COMPANY_PRIMARY)],
    )
    hubspot.associations.batch_associate_default(
        "deals", "companies", [AssociationPair(deal, companies[2]), AssociationPair(deal, companies[0])]
    )

    linked = {
        item.to_object_id: item.type_ids for item in hubspot.associations.iterate("contacts", contacts[0], "companies")
    }
    assert linked == {
        companies[0]: {AssociationTypeIds.CONTACT_TO_COMPANY},
        companies[1]: {AssociationTypeIds.CONTACT_TO_COMPANY, AssociationTypeIds.CONTACT_TO_COMPANY_PRIMARY},
    }
    both = hubspot.associations.batch_read("companies", "contacts", [companies[0], companies[2]])
    assert [item.to_object_id for item in both[companies[0]]] == [contacts[0]]
    assert both[companies[2]] == []
    deal_companies = hubspot.associations.batch_read("deals", "companies", [deal])[deal]
    assert {item.to_object_id for item in deal_companies} == {companies[0], companies[2]}

    hubspot.associations.remove("contacts", contacts[0], "companies", companies[0])
    hubspot.associations.batch_remove("deals", "companies", [AssociationPair(deal, companies[2])])
    assert [item.to_object_id for item in hubspot.associations.iterate("contacts", contacts[0], "companies")] == [
        companies[1]
    ]
    assert simulator.associations_of("deals", deal, "companies") == {companies[0]: [341]}
    labels = {label.type_id: label.label for label in hubspot.associations.labels("contacts", "companies")}
    assert labels == {1: "Primary", 279: None}


def test_association_pages(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    company = simulator.seed("companies", [{"name": "Big Co"}])[0]
    contacts = simulator.seed("contacts", [{"email": f"m{n}@example.com"} for n in range(620)])
    for contact in contacts:
        simulator.associate_as_user("contacts", contact, "companies", company)
    simulator.calls.reset()
    linked = [item.to_object_id for item in hubspot.associations.iterate("companies", company, "contacts")]
    assert linked == contacts
    assert simulator.calls.count() == 2  # 500 per page


def test_pipelines_and_owners(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    pipelines = hubspot.pipelines.get_all("deals")
    assert [pipeline.id for pipeline in pipelines] == ["default"]
    stages = {stage.id: stage for stage in pipelines[0].stages}
    assert stages["closedwon"].is_closed
    assert stages["closedwon"].probability == 1.0
    assert not stages["appointmentscheduled"].is_closed
    assert [stage.id for stage in hubspot.pipelines.stages("default")] == list(stages)
    assert hubspot.pipelines.get("default").label == "Sales Pipeline"
    with pytest.raises(HubSpotNotFound):
        hubspot.pipelines.get("nope")

    for n in range(600):
        simulator.add_owner(f"owner{n}@example.com", "Owner", str(n))
    owners = list(hubspot.owners.iterate())
    assert len(owners) == 602  # two default owners, then pages of 500
    found = hubspot.owners.find_by_email("OWNER7@example.com")
    assert found is not None
    assert found.last_name == "7"
    assert hubspot.owners.get(found.id).email == "owner7@example.com"
    assert hubspot.owners.exists(found.id)
    assert not hubspot.owners.exists("424242")
