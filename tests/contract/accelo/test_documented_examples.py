"""Accelo's documented requests and answers, replayed against the simulator with plain ``httpx``.

Independent of Interlink's client on purpose: if the simulator drifted from Accelo's documented shapes,
client tests against it would keep passing while production broke. Each test cites the part of Accelo's docs
(``Accelo/docs`` on GitHub, summarised in ``shared/reference/accelo-api.md``) it replays.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from interlink.kit.asgi import in_process_client
from interlink.simulators.accelo import (
    DEFAULT_ACCESS_TOKEN,
    SERVICE_CLIENT_ID,
    SERVICE_CLIENT_SECRET,
    WEB_CLIENT_ID,
    WEB_CLIENT_SECRET,
    WEB_REDIRECT_URIS,
    AcceloSimulator,
    create_app,
)
from tests.support.servers import serve_over_loopback

OK_META = {
    "status": "ok",
    "message": "Everything executed as expected.",
    "more_info": "https://affinitylive.jira.com/wiki/display/APIS/Status+Codes#ok",
}
INVALID_REQUEST_META = {
    "status": "invalid_request",
    "message": (
        "The request could not be interpreted. This can be caused by missing or invalid data. Please ensure that "
        "the resource you are requesting actually exists."
    ),
    "more_info": "https://affinitylive.jira.com/wiki/display/APIS/Status+Codes#invalid_request",
}
BEARER = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"}


class Deployment:
    """``https://{deployment}.api.accelo.com``, as a plain HTTP client sees it."""

    def __init__(self, http: httpx.Client, received: list[tuple[dict[str, str], bytes]], sim: AcceloSimulator) -> None:
        self.http = http
        self.received = received
        self.sim = sim  # only to set up what Accelo's API cannot (categories are made in its web app)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**BEARER, **kwargs.pop("headers", {})}
        return self.http.request(method, f"/api/v0{path}", headers=headers, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.api(method, path, **kwargs)
        assert response.status_code == 200, response.text
        assert response.json()["meta"] == OK_META
        return response.json()["response"]


@pytest.fixture(params=["in-process", "loopback"])
def accelo(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    received: list[tuple[dict[str, str], bytes]] = []
    lock = threading.Lock()

    async def callback(incoming: Request) -> Response:
        with lock:
            received.append((dict(incoming.headers), await incoming.body()))
        return Response(status_code=200)

    hooks = Starlette(routes=[Route("/callback", callback, methods=["POST"])])
    with in_process_client(hooks, "https://your-domain.com") as hook_client:
        app = create_app(webhook_client_for=lambda _url: hook_client, webhook_retry_delays=(0.01,))
        try:
            if request.param == "in-process":
                with in_process_client(app, "https://planet-express.api.accelo.com") as http:
                    yield Deployment(http, received, app.simulator)
            else:
                with serve_over_loopback(app) as url, httpx.Client(base_url=url, timeout=10) as http:
                    yield Deployment(http, received, app.simulator)
        finally:
            app.close()


# -- _introduction.md, _configuring_responses.md: the envelope ------------------------------------------------


def test_a_created_company_reads_back_in_the_documented_envelope(accelo: Deployment) -> None:
    created = accelo.ok("POST", "/companies", data={"name": "A Fresh New Company"})
    body = accelo.api("GET", f"/companies/{created['id']}").json()
    # {"meta":{"status":"ok","message":"Everything executed as expected.","more_info":"…#ok"},
    #  "response": {"id":"45","name":"A Fresh New Company"}}
    assert body == {"meta": OK_META, "response": {"id": created["id"], "name": "A Fresh New Company"}}


def test_a_company_that_does_not_exist(accelo: Deployment) -> None:
    response = accelo.api("GET", "/companies/45")
    assert response.status_code == 400  # 400, not 404
    assert response.json() == {"response": None, "meta": INVALID_REQUEST_META}


def test_the_company_object_with_all_fields(accelo: Deployment) -> None:
    company = accelo.ok(
        "POST",
        "/companies",
        data={"name": "A Fresh New Company", "website": "www.example.com", "phone": "61448824724", "comments": "..."},
    )
    accelo.ok("POST", f"/companies/{company['id']}/addresses", data={"street1": "1 Main St", "postal": "yes"})
    record = accelo.ok("GET", f"/companies/{company['id']}", params={"_fields": "_ALL"})
    # {"id":"45","name":…,"website":"www.example.com","phone":"61448824724","fax":null,"comments":"...",
    #  "standing":"active","status":"3","postal_address":"31","default_affiliation":"12","staff_bookmarked":"0",
    #  "date_created":"1495669367","date_modified":"1495671183","date_last_interacted":"1495675655"}
    documented = {
        "id", "name", "website", "phone", "fax", "comments", "standing", "status", "postal_address",
        "default_affiliation", "staff_bookmarked", "date_created", "date_modified", "date_last_interacted",
    }  # fmt: skip
    assert documented <= set(record)
    assert (record["website"], record["phone"], record["fax"], record["comments"]) == (
        "www.example.com",
        "61448824724",
        None,
        "...",
    )
    for key in ("id", "status", "postal_address", "date_created", "date_modified"):
        assert isinstance(record[key], str), key
        assert record[key].isdigit(), key
    assert record["staff_bookmarked"] == "0"


# -- _configuring_responses.md: _fields, _filters, _limit, _page, counts -----------------------------------------


def test_linked_objects_by_id_default_fields_listed_fields_and_all(accelo: Deployment) -> None:
    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    address = accelo.ok(
        "POST",
        "/addresses",
        data={"against_type": "company", "against_id": company["id"], "city": "New New York", "postal": "yes"},
    )
    path = f"/companies/{company['id']}"
    assert accelo.ok("GET", path, params={"_fields": "postal_address"})["postal_address"] == address["id"]
    as_object = accelo.ok("GET", path, params={"_fields": "postal_address()"})["postal_address"]
    assert set(as_object) == {"id", "full"}
    listed = accelo.ok("GET", path, params={"_fields": "postal_address(city)"})["postal_address"]
    assert listed["city"] == "New New York"
    every = accelo.ok("GET", path, params={"_fields": "postal_address(_ALL)"})["postal_address"]
    assert {"street1", "city", "zipcode", "state", "country", "postal", "physical"} <= set(every)
    status = accelo.ok("GET", path, params={"_fields": "status(title,standing,color)"})["status"]
    assert set(status) == {"id", "title", "standing", "color"}


def test_filters_in_the_query_string(accelo: Deployment) -> None:
    ids = [accelo.ok("POST", "/companies", data={"name": f"Company {n}"})["id"] for n in range(13)]
    found = accelo.ok("GET", "/companies", params={"_filters": f"id({ids[11]},{ids[12]})"})
    assert [c["id"] for c in found] == [ids[11], ids[12]]
    modified = accelo.ok("GET", "/companies", params={"_filters": "date_modified_after(1494596024)", "_limit": "100"})
    assert len(modified) == 13
    assert accelo.ok("GET", "/companies", params={"_filters": "standing(active)"}) == []
    assert len(accelo.ok("GET", "/companies", params={"_filters": "standing_not(active)", "_limit": "100"})) == 13
    # _page counts from 0, _limit defaults to 10; no totals: a short page is the end
    assert [c["id"] for c in accelo.ok("GET", "/companies")] == ids[:10]
    assert [c["id"] for c in accelo.ok("GET", "/companies", params={"_page": "1"})] == ids[10:]
    assert accelo.ok("GET", "/companies/count") == {"count": "13"}


def test_filters_and_fields_in_a_json_body(accelo: Deployment) -> None:
    # NOOJEE sends reads as POST with {"_method": "GET", "_fields": …, "_filters": {…}}; JSON is needed for "@"
    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    contact = accelo.ok(
        "POST",
        "/contacts",
        data={"firstname": "Hubert", "surname": "Farnsworth", "company_id": company["id"], "email": "hubert@pe.com"},
    )
    found = accelo.ok(
        "POST",
        "/affiliations",
        json={"_method": "GET", "_fields": "contact(_ALL), email", "_filters": {"email": ["hubert@pe.com"]}},
    )
    assert len(found) == 1
    assert found[0]["email"] == "hubert@pe.com"
    assert found[0]["contact"]["id"] == contact["id"]
    ordered = accelo.ok(
        "POST",
        "/companies",
        json={"_method": "GET", "_filters": {"id": [int(company["id"])], "order_by_desc": ["status"]}},
    )
    assert [c["id"] for c in ordered] == [company["id"]]


def test_searching(accelo: Deployment) -> None:
    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    accelo.ok("POST", "/contacts", data={"firstname": "Kurt", "surname": "Wagner", "company_id": company["id"]})
    accelo.ok("POST", "/contacts", data={"firstname": "Kurt", "surname": "Russell", "company_id": company["id"]})
    assert len(accelo.ok("GET", "/contacts", params={"_search": "kurt wagner"})) == 1  # the terms are ANDed
    assert len(accelo.ok("GET", "/contacts", params={"_filters": "_OR(search(wagner),search(russell))"})) == 2


def test_method_override_deletes_with_a_post(accelo: Deployment) -> None:
    company = accelo.ok("POST", "/companies", data={"name": "Doomed"})
    response = accelo.http.post(f"/api/v0/companies/{company['id']}?_method=delete", headers=BEARER)
    assert response.json() == {"meta": OK_META}  # DELETE returns no resource
    assert accelo.api("GET", f"/companies/{company['id']}").status_code == 400


# -- _companies.md, _contacts.md, _affiliations.md ------------------------------------------------------------


def test_company_put_takes_website_phone_fax_comments_and_name(accelo: Deployment) -> None:
    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    changes = {"website": "planetexpress.com", "phone": "555", "fax": "556", "comments": "Good news!", "name": "PE"}
    updated = accelo.ok("PUT", f"/companies/{company['id']}", data=changes, params={"_fields": ",".join(changes)})
    assert {key: updated[key] for key in changes} == changes


def test_post_contacts_makes_the_contact_and_an_affiliation(accelo: Deployment) -> None:
    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    contact = accelo.ok(
        "POST",
        "/contacts",
        data={
            "firstname": "Philip",
            "surname": "Fry",
            "company_id": company["id"],
            "phone": "12345678",
            "email": "joe@example.com",
            "position": "CEO",
        },
        params={"_fields": "default_affiliation"},
    )
    assert set(contact) >= {"id", "firstname", "surname", "mobile", "email"}  # the contact's default fields
    affiliation = accelo.ok("GET", f"/affiliations/{contact['default_affiliation']}", params={"_fields": "_ALL"})
    # {"id":"99","company":"40","contact":"95","email":"joe@example.com","phone":"12345678","mobile":…,"fax":"",
    #  "position":"CEO","physical_address":…,"postal_address":…,"standing":"active","affiliation_status":…,
    #  "date_modified":"1489507383",…,"portal_access":"1","communication":"1","invoice_method":"email",…}
    assert (affiliation["company"], affiliation["contact"]) == (company["id"], contact["id"])
    assert (affiliation["email"], affiliation["phone"], affiliation["position"]) == (
        "joe@example.com",
        "12345678",
        "CEO",
    )
    assert {"mobile", "fax", "physical_address", "postal_address", "standing", "affiliation_status", "date_modified",
            "portal_access", "communication", "invoice_method", "staff_bookmarked"} <= set(affiliation)  # fmt: skip


def test_delete_contact_only_deactivates(accelo: Deployment) -> None:
    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    contact = accelo.ok("POST", "/contacts", data={"firstname": "A", "surname": "B", "company_id": company["id"]})
    assert accelo.api("DELETE", f"/contacts/{contact['id']}").json() == {"meta": OK_META}
    assert accelo.ok("GET", f"/contacts/{contact['id']}", params={"_fields": "standing"})["standing"] == "inactive"


def test_a_taken_username_is_a_duplicate(accelo: Deployment) -> None:
    # _status_codes.md: duplicate | 400 | a create or update would duplicate a unique name, title or username
    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    person = {"firstname": "Philip", "surname": "Fry", "company_id": company["id"], "username": "fry"}
    first = accelo.ok("POST", "/contacts", data=person)
    again = accelo.api("POST", "/contacts", data={**person, "firstname": "Yancy"})
    assert again.status_code == 400
    assert again.json()["response"] is None
    assert again.json()["meta"]["status"] == "duplicate"
    other = accelo.ok("POST", "/contacts", data={**person, "username": "leela"})
    renamed = accelo.api("PUT", f"/contacts/{other['id']}", data={"username": "fry"})
    assert (renamed.status_code, renamed.json()["meta"]["status"]) == (400, "duplicate")
    assert accelo.ok("GET", f"/contacts/{first['id']}", params={"_fields": "username"})["username"] == "fry"
    assert accelo.ok("GET", f"/contacts/{other['id']}", params={"_fields": "username"})["username"] == "leela"


# -- _statuses.md, _progressions.md ---------------------------------------------------------------------------


def test_statuses_and_progressions(accelo: Deployment) -> None:
    statuses = accelo.ok("GET", "/companies/statuses", params={"_fields": "_ALL"})
    # {"id":"2","title":"Qualified","standing":"active","color":"yellow","start":"yes","ordering":"1"}
    assert all(set(s) == {"id", "title", "standing", "color", "start", "ordering"} for s in statuses)
    assert {s["start"] for s in statuses} == {"yes", "no"}
    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    progressions = accelo.ok("GET", f"/companies/{company['id']}/progressions")
    # {id, title, status{id, title, standing, color}}
    assert all(set(p) == {"id", "title", "status"} for p in progressions)
    assert all(set(p["status"]) == {"id", "title", "standing", "color"} for p in progressions)
    target = progressions[0]
    updated = accelo.ok(
        "POST", f"/companies/{company['id']}/progressions/{target['id']}/auto", params={"_fields": "status"}
    )
    assert updated["id"] == company["id"]  # "the response will contain the single updated object"
    assert updated["status"] == target["status"]["id"]
    history = accelo.ok("GET", "/progressions/history", params={"_fields": "_ALL"})
    assert set(history[0]) == {"id", "to_id", "to_title", "against_type", "against_id", "modified_by", "date_modified"}
    assert accelo.ok("GET", f"/companies/{company['id']}/status")["id"] == target["status"]["id"]


# -- _profiles.md -------------------------------------------------------------------------------------------


def test_profile_values_set_and_updated_with_value(accelo: Deployment) -> None:
    accelo.http.post(
        "/_sim/profile-fields", json={"object_type": "company", "field_name": "Opening Hours", "field_type": "text"}
    )
    company = accelo.ok("POST", "/companies", data={"name": "Fishy Joe's"})
    fields = accelo.ok("GET", "/companies/profiles/fields", params={"_fields": "_ALL"})
    # {"link_type":"company","required":"no","parent_id":"0","description":…,"id":"12","lookup_type":null,
    #  "confidential":"no","field_name":"Opening Hours","restrictions":"all","field_type":"text","exported":"no"}
    assert fields[0]["field_name"] == "Opening Hours"
    assert (fields[0]["link_type"], fields[0]["required"], fields[0]["parent_id"]) == ("company", "no", "0")
    # curl -X post …/companies/{company_id}/profiles/fields/{profiles_field_id} -d 'value=16-20'
    created = accelo.ok(
        "POST", f"/companies/{company['id']}/profiles/fields/{fields[0]['id']}", content=b"value=16-20",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert (created["field_name"], created["field_type"], created["value"], created["value_type"]) == (
        "Opening Hours",
        "text",
        "16-20",
        None,
    )
    # curl -X put …/companies/{company_id}/profiles/values/128 -d 'value=09-18'
    updated = accelo.ok("PUT", f"/companies/{company['id']}/profiles/values/{created['id']}", data={"value": "09-18"})
    assert (updated["id"], updated["value"]) == (created["id"], "09-18")


def test_a_multi_select_value_comes_back_as_value_and_values(accelo: Deployment) -> None:
    # _profiles.md: multi_select comes back as "value":"one, two" together with "values":["one","two"]
    for name, kind, options in (("Markets", "multi_select", ["one", "two", "three"]), ("Hours", "text", [])):
        accelo.http.post(
            "/_sim/profile-fields",
            json={"object_type": "company", "field_name": name, "field_type": kind, "options": options},
        )
    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    fields = {f["field_name"]: f for f in accelo.ok("GET", "/companies/profiles/fields", params={"_fields": "_ALL"})}
    assert fields["Markets"]["options"] == ["one", "two", "three"]
    markets = accelo.ok(
        "POST", f"/companies/{company['id']}/profiles/fields/{fields['Markets']['id']}", data={"value": "one, two"}
    )
    assert (markets["field_type"], markets["value"], markets["values"]) == ("multi_select", "one, two", ["one", "two"])
    accelo.ok("POST", f"/companies/{company['id']}/profiles/fields/{fields['Hours']['id']}", data={"value": "9-5"})

    values = {
        v["field_name"]: v
        for v in accelo.ok("GET", f"/companies/{company['id']}/profiles/values", params={"_fields": "_ALL"})
    }
    # {id, field_type, field_name, value_type, value, values (multi_select only), date_modified, modified_by,
    #  field_id, link_type, link_id}
    documented = {"id", "field_type", "field_name", "value_type", "value", "date_modified", "modified_by",
                  "field_id", "link_type", "link_id"}  # fmt: skip
    assert documented | {"values"} <= set(values["Markets"])
    assert documented <= set(values["Hours"])
    assert "values" not in values["Hours"]  # multi_select only
    assert (values["Markets"]["value"], values["Markets"]["values"]) == ("one, two", ["one", "two"])
    assert (values["Markets"]["link_type"], values["Markets"]["link_id"]) == ("company", company["id"])
    assert values["Markets"]["field_id"] == fields["Markets"]["id"]
    assert values["Markets"]["date_modified"].isdigit()


# -- _segmentations.md --------------------------------------------------------------------------------------


def test_a_companys_segmentations(accelo: Deployment) -> None:
    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    assert accelo.ok("GET", f"/companies/{company['id']}/segmentations") == []
    assert accelo.ok("GET", "/segmentations/count") == {"count": "0"}


def test_segmentation_definitions_and_a_records_values(accelo: Deployment) -> None:
    industry = accelo.sim.add_segmentation("Industry", "company")
    accelo.sim.add_segmentation("Region", "company", exclusive=True)
    interests = accelo.sim.add_segmentation("Interests", "contact")
    # {id, title, link_type (company|affiliation|contact), standing (active|inactive), required, exclusive, leaf}
    definitions = accelo.ok("GET", "/segmentations", params={"_fields": "_ALL"})
    assert all(set(d) >= {"id", "title", "link_type", "standing", "required", "exclusive", "leaf"} for d in definitions)
    assert [(d["title"], d["link_type"], d["exclusive"]) for d in definitions] == [
        ("Industry", "company", "no"),
        ("Region", "company", "yes"),
        ("Interests", "contact", "no"),
    ]
    assert {d["standing"] for d in definitions} <= {"active", "inactive"}
    assert accelo.ok("GET", f"/segmentations/{industry}", params={"_fields": "title"})["title"] == "Industry"
    assert accelo.ok("GET", "/segmentations/count") == {"count": "3"}

    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    accelo.sim.set_segmentation_values("company", int(company["id"]), industry, ["Transport", "Delivery"])
    # [{"id":"1","title":"Industry","value":"Transport","values":["Transport"]}], value comma-joined
    assert accelo.ok("GET", f"/companies/{company['id']}/segmentations") == [
        {"id": str(industry), "title": "Industry", "value": "Transport, Delivery", "values": ["Transport", "Delivery"]}
    ]
    contact = accelo.ok("POST", "/contacts", data={"firstname": "A", "surname": "B", "company_id": company["id"]})
    accelo.sim.set_segmentation_values("contact", int(contact["id"]), interests, ["Space"])
    assert accelo.ok("GET", f"/contacts/{contact['id']}/segmentations") == [
        {"id": str(interests), "title": "Interests", "value": "Space", "values": ["Space"]}
    ]


# -- _addresses.md ------------------------------------------------------------------------------------------


def test_the_address_object_and_its_endpoints(accelo: Deployment) -> None:
    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    contact = accelo.ok("POST", "/contacts", data={"firstname": "A", "surname": "B", "company_id": company["id"]})
    # POST /addresses needs against_type and against_id
    assert accelo.api("POST", "/addresses", data={"street1": "x"}).json()["meta"]["status"] == "invalid_request"
    created = accelo.ok(
        "POST",
        "/addresses",
        data={
            "against_type": "company",
            "against_id": company["id"],
            "title": "US Headquarters",
            "street1": "880 Harrison St.",
            "street2": "Suite 302",
            "city": "San Francisco",
            "zipcode": "94107",
            "state": "CA",
            "country": "United States",
            "postal": "yes",
            "physical": "yes",
        },
    )
    assert set(created) == {"id", "full"}  # the default fields
    record = accelo.ok("GET", f"/addresses/{created['id']}", params={"_fields": "_ALL"})
    # {"postal":"yes","short":"San Francisco, 94107, CA, United States","zipcode":"94107","title":"US Headquarters",
    #  "full":"880 Harrison St., San Francisco, 94107, CA, United States","id":"17","city":"San Francisco",
    #  "state":"15","country":"2","physical":"yes","street1":"880 Harrison St.","street2":"Suite 302"}
    assert {key: record[key] for key in ("title", "street1", "street2", "city", "zipcode", "postal", "physical")} == {
        "title": "US Headquarters",
        "street1": "880 Harrison St.",
        "street2": "Suite 302",
        "city": "San Francisco",
        "zipcode": "94107",
        "postal": "yes",
        "physical": "yes",
    }
    assert record["full"] == "880 Harrison St., San Francisco, 94107, CA, United States"
    assert record["short"] == "San Francisco, 94107, CA, United States"
    assert record["state"].isdigit()
    assert record["country"].isdigit()
    # _fields=country(),state: the country as an object, the state as its id
    linked = accelo.ok("GET", f"/addresses/{created['id']}", params={"_fields": "country(),state"})
    assert linked["country"] == {"id": record["country"], "title": "United States"}
    assert linked["state"] == record["state"]

    # PUT /addresses/{id}: country_id=Australia state=NSW street1=221 Crown St city=Wollongong postcode=2500
    moved = accelo.ok(
        "PUT",
        f"/addresses/{created['id']}",
        data={
            "country_id": "Australia",
            "state": "NSW",
            "street1": "221 Crown St",
            "street2": "",
            "city": "Wollongong",
            "postcode": "2500",
        },
        params={"_fields": "full,short,zipcode"},
    )
    assert (moved["full"], moved["short"], moved["zipcode"]) == (
        "221 Crown St, Wollongong, 2500, NSW, Australia",
        "Wollongong, 2500, NSW, Australia",
        "2500",
    )

    # POST /{object}/{id}/addresses: the same without against_type and against_id
    home = accelo.ok("POST", f"/contacts/{contact['id']}/addresses", data={"street1": "1 Main St", "city": "Sydney"})
    assert [a["id"] for a in accelo.ok("GET", f"/companies/{company['id']}/addresses")] == [created["id"]]
    assert [a["id"] for a in accelo.ok("GET", f"/contacts/{contact['id']}/addresses")] == [home["id"]]
    # GET /addresses/count: {"count": …}, with the list's filters
    assert accelo.ok("GET", "/addresses/count") == {"count": "2"}
    assert accelo.ok("GET", "/addresses/count", params={"_filters": "against_type(contact)"}) == {"count": "1"}
    listed = accelo.ok("GET", "/addresses", params={"_filters": f"against_id({company['id']}),against_type(company)"})
    assert [a["id"] for a in listed] == [created["id"]]


# -- _authentication.md -------------------------------------------------------------------------------------


def test_service_application_token(accelo: Deployment) -> None:
    basic = base64.b64encode(f"{SERVICE_CLIENT_ID}:{SERVICE_CLIENT_SECRET}".encode()).decode()
    response = accelo.http.post(
        "/oauth2/v0/token",
        data={"grant_type": "client_credentials", "scope": "read(all)"},
        headers={"Authorization": f"Basic {basic}"},
    )
    token = response.json()
    # {"access_token":"Ck9ma73_db","expires_in":"2592000","token_type":"bearer","deployment":…,…}
    assert token["expires_in"] == "2592000"
    assert token["token_type"] == "bearer"
    assert {"access_token", "deployment", "deployment_name", "deployment_uri", "account_id", "account_details"} <= set(
        token
    )
    info = accelo.ok("GET", "/tokeninfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert {"email", "expiry_date", "firstname", "surname", "deployment", "locale", "staff_id"} <= set(info)


def test_web_application_code_refresh_and_errors(accelo: Deployment) -> None:
    params = {"response_type": "code", "client_id": WEB_CLIENT_ID, "scope": "read(all)", "state": "s1"}
    redirect = accelo.http.get("/oauth2/v0/authorize", params={**params, "redirect_uri": WEB_REDIRECT_URIS[0]})
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert query["state"] == ["s1"]
    auth = (WEB_CLIENT_ID, WEB_CLIENT_SECRET)
    form = {"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": WEB_REDIRECT_URIS[0]}
    token = accelo.http.post("/oauth2/v0/token", data=form, auth=auth).json()
    # {"access_token":"Ck9ma73_db","refresh_token":"VYfb63__vf","token_type":"Bearer","expires_in":2592000}
    assert set(token) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert (token["token_type"], token["expires_in"]) == ("Bearer", 2592000)
    again = accelo.http.post("/oauth2/v0/token", data=form, auth=auth)
    # {"error":"invalid_grant","error_description":"Grant was not found (possibly expired)."}
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant", "error_description": "Grant was not found (possibly expired)."}
    refreshed = accelo.http.post(
        "/oauth2/v0/token", data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}, auth=auth
    ).json()
    assert refreshed["access_token"] != token["access_token"]
    revoked = accelo.http.post("/oauth2/v0/revoke", data={"token": refreshed["access_token"]}, auth=auth)
    assert revoked.json()["meta"]["status"] == "ok"
    assert (
        accelo.api("GET", "/companies", headers={"Authorization": f"Bearer {refreshed['access_token']}"}).status_code
        == 401
    )


def test_a_token_in_the_header_and_the_query_is_refused(accelo: Deployment) -> None:
    response = accelo.api("GET", "/companies", params={"_bearer_token": DEFAULT_ACCESS_TOKEN})
    assert response.json()["meta"]["status"] == "invalid_request"
    alone = accelo.http.get("/api/v0/companies", params={"_bearer_token": DEFAULT_ACCESS_TOKEN})
    assert alone.status_code == 200


# -- #rate-limiting -----------------------------------------------------------------------------------------


def test_the_rate_limit_headers_and_429(accelo: Deployment) -> None:
    accelo.http.put("/_sim/rate-limit", json={"limit": 2, "window_seconds": 3600})
    first = accelo.api("GET", "/companies")
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
    assert first.headers["X-RateLimit-Reset"].isdigit()
    accelo.api("GET", "/companies")
    refused = accelo.api("GET", "/companies")
    assert refused.status_code == 429
    # meta {"status":"too_many_requests","message":"Rate limit exceeded for planet-express.api.accelo.com",…}
    assert refused.json()["meta"]["status"] == "too_many_requests"
    assert refused.json()["meta"]["message"].startswith("Rate limit exceeded for ")
    assert refused.json()["meta"]["more_info"] == "api.accelo.com/docs/#rate-limiting"


# -- _webhooks.md -------------------------------------------------------------------------------------------


def test_webhook_subscriptions_and_a_delivery(accelo: Deployment) -> None:
    types = accelo.ok("GET", "/webhooks/subscriptions/types")
    assert {
        "event_id": "create_company",
        "event_title": "Create Company",
        "trigger_table": "company",
        "trigger_type": "create",
    } in types
    # CONF: {"trigger_url":"https://your-domain.com/callback","event_id":"assign_task"}
    task = accelo.ok(
        "POST",
        "/webhooks/subscriptions",
        json={"trigger_url": "https://your-domain.com/callback", "event_id": "assign_task"},
    )
    assert task["subscription"]["event_id"] == "assign_task"
    subscription = {"trigger_url": "https://your-domain.com/callback", "event_id": "create_company", "secret": "s3cret"}
    created = accelo.ok("POST", "/webhooks/subscriptions", data={**subscription, "content_type": "application/json"})[
        "subscription"
    ]
    documented = {
        "content_type",
        "event_id",
        "trigger_table",
        "trigger_type",
        "trigger_url",
        "user_deployment",
        "user_id",
    }
    assert documented | {"subscription_id"} <= set(created)
    listed = accelo.ok("GET", "/webhooks/subscriptions")["subscriptions"]
    assert [s["subscription_id"] for s in listed] == [
        task["subscription"]["subscription_id"],
        created["subscription_id"],
    ]

    company = accelo.ok("POST", "/companies", data={"name": "Planet Express"})
    accelo.http.post("/_sim/webhooks/flush")
    headers, body = accelo.received[-1]
    assert headers["x-accelo-event"] == "create_company"
    assert json.loads(body) == {
        "id": company["id"],
        "resource_url": f"https://simulator.api.accelo.com/api/v0/companies/{company['id']}",
    }
    assert headers["x-hub-signature"] == hmac.new(b"s3cret", body, hashlib.sha1).hexdigest()

    status = accelo.ok(
        "POST", f"/webhooks/subscriptions/{created['subscription_id']}/dispatch", data={"object_id": company["id"]}
    )
    assert status == {"status": 200}
    assert accelo.api("DELETE", f"/webhooks/subscriptions/{created['subscription_id']}").json() == {"meta": OK_META}
    remaining = accelo.ok("GET", "/webhooks/subscriptions")["subscriptions"]
    assert [s["event_id"] for s in remaining] == ["assign_task"]
    form_delivery = [b for h, b in accelo.received if h["content-type"].startswith("application/x-www-form")]
    assert all(set(dict(parse_qsl(b.decode()))) == {"id", "resource_url"} for b in form_delivery)
