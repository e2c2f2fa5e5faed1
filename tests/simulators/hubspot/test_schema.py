"""Properties, groups, pipelines, owners and associations at the wire level (reference/hubspot-api.md §3-§5)."""

from __future__ import annotations

import httpx

from interlink.simulators.hubspot import HubSpotSimulator

PROPERTY = {
    "name": "sync_status",
    "label": "Sync status",
    "type": "enumeration",
    "fieldType": "select",
    "groupName": "contactinformation",
    "options": [
        {"label": "Active", "value": "active", "hidden": False},
        {"label": "Paused", "value": "paused", "hidden": False},
    ],
}


def test_property_create_read_and_refusals(api: httpx.Client) -> None:
    created = api.post("/crm/v3/properties/contacts", json=PROPERTY)
    assert created.status_code == 201
    body = created.json()
    assert body["hubspotDefined"] is False
    assert body["modificationMetadata"]["readOnlyValue"] is False
    assert [option["value"] for option in body["options"]] == ["active", "paused"]
    assert api.post("/crm/v3/properties/0-1", json=PROPERTY).status_code == 409  # type ids work too
    assert api.get("/crm/v3/properties/contacts/sync_status").json()["label"] == "Sync status"
    assert (
        api.post("/crm/v3/properties/contacts", json={**PROPERTY, "name": "x", "fieldType": "number"}).status_code
        == 400
    )
    assert api.post("/crm/v3/properties/contacts", json={**PROPERTY, "name": "y", "options": []}).status_code == 400
    assert (
        api.post("/crm/v3/properties/contacts", json={**PROPERTY, "name": "z", "groupName": "nope"}).status_code == 400
    )
    assert api.post("/crm/v3/properties/contacts", json={**PROPERTY, "name": "Bad Name"}).status_code == 400
    record = api.post(
        "/crm/v3/objects/contacts", json={"properties": {"email": "p@example.com", "sync_status": "paused"}}
    )
    assert record.status_code == 201
    assert api.post("/crm/v3/objects/contacts", json={"properties": {"sync_status": "gone"}}).status_code == 400
    listed = {item["name"]: item for item in api.get("/crm/v3/properties/contacts").json()["results"]}
    assert listed["email"]["hubspotDefined"] is True
    assert listed["hs_object_id"]["modificationMetadata"]["readOnlyValue"] is True
    assert listed["hubspot_owner_id"]["referencedObjectType"] == "OWNER"
    assert [option["value"] for option in listed["hubspot_owner_id"]["options"]] == ["101", "102"]
    assert api.delete("/crm/v3/properties/contacts/email").status_code == 400  # HubSpot's own cannot be archived
    assert api.delete("/crm/v3/properties/contacts/sync_status").status_code == 204
    assert api.get("/crm/v3/properties/contacts/sync_status").status_code == 404


def test_unique_properties_and_upserts_by_them(api: httpx.Client) -> None:
    unique = {
        "name": "external_id",
        "label": "External id",
        "type": "string",
        "fieldType": "text",
        "groupName": "companyinformation",
        "hasUniqueValue": True,
    }
    assert api.post("/crm/v3/properties/companies", json=unique).status_code == 201
    first = api.post("/crm/v3/objects/companies", json={"properties": {"name": "A", "external_id": "E-1"}}).json()["id"]
    duplicate = api.post("/crm/v3/objects/companies", json={"properties": {"name": "B", "external_id": "E-1"}})
    assert duplicate.status_code == 409
    assert duplicate.json()["message"].endswith(f"Existing ID: {first}")
    upsert = api.post(
        "/crm/v3/objects/companies/batch/upsert",
        json={
            "inputs": [
                {"id": "E-1", "idProperty": "external_id", "properties": {"name": "A2"}},
                {"id": "E-2", "idProperty": "external_id", "properties": {"name": "C"}},
            ]
        },
    ).json()
    assert [(item["new"], item["properties"]["name"]) for item in upsert["results"]] == [(False, "A2"), (True, "C")]
    assert api.get("/crm/v3/objects/companies/E-2", params={"idProperty": "external_id"}).status_code == 200
    assert (
        api.post(
            "/crm/v3/objects/companies/batch/upsert",
            json={"inputs": [{"id": "x", "idProperty": "name", "properties": {}}]},
        ).status_code
        == 400
    )


def test_groups(api: httpx.Client) -> None:
    group = {"name": "accord_collaboration", "label": "Accord Customer Collaboration Data", "displayOrder": -1}
    created = api.post("/crm/v3/properties/deals/groups", json=group)
    assert created.status_code == 201
    assert created.json() == {**group, "archived": False}
    assert api.post("/crm/v3/properties/deals/groups", json=group).status_code == 409
    assert api.get("/crm/v3/properties/deals/groups/accord_collaboration").json()["label"] == group["label"]
    assert {item["name"] for item in api.get("/crm/v3/properties/deals/groups").json()["results"]} == {
        "dealinformation",
        "accord_collaboration",
    }


def test_deal_stages_follow_the_pipeline(api: httpx.Client) -> None:
    pipelines = api.get("/crm/v3/pipelines/deals").json()["results"]
    assert pipelines[0]["id"] == "default"
    assert pipelines[0]["stages"][-2]["metadata"] == {"probability": "1.0", "isClosed": "true"}
    assert (
        api.post(
            "/crm/v3/objects/deals", json={"properties": {"dealname": "D", "dealstage": "contractsent"}}
        ).status_code
        == 201
    )
    wrong = api.post("/crm/v3/objects/deals", json={"properties": {"dealname": "D", "dealstage": "won-ish"}})
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["code"] == "INVALID_OPTION"
    assert api.post("/crm/v3/objects/deals", json={"properties": {"hubspot_owner_id": "999"}}).status_code == 400
    assert api.get("/crm/v3/pipelines/deals/default/stages").json()["results"][0]["id"] == "appointmentscheduled"


def test_association_shapes(api: httpx.Client, simulator: HubSpotSimulator) -> None:
    contact = simulator.seed("contacts", [{"email": "a@example.com"}])[0]
    company, other = simulator.seed("companies", [{"name": "C"}, {"name": "D"}])
    default = api.put(f"/crm/v4/objects/contacts/{contact}/associations/default/companies/{company}")
    assert default.status_code == 200
    assert default.json()["results"][0]["associationSpec"] == {
        "associationCategory": "HUBSPOT_DEFINED",
        "associationTypeId": 279,
    }
    labelled = api.put(
        f"/crm/v4/objects/contact/{contact}/associations/company/{other}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    )
    assert labelled.status_code == 201
    assert labelled.json() == {
        "fromObjectTypeId": "0-1",
        "fromObjectId": contact,
        "toObjectTypeId": "0-2",
        "toObjectId": other,
        "labels": ["Primary"],
    }
    # Only one primary company: making the first one primary moves the label.
    api.put(
        f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    )
    assert simulator.associations_of("contacts", contact, "companies") == {company: [1, 279], other: [279]}
    assert simulator.associations_of("companies", company, "contacts") == {contact: [2, 280]}
    read = api.post(
        "/crm/v4/associations/contacts/companies/batch/read", json={"inputs": [{"id": contact}, {"id": "1"}]}
    )
    assert read.status_code == 207
    assert isinstance(read.json()["results"][0]["to"][0]["toObjectId"], str)
    bad = api.put(
        f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 341}],
    )
    assert bad.status_code == 400
    v3 = api.get(f"/crm/v3/objects/contacts/{contact}", params={"associations": "companies"}).json()["associations"][
        "companies"
    ]["results"]
    assert {(item["id"], item["type"]) for item in v3} == {
        (company, "contact_to_company"),
        (company, "contact_to_company_unlabeled"),
        (other, "contact_to_company_unlabeled"),
    }
