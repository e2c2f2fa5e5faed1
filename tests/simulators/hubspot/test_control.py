"""The /_sim control surface, rate-limit answers, JSON persistence, and lookups that do not scan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from interlink.kit.asgi import in_process_client
from interlink.simulators.hubspot import DEFAULT_PRIVATE_APP_TOKEN, HubSpotSimulator, create_app
from tests.connectors.hubspot.support import IN_PROCESS_BASE, WebhookSink, new_simulator

AUTH = {"Authorization": f"Bearer {DEFAULT_PRIVATE_APP_TOKEN}"}


def test_create_app_is_what_the_cli_runs(tmp_path: Path) -> None:
    app = create_app(state_file=tmp_path / "hubspot.json", webhook_urls=["http://127.0.0.1:1/hooks"])
    simulator = app.state.simulator
    assert isinstance(simulator, HubSpotSimulator)
    assert simulator.webhooks.settings.urls == ["http://127.0.0.1:1/hooks"]
    simulator.close()
    assert (tmp_path / "hubspot.json").exists()


def test_seed_edit_count_and_reset_over_http(api: httpx.Client, simulator: HubSpotSimulator, sink: WebhookSink) -> None:
    seeded = api.post(
        "/_sim/seed/contacts",
        json={
            "records": [
                {"email": "s1@example.com"},
                {"properties": {"email": "s2@example.com"}, "createdAt": "2024-01-02T03:04:05Z"},
            ]
        },
    )
    assert seeded.status_code == 200
    first, second = seeded.json()["ids"]
    assert api.get(f"/crm/v3/objects/contacts/{second}").json()["createdAt"] == "2024-01-02T03:04:05.000Z"

    edited = api.patch(f"/_sim/ui/contacts/{first}", json={"properties": {"firstname": "Sue"}, "userId": 9002})
    assert edited.status_code == 200
    assert edited.json()["properties"]["firstname"] == "Sue"
    assert api.post("/_sim/webhooks/flush", json={"timeout": 5}).json() == {"flushed": True}
    assert [(event["propertyName"], event["sourceId"]) for event in sink.events()] == [("firstname", "userId:9002")]

    record = api.get(f"/_sim/records/contacts/{first}", params={"history": "firstname"}).json()
    assert record["propertiesWithHistory"]["firstname"][0]["sourceType"] == "CRM_UI"

    api.get(f"/crm/v3/objects/contacts/{first}")
    api.get(f"/crm/v3/objects/contacts/{second}")
    calls = api.get("/_sim/calls").json()
    assert {"method": "GET", "route": "/crm/v3/objects/{object_type}/{object_id}", "status": 200, "count": 3} in calls[
        "calls"
    ]
    assert calls["total"] == 3  # control-surface calls are not counted

    assert api.post("/_sim/reset").json() == {"reset": True}
    assert api.get("/_sim/state").json()["records"] == {"contacts": 0, "companies": 0, "deals": 0}
    assert api.get("/_sim/calls").json()["total"] == 0


def test_ui_routes_for_every_kind_of_change(api: httpx.Client) -> None:
    contact = api.post("/_sim/ui/contacts", json={"properties": {"email": "ui@example.com"}}).json()["id"]
    other = api.post("/_sim/ui/contacts", json={"properties": {"email": "ui2@example.com"}}).json()["id"]
    company = api.post("/_sim/ui/companies", json={"properties": {"name": "UI Co"}}).json()["id"]
    assert (
        api.put(f"/_sim/ui/associations/contacts/{contact}/companies/{company}", json={"typeIds": [1]}).status_code
        == 204
    )
    labels = api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies").json()["results"][0][
        "associationTypes"
    ]
    assert {label["typeId"] for label in labels} == {1, 279}
    assert api.delete(f"/_sim/ui/associations/contacts/{contact}/companies/{company}").status_code == 204
    merged = api.post("/_sim/ui/contacts/merge", json={"primaryObjectId": contact, "objectIdToMerge": other}).json()[
        "id"
    ]
    assert api.delete(f"/_sim/ui/contacts/{merged}").status_code == 204
    assert api.post(f"/_sim/ui/contacts/{merged}/restore").status_code == 200
    assert api.patch("/_sim/ui/contacts/99999999", json={"properties": {}}).status_code == 404
    assert api.post("/_sim/ui/contacts", json={"properties": {"nope": "1"}}).status_code == 400


def test_tokens_codes_owners_and_faults_over_http(api: httpx.Client) -> None:
    assert (
        api.post("/_sim/tokens", json={"token": "pat-extra", "scopes": ["crm.objects.deals.read"]}).status_code == 200
    )
    assert api.get("/crm/v3/objects/deals", headers={"Authorization": "Bearer pat-extra"}).status_code == 200
    assert api.get("/crm/v3/objects/contacts", headers={"Authorization": "Bearer pat-extra"}).status_code == 403
    code = api.post("/_sim/oauth/codes", json={"redirectUri": "https://x.example/cb"}).json()["code"]
    token = api.post(
        "/oauth/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://x.example/cb",
            "client_id": "sandbox-client-id",
            "client_secret": "sandbox-client-secret",
        },
    ).json()
    assert token["expires_in"] == 1800
    assert token["token_type"] == "bearer"
    oauth_headers = {"Authorization": f"Bearer {token['access_token']}"}
    api.put("/_sim/rate-limits", json={"perInterval": 100, "daily": 1_000})
    listed = api.get("/crm/v3/objects/contacts", headers=oauth_headers)
    assert "X-HubSpot-RateLimit-Max" in listed.headers
    assert "X-HubSpot-RateLimit-Daily" not in listed.headers
    assert api.post("/_sim/oauth/expire", json={"token": token["access_token"]}).status_code == 204
    expired = api.get("/crm/v3/objects/contacts", headers=oauth_headers)
    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert api.get(f"/oauth/v1/refresh-tokens/{token['refresh_token']}").status_code == 200

    owner = api.post(
        "/_sim/owners", json={"email": "new.owner@example.com", "firstName": "New", "lastName": "Owner"}
    ).json()["id"]
    assert api.get(f"/crm/v3/owners/{owner}").json()["email"] == "new.owner@example.com"

    fault = {
        "route": "/crm/v3/owners/",
        "status": 502,
        "body": "<html>bad gateway</html>",
        "contentType": "text/html",
        "times": 2,
    }
    assert api.post("/_sim/faults", json=fault).status_code == 200
    assert [api.get("/crm/v3/owners/").status_code for _ in range(3)] == [502, 502, 200]


def test_rate_limit_answers_match_hubspot(api: httpx.Client, simulator: HubSpotSimulator) -> None:
    assert (
        api.put(
            "/_sim/rate-limits", json={"perInterval": 3, "intervalMs": 60_000, "daily": 1_000, "searchPerSecond": 2}
        ).status_code
        == 200
    )
    answers = [api.get("/crm/v3/objects/contacts") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["X-HubSpot-RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["X-HubSpot-RateLimit-Max"] == "3"
    assert answers[0].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "60000"
    assert answers[0].headers["X-HubSpot-RateLimit-Daily"] == "1000"
    assert answers[2].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "997"
    limited = answers[3].json()
    assert limited["status"] == "error"
    assert limited["errorType"] == "RATE_LIMIT"
    assert limited["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited["message"] == "You have reached your ten_secondly_rolling limit."
    assert limited["correlationId"]

    searches = [api.post("/crm/v3/objects/contacts/search", json={}) for _ in range(3)]
    assert [answer.status_code for answer in searches] == [200, 200, 429]  # searches are exempt from the window
    assert not any(name.lower().startswith("x-hubspot-ratelimit") for name in searches[0].headers)
    assert searches[2].json()["policyName"] == "SECONDLY"

    simulator.configure_rate_limits(per_interval=None, daily=4)
    assert api.get("/crm/v3/objects/contacts").status_code == 200
    daily = api.get("/crm/v3/objects/contacts")
    assert daily.status_code == 429
    assert daily.json()["policyName"] == "DAILY"
    report = api.get("/_sim/rate-limits").json()["stats"]
    assert report["peak"] == 3
    assert report["rejected"] == {"TEN_SECONDLY_ROLLING": 1, "SECONDLY": 1, "DAILY": 1}


def test_state_survives_a_restart_through_the_json_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first = new_simulator(state_file=path)
    contacts = first.seed("contacts", [{"email": "keep@example.com"}, {"email": "merge@example.com"}])
    merged = first.merge_as_user("contacts", contacts[0], contacts[1])["id"]
    company = first.create_as_user("companies", {"name": "Kept"})["id"]
    first.associate_as_user("contacts", merged, "companies", company, type_ids=[1])
    first.update_as_user("contacts", merged, {"lifecyclestage": "customer"})
    code = first.issue_authorization_code("https://x.example/cb")
    refresh = first.auth.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://x.example/cb",
            "client_id": "sandbox-client-id",
            "client_secret": "sandbox-client-secret",
        }
    )["refresh_token"]
    with in_process_client(create_app(simulator=first), IN_PROCESS_BASE, headers=AUTH) as api:
        api.post("/crm/v3/properties/contacts/groups", json={"name": "custom_group", "label": "Custom"})
        created = api.post(
            "/crm/v3/properties/contacts",
            json={
                "name": "tier",
                "label": "Tier",
                "type": "enumeration",
                "fieldType": "select",
                "groupName": "custom_group",
                "options": [{"label": "Gold", "value": "gold", "hidden": False}],
            },
        )
        assert created.status_code == 201
        api.patch(f"/crm/v3/objects/contacts/{merged}", json={"properties": {"tier": "gold"}})
    first.close()
    saved = json.loads(path.read_text())
    assert saved["version"] == 1

    second = new_simulator(state_file=path)
    try:
        record = second.record(
            "contacts", contacts[1], properties=["email", "tier", "lifecyclestage"], history=["lifecyclestage"]
        )
        assert record is not None
        assert record["id"] == merged
        assert record["properties"] == {
            "email": "keep@example.com",
            "tier": "gold",
            "lifecyclestage": "customer",
            "createdate": record["properties"]["createdate"],
            "lastmodifieddate": record["properties"]["lastmodifieddate"],
            "hs_object_id": merged,
        }
        assert [version["value"] for version in record["propertiesWithHistory"]["lifecyclestage"]] == ["customer"]
        assert second.associations_of("contacts", merged, "companies") == {company: [1, 279]}
        assert second.auth.refresh_token_info(refresh) is not None
        assert second.find_by_email("merge@example.com") is not None  # additional emails stay unique ids
        new_id = second.seed("contacts", [{"email": "after@example.com"}])[0]
        assert int(new_id) > int(merged)
    finally:
        second.close()


class CountingRecords(dict[int, Any]):
    """The CRM's table of one type's records, counting how many records requests look at (work, not time:
    how fast that work runs at 100,000 contacts is bench/hubspot_simulator_scale.py's figure)."""

    looked_at = 0

    def __getitem__(self, key: int) -> Any:
        self.looked_at += 1
        return super().__getitem__(key)

    def get(self, key: int, default: Any = None) -> Any:
        self.looked_at += 1
        return super().get(key, default)

    def values(self) -> Any:
        self.looked_at += len(self)
        return super().values()

    def items(self) -> Any:
        self.looked_at += len(self)
        return super().items()

    def __iter__(self) -> Iterator[int]:
        self.looked_at += len(self)
        return super().__iter__()


def test_reads_and_writes_by_id_or_email_look_up_records_instead_of_scanning_them() -> None:
    simulator = new_simulator()
    size = 5_000
    try:
        ids = simulator.seed(
            "contacts",
            [
                {"email": f"user{n}@example.com", "firstname": f"F{n}", "lastname": f"L{n}", "lifecyclestage": "lead"}
                for n in range(size)
            ],
        )
        records = CountingRecords(simulator.crm.records["contacts"])
        simulator.crm.records["contacts"] = records
        with in_process_client(create_app(simulator=simulator), IN_PROCESS_BASE, headers=AUTH) as api:
            api.get(f"/crm/v3/objects/contacts/{ids[3_777]}").raise_for_status()
            api.post(
                "/crm/v3/objects/contacts/batch/read", json={"inputs": [{"id": i} for i in ids[-100:]]}
            ).raise_for_status()
            page = api.get("/crm/v3/objects/contacts", params={"limit": 100, "after": ids[4_000]}).json()
            api.patch(
                f"/crm/v3/objects/contacts/{ids[5]}", json={"properties": {"firstname": "Changed"}}
            ).raise_for_status()
            by_email = api.get("/crm/v3/objects/contacts/user4999@example.com", params={"idProperty": "email"})
            indexed = records.looked_at

            records.looked_at = 0
            search = {"filterGroups": [{"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "F42"}]}]}
            found = api.post("/crm/v3/objects/contacts/search", json=search).json()
            scanned = records.looked_at
    finally:
        simulator.close()
    assert [result["id"] for result in page["results"]] == ids[4_000:4_100]
    assert by_email.json()["id"] == ids[4_999]
    assert found["total"] == 1
    # Five calls returning 202 records between them looked at a few records each, not at the 5,000 held...
    assert indexed <= 2 * (1 + 100 + 100 + 1 + 1)
    # ...while a search on a property without an index does read every record (HubSpot's own searches are
    # indexed, which is why only search may scan here).
    assert scanned >= size
