"""The simulator's wire format and record semantics, checked at the HTTP level (reference/hubspot-api.md §2)."""

from __future__ import annotations

import re

import httpx

from interlink.simulators.hubspot import HubSpotSimulator

CONTACTS = "/crm/v3/objects/contacts"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_create_answers_201_with_string_values_and_stamped_properties(api: httpx.Client) -> None:
    created = api.post("/crm/v3/objects/companies", json={"properties": {"name": "Acme", "numberofemployees": 12}})
    assert created.status_code == 201
    body = created.json()
    assert set(body) >= {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert isinstance(body["id"], str)
    assert body["archived"] is False
    properties = body["properties"]
    assert properties["numberofemployees"] == "12"  # every value is a string
    assert properties["hs_object_id"] == body["id"]
    assert ISO_MS.match(properties["createdate"])
    assert ISO_MS.match(properties["hs_lastmodifieddate"])
    assert "lastmodifieddate" not in properties  # companies use hs_lastmodifieddate
    contact = api.post(CONTACTS, json={"properties": {"email": "a@example.com"}}).json()
    assert ISO_MS.match(contact["properties"]["lastmodifieddate"])
    assert "hs_lastmodifieddate" not in contact["properties"]


def test_get_defaults_requested_properties_and_nulls(api: httpx.Client) -> None:
    record_id = api.post(CONTACTS, json={"properties": {"email": "b@example.com", "city": "Leeds"}}).json()["id"]
    default = api.get(f"{CONTACTS}/{record_id}").json()["properties"]
    assert set(default) == {"firstname", "lastname", "email", "createdate", "lastmodifieddate", "hs_object_id"}
    assert default["firstname"] is None
    asked = api.get(f"{CONTACTS}/{record_id}", params={"properties": "city,phone,no_such"}).json()["properties"]
    assert asked["city"] == "Leeds"
    assert asked["phone"] is None
    assert "no_such" not in asked


def test_list_parameters_may_be_repeated_or_comma_separated(api: httpx.Client) -> None:
    api.post(CONTACTS, json={"properties": {"email": "c@example.com", "city": "York", "phone": "1"}})
    repeated = api.get(CONTACTS, params=[("properties", "city"), ("properties", "phone"), ("archived", "False")])
    commas = api.get(CONTACTS, params={"properties": "city,phone", "archived": "false"})
    assert repeated.status_code == commas.status_code == 200
    assert repeated.json()["results"][0]["properties"] == commas.json()["results"][0]["properties"]
    assert {"city", "phone"} <= set(commas.json()["results"][0]["properties"])


def test_paging_is_left_out_on_the_last_page(api: httpx.Client, simulator: HubSpotSimulator) -> None:
    ids = simulator.seed("contacts", [{"email": f"p{n}@example.com"} for n in range(15)])
    first = api.get(CONTACTS, params={"limit": 10}).json()
    assert [item["id"] for item in first["results"]] == ids[:10]
    after = first["paging"]["next"]["after"]
    assert after == ids[10]
    assert "after=" in first["paging"]["next"]["link"]
    last = api.get(CONTACTS, params={"limit": 10, "after": after}).json()
    assert [item["id"] for item in last["results"]] == ids[10:]
    assert "paging" not in last
    assert api.get(CONTACTS, params={"limit": 101}).status_code == 400


def test_error_bodies(api: httpx.Client, simulator: HubSpotSimulator) -> None:
    unknown = api.post(CONTACTS, json={"properties": {"email": "e@example.com", "shoe_size": "9"}})
    assert unknown.status_code == 400
    body = unknown.json()
    assert body["status"] == "error"
    assert body["category"] == "VALIDATION_ERROR"
    assert body["correlationId"]
    assert body["message"].startswith("Property values were not valid: [")
    assert body["errors"] == [
        {
            "message": 'Property "shoe_size" does not exist',
            "code": "PROPERTY_DOESNT_EXIST",
            "context": {"propertyName": ["shoe_size"]},
        }
    ]
    option = api.post(CONTACTS, json={"properties": {"email": "e@example.com", "lifecyclestage": "Lead"}})
    assert option.status_code == 400
    assert option.json()["errors"][0]["code"] == "INVALID_OPTION"
    read_only = api.post(CONTACTS, json={"properties": {"createdate": "2020-01-01T00:00:00Z"}})
    assert read_only.json()["errors"][0]["code"] == "READ_ONLY_VALUE"
    not_found = api.get(f"{CONTACTS}/987654")
    assert not_found.status_code == 404
    assert not_found.json()["category"] == "OBJECT_NOT_FOUND"
    bad_json = api.post(CONTACTS, content=b"{nope", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400
    assert bad_json.json()["category"] == "VALIDATION_ERROR"
    no_route = api.get("/crm/v3/nothing-here")
    assert no_route.status_code == 404
    assert no_route.json()["status"] == "error"


def test_authentication_and_scope_errors(api: httpx.Client, simulator: HubSpotSimulator) -> None:
    anonymous = api.get(CONTACTS, headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.json()["category"] == "INVALID_AUTHENTICATION"
    assert api.get(CONTACTS, headers={"Authorization": "Bearer pat-wrong"}).status_code == 401
    simulator.add_private_app_token("pat-contacts-only", scopes=["crm.objects.contacts.read"])
    limited = {"Authorization": "Bearer pat-contacts-only"}
    assert api.get(CONTACTS, headers=limited).status_code == 200
    denied = api.get("/crm/v3/objects/deals", headers=limited)
    assert denied.status_code == 403
    body = denied.json()
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.deals.read"]


def test_email_is_unique_with_the_existing_id_in_the_409(api: httpx.Client) -> None:
    first = api.post(CONTACTS, json={"properties": {"email": "Unique@Example.com"}}).json()
    again = api.post(CONTACTS, json={"properties": {"email": "unique@example.com"}})
    assert again.status_code == 409
    body = again.json()
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {first['id']}"
    other = api.post(CONTACTS, json={"properties": {"email": "other@example.com"}}).json()
    assert (
        api.patch(f"{CONTACTS}/{other['id']}", json={"properties": {"email": "unique@example.com"}}).status_code == 409
    )


def test_lifecyclestage_moves_only_forward_through_the_api(api: httpx.Client, simulator: HubSpotSimulator) -> None:
    record_id = api.post(
        CONTACTS, json={"properties": {"email": "l@example.com", "lifecyclestage": "customer"}}
    ).json()["id"]
    back = api.patch(f"{CONTACTS}/{record_id}", json={"properties": {"lifecyclestage": "lead"}})
    assert back.status_code == 400
    assert "only move forward" in back.json()["message"]
    assert (
        api.patch(f"{CONTACTS}/{record_id}", json={"properties": {"lifecyclestage": "evangelist"}}).status_code == 200
    )
    assert api.patch(f"{CONTACTS}/{record_id}", json={"properties": {"lifecyclestage": ""}}).status_code == 200  # clear
    assert api.patch(f"{CONTACTS}/{record_id}", json={"properties": {"lifecyclestage": "lead"}}).status_code == 200
    simulator.update_as_user("contacts", record_id, {"lifecyclestage": "subscriber"})  # a person may go back
    history = api.get(f"{CONTACTS}/{record_id}", params={"propertiesWithHistory": "lifecyclestage"}).json()
    versions = history["propertiesWithHistory"]["lifecyclestage"]
    assert [version["value"] for version in versions] == ["subscriber", "lead", "", "evangelist", "customer"]
    assert versions[0]["sourceType"] == "CRM_UI"
    assert versions[0]["sourceId"] == "userId:9001"
    assert versions[1]["sourceType"] == "INTEGRATION"
    assert versions[1]["sourceId"] == str(simulator.webhooks.settings.app_id)


def test_archive_and_restore(api: httpx.Client, simulator: HubSpotSimulator) -> None:
    record_id = api.post(CONTACTS, json={"properties": {"email": "gone@example.com"}}).json()["id"]
    assert api.delete(f"{CONTACTS}/{record_id}").status_code == 204
    assert api.get(f"{CONTACTS}/{record_id}").status_code == 404
    archived = api.get(f"{CONTACTS}/{record_id}", params={"archived": "true"}).json()
    assert archived["archived"] is True
    assert ISO_MS.match(archived["archivedAt"])
    assert [item["id"] for item in api.get(CONTACTS, params={"archived": "true"}).json()["results"]] == [record_id]
    # The email is free while the record is in the recycle bin; restoring then collides.
    twin = api.post(CONTACTS, json={"properties": {"email": "gone@example.com"}}).json()["id"]
    assert api.post(f"/_sim/ui/contacts/{record_id}/restore").status_code == 409
    api.delete(f"{CONTACTS}/{twin}")
    assert api.post(f"/_sim/ui/contacts/{record_id}/restore").status_code == 200
    assert api.get(f"{CONTACTS}/{record_id}").json()["archived"] is False


def test_merges_mint_a_new_id_that_old_ids_resolve_to(api: httpx.Client, simulator: HubSpotSimulator) -> None:
    primary = api.post(CONTACTS, json={"properties": {"email": "one@example.com", "firstname": "One"}}).json()["id"]
    secondary = api.post(CONTACTS, json={"properties": {"email": "two@example.com", "city": "Hull"}}).json()["id"]
    merged = api.post(f"{CONTACTS}/merge", json={"primaryObjectId": primary, "objectIdToMerge": secondary})
    assert merged.status_code == 200
    new_id = merged.json()["id"]
    assert new_id not in (primary, secondary)
    for old in (primary, secondary):
        via_old = api.get(
            f"{CONTACTS}/{old}", params={"properties": "email,city,hs_merged_object_ids,hs_additional_emails"}
        )
        assert via_old.status_code == 200
        properties = via_old.json()["properties"]
        assert via_old.json()["id"] == new_id
        assert properties["email"] == "one@example.com"
        assert properties["city"] == "Hull"
        assert properties["hs_merged_object_ids"] == f"{primary};{secondary}"
        assert properties["hs_additional_emails"] == "two@example.com"
    assert api.post(CONTACTS, json={"properties": {"email": "two@example.com"}}).status_code == 409
    batch = api.post(f"{CONTACTS}/batch/update", json={"inputs": [{"id": primary, "properties": {"city": "X"}}]})
    assert batch.status_code == 207
    assert batch.json()["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert api.patch(f"{CONTACTS}/{primary}", json={"properties": {"city": "Y"}}).json()["id"] == new_id
    # A second merge keeps every old id resolving.
    third = api.post(CONTACTS, json={"properties": {"email": "three@example.com"}}).json()["id"]
    final = api.post(f"{CONTACTS}/merge", json={"primaryObjectId": third, "objectIdToMerge": new_id}).json()["id"]
    assert api.get(f"{CONTACTS}/{primary}").json()["id"] == final


def test_gdpr_delete_leaves_nothing(api: httpx.Client) -> None:
    record_id = api.post(CONTACTS, json={"properties": {"email": "forget@example.com"}}).json()["id"]
    purge = api.post(f"{CONTACTS}/gdpr-delete", json={"objectId": "forget@example.com", "idProperty": "email"})
    assert purge.status_code == 204
    assert api.get(f"{CONTACTS}/{record_id}", params={"archived": "true"}).status_code == 404
    assert api.post(CONTACTS, json={"properties": {"email": "forget@example.com"}}).status_code == 201


def test_batch_envelopes_and_multi_status(api: httpx.Client, simulator: HubSpotSimulator) -> None:
    ids = simulator.seed("contacts", [{"email": f"m{n}@example.com"} for n in range(2)])
    read = api.post(
        f"{CONTACTS}/batch/read",
        json={"inputs": [{"id": ids[0]}, {"id": "1"}], "properties": ["email"], "propertiesWithHistory": []},
    )
    assert read.status_code == 207
    body = read.json()
    assert body["status"] == "COMPLETE"
    assert body["numErrors"] == 1
    assert "startedAt" in body
    assert "completedAt" in body
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"] == {"ids": ["1"]}
    complete = api.post(f"{CONTACTS}/batch/read", json={"inputs": [{"id": ids[1]}], "properties": ["email"]})
    assert complete.status_code == 200
    assert "errors" not in complete.json()

    traced = api.post(
        f"{CONTACTS}/batch/create",
        json={
            "inputs": [
                {"properties": {"email": "ok@example.com"}, "objectWriteTraceId": "a"},
                {"properties": {"email": "bad@example.com", "hs_lead_status": "MAYBE"}, "objectWriteTraceId": "b"},
            ]
        },
    )
    assert traced.status_code == 207
    assert traced.json()["results"][0]["objectWriteTraceId"] == "a"
    assert traced.json()["errors"][0]["context"]["objectWriteTraceId"] == ["b"]
    untraced = api.post(
        f"{CONTACTS}/batch/create",
        json={"inputs": [{"properties": {"email": "ok2@example.com"}}, {"properties": {"hs_lead_status": "MAYBE"}}]},
    )
    assert untraced.status_code == 400
    assert simulator.find_by_email("ok2@example.com") is None
    created = api.post(f"{CONTACTS}/batch/create", json={"inputs": [{"properties": {"email": "ok3@example.com"}}]})
    assert created.status_code == 201
    too_many = api.post(f"{CONTACTS}/batch/create", json={"inputs": [{"properties": {}}] * 101})
    assert too_many.status_code == 400
    assert "100" in too_many.json()["message"]
    upsert = api.post(
        f"{CONTACTS}/batch/upsert",
        json={"inputs": [{"id": "ok3@example.com", "idProperty": "email", "properties": {"city": "Ely"}}]},
    )
    assert upsert.status_code == 200
    assert upsert.json()["results"][0]["new"] is False
    assert api.post(f"{CONTACTS}/batch/archive", json={"inputs": [{"id": ids[0]}]}).status_code == 204


def test_search_semantics(api: httpx.Client, simulator: HubSpotSimulator) -> None:
    simulator.seed(
        "deals",
        [
            {"properties": {"dealname": "Alpha deal", "amount": "100", "dealstage": "closedwon"}, "createdAt": 1_000},
            {
                "properties": {"dealname": "Beta deal", "amount": "25.5", "dealstage": "contractsent"},
                "createdAt": 2_000,
            },
            {"properties": {"dealname": "Gamma", "dealstage": "closedwon"}, "createdAt": 3_000},
        ],
    )

    def names(body: dict[str, object]) -> list[str]:
        answer = api.post("/crm/v3/objects/deals/search", json={"properties": ["dealname"], **body})
        assert answer.status_code == 200, answer.text
        return [item["properties"]["dealname"] for item in answer.json()["results"]]

    def group(*filters: dict[str, object]) -> dict[str, object]:
        return {"filters": list(filters)}

    assert names({}) == ["Alpha deal", "Beta deal", "Gamma"]  # oldest first by default
    assert names({"filterGroups": [group({"propertyName": "amount", "operator": "GT", "value": "30"})]}) == [
        "Alpha deal"
    ]
    assert names(
        {
            "filterGroups": [group({"propertyName": "amount", "operator": "HAS_PROPERTY"})],
            "sorts": [{"propertyName": "amount", "direction": "ASCENDING"}],
        }
    ) == ["Beta deal", "Alpha deal"]
    assert names({"filterGroups": [group({"propertyName": "amount", "operator": "NOT_HAS_PROPERTY"})]}) == ["Gamma"]
    assert names(
        {
            "filterGroups": [
                group({"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}),
            ]
        }
    ) == ["Alpha deal", "Gamma"]
    assert (
        names({"filterGroups": [group({"propertyName": "dealstage", "operator": "EQ", "value": "CLOSEDWON"})]}) == []
    )  # enums are case-sensitive
    assert names({"filterGroups": [group({"propertyName": "dealname", "operator": "EQ", "value": "GAMMA"})]}) == [
        "Gamma"
    ]  # strings are not
    assert names(
        {
            "filterGroups": [
                group({"propertyName": "createdate", "operator": "BETWEEN", "value": "1500", "highValue": "3000"})
            ]
        }
    ) == ["Beta deal", "Gamma"]
    assert names(
        {
            "filterGroups": [group({"propertyName": "dealname", "operator": "CONTAINS_TOKEN", "value": "deal"})],
            "sorts": ["-createdate"],
        }
    ) == ["Beta deal", "Alpha deal"]
    assert names({"query": "gam"}) == ["Gamma"]
    assert names(
        {
            "filterGroups": [
                group({"propertyName": "amount", "operator": "EQ", "value": "100"}),
                group({"propertyName": "dealname", "operator": "IN", "values": ["gamma"]}),
            ]
        }
    ) == ["Alpha deal", "Gamma"]
    paged = api.post("/crm/v3/objects/deals/search", json={"limit": 2}).json()
    assert paged["total"] == 3
    assert paged["paging"]["next"]["after"] == "2"
    assert "paging" not in api.post("/crm/v3/objects/deals/search", json={"limit": 2, "after": "2"}).json()


def test_search_limits(api: httpx.Client) -> None:
    def status(body: dict[str, object]) -> int:
        return api.post("/crm/v3/objects/contacts/search", json=body).status_code

    filter_ = {"propertyName": "email", "operator": "HAS_PROPERTY"}
    assert status({"after": "9900", "limit": 100}) == 200
    assert status({"after": "10000", "limit": 1}) == 400  # the 10,000 cap
    assert status({"limit": 201}) == 400
    assert status({"filterGroups": [{"filters": [filter_]}] * 6}) == 400
    assert status({"filterGroups": [{"filters": [filter_] * 7}]}) == 400
    assert status({"filterGroups": [{"filters": [filter_] * 6}] * 3 + [{"filters": [filter_]}]}) == 400  # 19 in all
    assert status({"query": "x" * 3_000}) == 400  # the body is over 3,000 characters
    assert status({"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": "1"}]}]}) == 400
