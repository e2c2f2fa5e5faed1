"""HubSpot's official Python SDK (``hubspot-api-client``) against the simulator over real loopback HTTP.

If the SDK can do its everyday work here without an error, the simulator's status codes, envelopes and
paging are HubSpot's as far as the SDK can tell (it picks response models by exact status code and loops
``get_all`` until ``paging`` disappears).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm import companies as sdk_companies
from hubspot.crm import contacts as sdk_contacts
from hubspot.crm.associations.v4 import AssociationSpec
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate
from hubspot.utils.signature import Signature

from interlink.kit.asgi import in_process_client
from interlink.simulators.hubspot import DEFAULT_CLIENT_SECRET, DEFAULT_PRIVATE_APP_TOKEN, HubSpotSimulator, create_app
from tests.connectors.hubspot.support import WebhookSink, new_simulator
from tests.support.servers import serve_over_loopback

MODULES: dict[str, Any] = {"contacts": sdk_contacts, "companies": sdk_companies}


@pytest.fixture
def sink() -> WebhookSink:
    return WebhookSink()


@pytest.fixture
def simulator(sink: WebhookSink) -> Iterator[HubSpotSimulator]:
    receiver = in_process_client(sink.app, "http://127.0.0.1:8765")
    sim = new_simulator(
        webhook_urls=["http://127.0.0.1:8765/webhooks/hubspot"], webhook_client_for=lambda url: receiver
    )
    yield sim
    sim.close()
    receiver.close()


@pytest.fixture
def sdk(simulator: HubSpotSimulator) -> Iterator[HubSpot]:
    with serve_over_loopback(create_app(simulator=simulator)) as base_url:
        yield HubSpot(access_token=DEFAULT_PRIVATE_APP_TOKEN, host=base_url, base_url=base_url)


def unique_properties(kind: str, n: int) -> dict[str, str]:
    if kind == "contacts":
        return {"email": f"sdk{n}@example.com", "firstname": f"Sdk{n}"}
    return {"name": f"Sdk Co {n}", "domain": f"sdk{n}.example"}


@pytest.mark.parametrize("kind", ["contacts", "companies"])
def test_create_read_update_page_batch_search_archive(sdk: HubSpot, simulator: HubSpotSimulator, kind: str) -> None:
    models = MODULES[kind]
    api = getattr(sdk.crm, kind)
    id_param = "contact_id" if kind == "contacts" else "company_id"
    text_property = "firstname" if kind == "contacts" else "name"

    created = api.basic_api.create(models.SimplePublicObjectInputForCreate(properties=unique_properties(kind, 0)))
    assert isinstance(created, models.SimplePublicObject)  # 201 mapped to the model, not None
    assert created.id
    assert created.created_at is not None

    fetched = api.basic_api.get_by_id(**{id_param: created.id}, properties=[text_property], archived=False)
    assert fetched.properties[text_property] == unique_properties(kind, 0)[text_property]

    updated = api.basic_api.update(
        **{id_param: created.id},
        simple_public_object_input=models.SimplePublicObjectInput(properties={text_property: "Renamed"}),
    )
    assert updated.properties[text_property] == "Renamed"

    batch = api.batch_api.create(
        models.BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                models.SimplePublicObjectBatchInputForCreate(properties=unique_properties(kind, n))
                for n in range(1, 31)
            ]
        )
    )
    assert isinstance(batch, models.BatchResponseSimplePublicObject)
    assert len(batch.results) == 30

    page = api.basic_api.get_page(limit=10, properties=[text_property, "createdate"], archived=False)
    assert len(page.results) == 10
    assert page.paging.next.after
    everything = api.get_all(properties=[text_property])
    assert len(everything) == 31  # get_all stopped because the last page has no paging

    search = api.search_api.do_search(
        public_object_search_request=models.PublicObjectSearchRequest(
            filter_groups=[
                models.FilterGroup(filters=[models.Filter(property_name=text_property, operator="EQ", value="Renamed")])
            ],
            sorts=[{"propertyName": "createdate", "direction": "DESCENDING"}],
            properties=[text_property],
            limit=5,
            after="0",
        )
    )
    assert search.total == 1
    assert search.results[0].id == created.id

    read = api.batch_api.read(
        models.BatchReadInputSimplePublicObjectId(
            inputs=[models.SimplePublicObjectId(id=created.id), models.SimplePublicObjectId(id="424242")],
            properties=[text_property],
            properties_with_history=[],
        ),
        archived=False,
    )
    assert isinstance(read, models.BatchResponseSimplePublicObjectWithErrors)  # the 207 model
    assert read.num_errors == 1
    assert [result.id for result in read.results] == [created.id]

    assert api.basic_api.archive(**{id_param: created.id}) is None
    with pytest.raises(models.ApiException) as gone:
        api.basic_api.get_by_id(**{id_param: created.id})
    assert gone.value.status == 404
    assert len(api.get_all()) == 30
    assert simulator.calls.count(status=500) == 0


def test_merge_batch_update_and_history(sdk: HubSpot) -> None:
    api = sdk.crm.contacts
    first = api.basic_api.create(
        sdk_contacts.SimplePublicObjectInputForCreate(properties={"email": "m1@example.com", "lifecyclestage": "lead"})
    )
    second = api.basic_api.create(sdk_contacts.SimplePublicObjectInputForCreate(properties={"email": "m2@example.com"}))
    merged = api.basic_api.merge(
        sdk_contacts.PublicMergeInput(primary_object_id=first.id, object_id_to_merge=second.id)
    )
    assert merged.id not in (first.id, second.id)
    updated = api.batch_api.update(
        sdk_contacts.BatchInputSimplePublicObjectBatchInput(
            inputs=[sdk_contacts.SimplePublicObjectBatchInput(id=merged.id, properties={"lifecyclestage": "customer"})]
        )
    )
    assert updated.results[0].properties["lifecyclestage"] == "customer"
    with_history = api.basic_api.get_by_id(first.id, properties_with_history=["lifecyclestage"])
    assert with_history.id == merged.id
    assert [version.value for version in with_history.properties_with_history["lifecyclestage"]] == ["customer", "lead"]
    upserted = api.batch_api.upsert(
        sdk_contacts.BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                sdk_contacts.SimplePublicObjectBatchInputUpsert(
                    id="m9@example.com", id_property="email", properties={"firstname": "Nine"}
                )
            ]
        )
    )
    assert upserted.results[0].new is True
    with pytest.raises(sdk_contacts.ApiException) as conflict:
        api.basic_api.create(sdk_contacts.SimplePublicObjectInputForCreate(properties={"email": "m9@example.com"}))
    body = conflict.value.body
    assert conflict.value.status == 409
    assert "Existing ID" in (body.decode() if isinstance(body, bytes) else str(body))


def test_properties_associations_pipelines_owners(sdk: HubSpot, simulator: HubSpotSimulator) -> None:
    group = sdk.crm.properties.groups_api.create("deals", PropertyGroupCreate(name="accord", label="Accord"))
    assert group.name == "accord"
    created = sdk.crm.properties.core_api.create(
        "deals",
        PropertyCreate(name="accord_url", label="Accord URL", type="string", field_type="text", group_name="accord"),
    )
    assert created is not None
    assert created.name == "accord_url"
    names = {prop.name for prop in sdk.crm.properties.core_api.get_all("deals").results}
    assert {"accord_url", "dealstage", "pipeline"} <= names

    contact = simulator.seed("contacts", [{"email": "a@example.com"}])[0]
    company = simulator.seed("companies", [{"name": "Assoc"}])[0]
    labelled = sdk.crm.associations.v4.basic_api.create(
        "contacts",
        contact,
        "companies",
        company,
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)],
    )
    assert labelled is not None
    assert labelled.labels == ["Primary"]
    page = sdk.crm.associations.v4.basic_api.get_page("contacts", contact, "companies")
    assert [result.to_object_id for result in page.results] == [company]
    assert {kind.type_id for kind in page.results[0].association_types} == {1, 279}

    stages = sdk.crm.pipelines.pipelines_api.get_all("deals").results[0].stages
    assert "closedwon" in [stage.id for stage in stages]
    owners = sdk.crm.owners.owners_api.get_page(limit=100)
    assert [owner.email for owner in owners.results] == ["ada.admin@example.com", "sam.sales@example.com"]


def test_the_sdk_signature_validator_accepts_the_simulators_webhooks(
    sdk: HubSpot, simulator: HubSpotSimulator, sink: WebhookSink
) -> None:
    sdk.crm.contacts.basic_api.create(
        sdk_contacts.SimplePublicObjectInputForCreate(properties={"email": "hook@example.com"})
    )
    assert simulator.webhooks.flush(10)
    delivery = sink.received[0]
    body = delivery.body.decode()
    assert Signature.is_valid(
        signature=delivery.headers["x-hubspot-signature-v3"],
        client_secret=DEFAULT_CLIENT_SECRET,
        request_body=body,
        http_uri=delivery.url,
        http_method="POST",
        signature_version="v3",
        timestamp=delivery.headers["x-hubspot-request-timestamp"],
    )
    assert Signature.is_valid(
        signature=delivery.headers["x-hubspot-signature"],
        client_secret=DEFAULT_CLIENT_SECRET,
        request_body=body,
        signature_version=delivery.headers["x-hubspot-signature-version"],
    )
    assert not Signature.is_valid(
        signature=delivery.headers["x-hubspot-signature"],
        client_secret="another-secret",
        request_body=body,
        signature_version="v1",
    )
