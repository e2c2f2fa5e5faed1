"""Provisioning the deal property group and the seven properties; naming them per workspace."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from interlink.connectors.hubspot.schemas import PropertySpec
from interlink.db import Database
from interlink.simulators.hubspot import HubSpotSimulator, create_app
from tests.accord.support import AccordTenant, HubSpotSandbox, create_accord_tenant, ledger_rows
from tests.fixtures.database import TEST_SECRET_KEY
from tests.support.servers import serve_over_loopback
from tests.test_cli import run_cli

GROUPS = "/crm/v3/properties/{object_type}/groups"
PROPERTIES = "/crm/v3/properties/{object_type}"
NAMES = [
    "accord_url",
    "accord_status",
    "current_stage",
    "number_of_customers_invited",
    "number_of_customers_accepted",
    "accord_progress",
    "accord_execution_score",
]


def deal_property(hubspot: HubSpotSandbox, name: str) -> dict[str, str]:
    definition = hubspot.client.properties.get("deals", name)
    assert definition is not None, f"no deal property {name}"
    return {"type": definition.type, "fieldType": definition.field_type, "group": definition.group_name}


def test_provisioning_twice_creates_the_group_and_properties_once(
    client: TestClient, db: Database, accord_tenant: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    first = client.post("/api/v1/accord/provision", headers=accord_tenant.headers)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["group"] == {
        "name": "accord_customer_collaboration_data",
        "label": "Accord Customer Collaboration Data",
        "status": "created",
        "message": None,
        "cosmetic": {},
    }
    assert [(item["name"], item["status"]) for item in report["properties"]] == [(name, "created") for name in NAMES]
    assert hubspot.calls(method="POST", route=GROUPS) == 1
    assert hubspot.calls(method="POST", route=PROPERTIES) == 7

    second = client.post("/api/v1/accord/provision", headers=accord_tenant.headers).json()
    assert second["group"]["status"] == "exists"
    assert {item["status"] for item in second["properties"]} == {"exists"}
    assert hubspot.calls(method="POST", route=GROUPS) == 1  # nothing created the second time
    assert hubspot.calls(method="POST", route=PROPERTIES) == 7

    assert deal_property(hubspot, "accord_url") == {
        "type": "string",
        "fieldType": "text",
        "group": "accord_customer_collaboration_data",
    }
    assert deal_property(hubspot, "accord_status")["type"] == "string"
    assert deal_property(hubspot, "current_stage")["type"] == "string"
    for name in NAMES[3:]:
        assert deal_property(hubspot, name) == {
            "type": "number",
            "fieldType": "number",
            "group": "accord_customer_collaboration_data",
        }
    settings = client.get("/api/v1/accord/properties", headers=accord_tenant.headers).json()
    assert settings["last_provision"]["group"]["status"] == "exists"
    assert len(ledger_rows(db, accord_tenant, "accord_provisioned")) == 2


def test_a_clashing_existing_property_is_reported_and_left_alone(
    client: TestClient, accord_tenant: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    hubspot.client.properties.create(
        "deals",
        PropertySpec(
            name="accord_progress",
            label="Progress (ours)",
            type="string",
            field_type="text",
            group_name="dealinformation",
        ),
    )
    response = client.post("/api/v1/accord/provision", headers=accord_tenant.headers)
    assert response.status_code == 200
    progress = next(item for item in response.json()["properties"] if item["key"] == "progress")
    assert progress["status"] == "clash"
    assert progress["differences"] == {"type": ["string/text", "number/number"]}
    assert "already exists with a different definition" in progress["message"]
    assert deal_property(hubspot, "accord_progress")["type"] == "string"  # not overwritten
    others = [item["status"] for item in response.json()["properties"] if item["key"] != "progress"]
    assert others == ["created"] * 6


def test_an_existing_property_of_the_right_type_elsewhere_is_kept_as_is(
    client: TestClient, accord_tenant: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    hubspot.client.properties.create(
        "deals",
        PropertySpec(
            name="accord_url", label="Accord link", type="string", field_type="text", group_name="dealinformation"
        ),
    )
    report = client.post("/api/v1/accord/provision", headers=accord_tenant.headers).json()
    url = report["properties"][0]
    assert url["status"] == "exists"
    assert url["cosmetic"]["groupName"] == ["dealinformation", "accord_customer_collaboration_data"]
    assert deal_property(hubspot, "accord_url")["group"] == "dealinformation"


def test_provisioning_without_a_hubspot_connection_says_so(client: TestClient, db: Database) -> None:
    tenant = create_accord_tenant(db, None)
    response = client.post("/api/v1/accord/provision", headers=tenant.headers)
    assert response.status_code == 422
    assert "no HubSpot connection" in response.json()["error"]["message"]


def test_renamed_names_are_validated_against_the_live_deal_schema(
    client: TestClient, accord_tenant: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    headers = accord_tenant.headers
    assert client.post("/api/v1/accord/provision", headers=headers).status_code == 200
    hubspot.client.properties.create(
        "deals",
        PropertySpec(
            name="mutual_plan_health",
            label="Plan health",
            type="string",
            field_type="text",
            group_name="dealinformation",
        ),
    )
    saved = client.put("/api/v1/accord/properties", headers=headers, json={"status": "mutual_plan_health"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["names"]["status"] == "mutual_plan_health"
    assert saved.json()["names"]["url"] == "accord_url"

    missing = client.put("/api/v1/accord/properties", headers=headers, json={"progress": "no_such_property"})
    assert missing.status_code == 422
    error = missing.json()["error"]
    assert error["details"] == [
        {
            "field": "progress",
            "message": "deal property 'no_such_property' does not exist in HubSpot (create it, run provisioning, "
            "or name an existing one)",
        }
    ]
    wrong_type = client.put("/api/v1/accord/properties", headers=headers, json={"progress": "dealname"})
    assert wrong_type.status_code == 200  # a text property can hold a number
    wrong_type = client.put("/api/v1/accord/properties", headers=headers, json={"status": "amount"})
    assert wrong_type.status_code == 422
    assert "status needs a text property" in wrong_type.json()["error"]["message"]
    read_only = client.put("/api/v1/accord/properties", headers=headers, json={"url": "hs_object_id"})
    assert read_only.status_code == 422
    assert "read-only" in read_only.json()["error"]["message"]
    duplicate = client.put("/api/v1/accord/properties", headers=headers, json={"url": "current_stage"})
    assert duplicate.status_code == 422
    bad = client.put("/api/v1/accord/properties", headers=headers, json={"url": "Accord URL"})
    assert bad.status_code == 422
    # Refused saves changed nothing.
    names = client.get("/api/v1/accord/properties", headers=headers).json()["names"]
    assert names["progress"] == "dealname"
    assert names["status"] == "accord_status"


def test_provisioning_uses_the_workspace_names(
    client: TestClient, accord_tenant: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    headers = accord_tenant.headers
    hubspot.client.properties.create(
        "deals",
        PropertySpec(
            name="plan_score", label="Plan score", type="number", field_type="number", group_name="dealinformation"
        ),
    )
    assert client.post("/api/v1/accord/provision", headers=headers).status_code == 200
    assert (
        client.put("/api/v1/accord/properties", headers=headers, json={"execution_score": "plan_score"}).status_code
        == 200
    )
    report = client.post("/api/v1/accord/provision", headers=headers).json()
    score = next(item for item in report["properties"] if item["key"] == "execution_score")
    assert (score["name"], score["status"]) == ("plan_score", "exists")


def test_the_cli_provisions_and_reports_a_clash_in_one_line(settings: object, db: Database, tmp_path: Path) -> None:
    simulator = HubSpotSimulator()
    with serve_over_loopback(create_app(simulator=simulator)) as base_url:
        from interlink.connections.service import save_connection
        from interlink.kit.crypto import CredentialCipher
        from tests.accord.support import hubspot_credentials

        tenant = create_accord_tenant(db, None)
        with db.transaction() as session:
            save_connection(
                session,
                session.merge(tenant.workspace),
                hubspot_credentials(base_url, simulator.portal_id),
                CredentialCipher(db.settings.secret_keys()),
            )
        env = {"INTERLINK_DATABASE_URL": db.settings.database_url, "INTERLINK_SECRET_KEY": TEST_SECRET_KEY}
        first = run_cli("accord", "provision", "--workspace", tenant.slug, env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "accord_customer_collaboration_data" in first.stdout
        assert first.stdout.count(" created") == 8
        again = run_cli("accord", "provision", "--workspace", tenant.slug, env=env, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert again.stdout.count(" exists") == 8

        simulator.crm.properties["deals"]["accord_status"].type = "number"  # someone changed it in HubSpot
        simulator.crm.properties["deals"]["accord_status"].field_type = "number"
        clash = run_cli("accord", "provision", "--workspace", tenant.slug, env=env, cwd=tmp_path)
        assert clash.returncode == 1
        assert "clash" in clash.stdout
        assert clash.stderr.strip() == (
            "interlink: 1 of the Accord properties could not be provisioned: accord_status (see above)"
        )
        assert "Traceback" not in clash.stderr

        (deal,) = simulator.seed("deals", [{"dealname": "CLI deal"}])
        bad = run_cli("accord", "link", "--workspace", tenant.slug, "acc-cli", "deal-7", env=env, cwd=tmp_path)
        assert (bad.returncode, bad.stderr.strip()) == (1, "interlink: 'deal-7' is not a HubSpot deal id (digits)")
        linked = run_cli("accord", "link", "--workspace", tenant.slug, "acc-cli", deal, env=env, cwd=tmp_path)
        assert linked.returncode == 0, linked.stderr
        assert linked.stdout.strip() == f"Accord acc-cli -> deal {deal}"
        listed = run_cli("accord", "links", "--workspace", tenant.slug, env=env, cwd=tmp_path)
        assert listed.stdout.split() == ["acc-cli", "deal", deal, "never", "pushed", "ok"]
        pushed = run_cli("accord", "push", "--workspace", tenant.slug, "acc-cli", env=env, cwd=tmp_path)
        assert pushed.stdout.strip() == "nothing to push yet: no Accord data has been received for it"
        missing = run_cli("accord", "push", "--workspace", tenant.slug, "acc-none", env=env, cwd=tmp_path)
        assert (missing.returncode, missing.stderr.strip()) == (1, "interlink: Accord acc-none is not linked")
    simulator.close()
