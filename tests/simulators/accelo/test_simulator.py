"""The Accelo simulator on its own, through plain HTTP: Accelo's rules, the control surface, speed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlink.kit.asgi import in_process_client
from interlink.simulators.accelo import DEFAULT_ACCESS_TOKEN, AcceloSimulator, AcceloSimulatorApp, create_app

BASE = "https://simulator.api.accelo.com"
AUTH = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"}


class Api:
    def __init__(self, app: AcceloSimulatorApp, http: httpx.Client) -> None:
        self.app = app
        self.http = http

    @property
    def sim(self) -> AcceloSimulator:
        return self.app.simulator

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"/api/v0{path}", headers=AUTH, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["meta"]["status"] == "ok"
        return body.get("response")

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/_sim{path}", **kwargs)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api() -> Iterator[Api]:
    app = create_app(webhook_retry_delays=(0.01,))
    with in_process_client(app, BASE) as http:
        yield Api(app, http)
    app.close()


def test_records_come_back_string_typed_in_the_envelope(api: Api) -> None:
    company_id = api.sim.user_create_company("Planet Express", website="planetexpress.example")
    response = api.call("GET", f"/companies/{company_id}", params={"_fields": "_ALL"})
    body = response.json()
    assert set(body) == {"meta", "response"}
    assert body["meta"] == {
        "status": "ok",
        "message": "Everything executed as expected.",
        "more_info": "https://affinitylive.jira.com/wiki/display/APIS/Status+Codes#ok",
    }
    record = body["response"]
    assert record["id"] == str(company_id)
    assert record["status"] == "1"
    assert record["date_modified"].isdigit()
    assert record["staff_bookmarked"] == "0"
    assert record["fax"] is None


def test_a_missing_record_is_a_400_invalid_request(api: Api) -> None:
    response = api.call("GET", "/companies/999")
    assert response.status_code == 400
    assert response.json()["meta"]["status"] == "invalid_request"
    assert response.json()["response"] is None


def test_an_unknown_path_or_method_is_invalid_request(api: Api) -> None:
    assert api.call("GET", "/monkeys").json()["meta"]["status"] == "invalid_request"
    assert api.call("PATCH", "/companies").status_code == 400


def test_api_calls_need_a_token(api: Api) -> None:
    response = api.http.get("/api/v0/companies")
    assert response.status_code == 401
    assert response.json()["meta"]["status"] == "invalid_client"


def test_lists_are_sorted_by_id_paged_without_totals(api: Api) -> None:
    ids = [api.sim.user_create_company(f"Company {n}") for n in range(25)]
    default = api.ok("GET", "/companies")
    assert [int(c["id"]) for c in default] == ids[:10]  # _limit defaults to 10
    page = api.ok("GET", "/companies", params={"_limit": "10", "_page": "2"})
    assert [int(c["id"]) for c in page] == ids[20:]
    assert len(api.ok("GET", "/companies", params={"_limit": "500"})) == 25  # clamped to 100, unconfirmed upstream
    assert api.ok("GET", "/companies/count") == {"count": "25"}
    assert api.call("GET", "/companies", params={"_limit": "lots"}).status_code == 400


def test_fields_defaults_all_and_nested(api: Api) -> None:
    sim = api.sim
    company_id = sim.user_create_company("Planet Express", website="planetexpress.example")
    api.ok(
        "POST",
        f"/companies/{company_id}/addresses",
        data={"city": "New New York", "country": "United States", "postal": "yes"},
    )
    assert set(api.ok("GET", f"/companies/{company_id}")) == {"id", "name"}
    assert set(api.ok("GET", f"/companies/{company_id}", params={"_fields": "website"})) == {"id", "name", "website"}
    linked = api.ok("GET", f"/companies/{company_id}", params={"_fields": "postal_address,status()"})
    assert linked["postal_address"].isdigit()
    assert linked["status"] == {"id": "1", "title": "Prospect"}
    nested = api.ok("GET", f"/companies/{company_id}", params={"_fields": "postal_address(city,country(title))"})
    assert nested["postal_address"]["city"] == "New New York"
    assert nested["postal_address"]["country"] == {"id": "2", "title": "United States"}
    hidden = api.ok("GET", f"/companies/{company_id}", params={"_fields": "website", "_hide_defaults": "1"})
    assert hidden == {"website": "planetexpress.example"}


def test_filters(api: Api) -> None:
    sim = api.sim
    clock = sim.clock
    start = clock.freeze()
    a = sim.user_create_company("Acme", website="acme.example")
    clock.advance(10)
    b = sim.user_create_company("Beta")
    c = sim.user_create_company("Gamma", website="gamma.example")
    sim.user_change_status("company", c, sim.status_id("company", "Active"))

    def ids(filters: str, **params: str) -> list[int]:
        return [int(x["id"]) for x in api.ok("GET", "/companies", params={"_filters": filters, **params})]

    assert ids(f"id({a},{c})") == [a, c]
    assert ids(f"date_modified_after({start})") == [b, c]  # strictly after
    assert ids(f"date_modified_before({start + 10})") == [a]
    assert ids(f"id_greater_than({a})") == [b, c]
    assert ids("standing(active)") == [c]
    assert ids("standing_not(active)") == [a, b]
    assert ids("empty(website)") == [b]
    assert ids("order_by_desc(name)") == [c, b, a]
    assert ids(f"_OR(standing(active),_AND(id({a},{b}),empty(website)))") == [b, c]
    assert ids("search(gam)") == [c]
    assert ids("id(1)", _search="acme") == [a]
    assert api.call("GET", "/companies", params={"_filters": "shoe_size(9)"}).status_code == 400
    as_json = api.ok("POST", "/companies", json={"_method": "GET", "_filters": {"id": [a, b], "order_by_desc": ["id"]}})
    assert [int(x["id"]) for x in as_json] == [b, a]


def test_put_takes_only_the_documented_fields(api: Api) -> None:
    company_id = api.sim.user_create_company("Planet Express")
    assert api.ok("PUT", f"/companies/{company_id}", data={"website": "pe.example"})["id"] == str(company_id)
    refused = api.call("PUT", f"/companies/{company_id}", data={"status": "2"})
    assert refused.status_code == 400
    assert "progressions" in refused.json()["meta"]["message"]
    assert api.call("PUT", f"/companies/{company_id}", data={"custom_id": "X1"}).status_code == 400
    assert api.call("PUT", f"/contacts/{company_id}", data={"firstname": "x"}).status_code == 400  # no such contact


def test_statuses_change_only_through_allowed_progressions(api: Api) -> None:
    sim = api.sim
    company_id = sim.user_create_company("Planet Express")
    options = api.ok("GET", f"/companies/{company_id}/progressions")
    assert [(p["title"], p["status"]["title"]) for p in options] == [("Win", "Active"), ("Disqualify", "Inactive")]
    moved = api.ok(
        "POST", f"/companies/{company_id}/progressions/{options[0]['id']}/auto", params={"_fields": "status,standing"}
    )
    assert (moved["status"], moved["standing"]) == (str(sim.status_id("company", "Active")), "active")
    not_now = api.call("PUT", f"/companies/{company_id}/progressions/{options[0]['id']}/auto")
    assert not_now.status_code == 400  # Win leads out of Prospect only
    history = api.ok("GET", "/progressions/history", params={"_fields": "_ALL"})
    assert [(h["against_type"], h["against_id"], h["to_title"]) for h in history] == [
        ("company", str(company_id), "Active")
    ]
    api.control(
        "PUT", "/transitions/company", json=[{"from": None, "to": sim.status_id("company", "Paused"), "title": "Pause"}]
    )
    assert [p["title"] for p in api.ok("GET", f"/companies/{company_id}/progressions")] == ["Pause"]


def test_profile_values_by_type(api: Api) -> None:
    sim = api.sim
    company_id = sim.user_create_company("Planet Express")
    staff = sim.add_profile_field("company", "Staff", "integer")
    founded = sim.add_profile_field("company", "Founded", "date")
    tier = sim.add_profile_field("company", "Tier", "select", options=["Gold", "Silver"])

    wrong_parameter = api.call("POST", f"/companies/{company_id}/profiles/fields/{staff}", data={"value": "42"})
    assert wrong_parameter.status_code == 400
    assert "value_int" in wrong_parameter.json()["meta"]["message"]
    created = api.ok("POST", f"/companies/{company_id}/profiles/fields/{staff}", data={"value_int": "42"})
    again = api.ok("POST", f"/companies/{company_id}/profiles/fields/{staff}", data={"value_int": "43"})
    assert again["id"] == created["id"]  # one value per field and record
    assert api.ok("POST", f"/companies/{company_id}/profiles/fields/{founded}", data={"value_date": "2999-01-01"})[
        "value"
    ] == str(32472144000)
    assert (
        api.call("POST", f"/companies/{company_id}/profiles/fields/{tier}", data={"value": "Bronze"}).status_code == 400
    )
    updated = api.ok("PUT", f"/companies/{company_id}/profiles/values/{created['id']}", data={"value_int": "7"})
    assert updated["value"] == "7"
    assert set(updated) == {"id", "field_type", "field_name", "value_type", "value"}  # values: multi_select only


def test_a_contact_is_created_with_its_affiliation(api: Api) -> None:
    company_id = api.sim.user_create_company("Planet Express")
    contact = api.ok(
        "POST",
        "/contacts",
        data={"firstname": "Philip", "surname": "Fry", "company_id": str(company_id), "email": "fry@pe.example"},
        params={"_fields": "default_affiliation"},
    )
    affiliation = api.ok(
        "GET", f"/affiliations/{contact['default_affiliation']}", params={"_fields": "company,contact,email"}
    )
    assert (affiliation["company"], affiliation["contact"], affiliation["email"]) == (
        str(company_id),
        contact["id"],
        "fry@pe.example",
    )
    assert api.call("POST", "/contacts", data={"firstname": "No", "surname": "Company"}).status_code == 400
    assert (
        api.call(
            "POST", "/contacts", data={"firstname": "A", "surname": "B", "company_id": str(company_id), "mobile": "1"}
        ).status_code
        == 400
    )


def test_date_modified_moves_on_every_change_of_that_record_only(api: Api) -> None:
    sim = api.sim
    clock = sim.clock
    start = clock.freeze()
    company_id = sim.user_create_company("Planet Express")
    contact_id = sim.user_create_contact(company_id, "Philip", "Fry")
    affiliation_id = sim.record("contact", contact_id)["default_affiliation"]  # type: ignore[index]
    field_id = sim.add_profile_field("company", "Hours")
    clock.advance(5)
    sim.user_update_affiliation(affiliation_id, phone="555")
    value_id = sim.user_set_profile_value("company", company_id, field_id, "9-5")

    def stamp(path: str) -> int:
        return int(api.ok("GET", path, params={"_fields": "date_modified"})["date_modified"])

    assert stamp(f"/affiliations/{affiliation_id}") == start + 5
    assert stamp(f"/contacts/{contact_id}") == start  # the contact itself did not change
    assert stamp(f"/companies/{company_id}") == start  # nor did the company
    values = api.ok("GET", f"/companies/{company_id}/profiles/values", params={"_fields": "_ALL"})
    assert [(int(v["id"]), int(v["date_modified"])) for v in values] == [(value_id, start + 5)]
    clock.advance(5)
    api.ok("PUT", f"/companies/{company_id}", data={"phone": "1"})
    assert stamp(f"/companies/{company_id}") == start + 10


def test_rate_limit_headers_and_the_429(api: Api) -> None:
    api.sim.rate_limit.configure(limit=3, window_seconds=60)
    first = api.call("GET", "/companies")
    assert first.headers["x-ratelimit-limit"] == "3"
    assert first.headers["x-ratelimit-remaining"] == "2"
    assert int(first.headers["x-ratelimit-reset"]) >= time.time() + 59
    api.call("GET", "/companies")
    api.call("GET", "/companies")
    refused = api.call("GET", "/companies")
    assert refused.status_code == 429
    assert refused.json()["meta"]["status"] == "too_many_requests"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    token = api.http.post("/oauth2/v0/token", data={"grant_type": "client_credentials"}, auth=("x", "y"))
    assert "x-ratelimit-limit" not in token.headers  # /oauth2 calls are not counted
    stats = api.control("GET", "/rate-limit")
    assert (stats["counted"], stats["rejected"], stats["max_in_any_window"]) == (4, 1, 4)


def test_method_override_and_suppress_options(api: Api) -> None:
    company_id = api.sim.user_create_company("Planet Express")
    deleted = api.http.post(f"/api/v0/companies/{company_id}?_method=delete", headers=AUTH)
    assert deleted.json() == {
        "meta": {
            "status": "ok",
            "message": "Everything executed as expected.",
            "more_info": "https://affinitylive.jira.com/wiki/display/APIS/Status+Codes#ok",
        }
    }
    missing = api.call(
        "GET", f"/companies/{company_id}", params={"_suppress_http_status": "1", "_suppress_message": "1"}
    )
    assert missing.status_code == 200
    assert missing.json()["meta"] == {"status": "invalid_request", "response_code": 400}
    assert "meta" not in api.call("GET", "/companies", params={"_suppress_meta": "yes"}).json()


def test_state_persists_to_a_json_file(tmp_path: Path) -> None:
    state_file = tmp_path / "accelo.json"
    app = create_app(state_file=state_file, autosave_seconds=0)
    first = app.simulator.user_create_company("Planet Express")
    field_id = app.simulator.add_profile_field("company", "Hours")
    app.simulator.user_set_profile_value("company", first, field_id, "9-5")
    app.close()  # saves

    again = create_app(state_file=state_file, autosave_seconds=0)
    try:
        assert again.simulator.record("company", first)["name"] == "Planet Express"  # type: ignore[index]
        assert again.simulator.profile_values_of("company", first) == {field_id: "9-5"}
        assert again.simulator.user_create_company("Next") == first + 1  # ids continue
    finally:
        again.close()


def test_the_control_surface(api: Api) -> None:
    seeded = api.control(
        "POST",
        "/seed",
        json={
            "profile_fields": [{"object_type": "company", "field_name": "Hours"}],
            "companies": [
                {"name": "Planet Express", "status": "Active", "contacts": [{"firstname": "Philip", "surname": "Fry"}]}
            ],
            "generate": {"companies": 3, "contacts_per_company": 1},
        },
    )
    company_id, contact_id = seeded["companies"][0], seeded["contacts"][0]
    assert api.control("GET", "/state")["counts"]["companies"] == 4
    edited = api.control("PATCH", f"/companies/{company_id}", json={"website": "pe.example"})
    assert edited["website"] == "pe.example"
    api.control("PUT", f"/companies/{company_id}/profile/{seeded['profile_fields'][0]}", json={"value": "9-5"})
    api.control("POST", f"/contacts/{contact_id}/status", json={"status_id": api.sim.status_id("contact", "Inactive")})
    created = api.control("POST", "/contacts", json={"company_id": company_id, "firstname": "Amy", "surname": "Wong"})
    api.control("DELETE", f"/contacts/{created['id']}")
    assert api.call("GET", f"/contacts/{created['id']}").status_code == 400
    api.ok("GET", "/companies")
    calls = api.control("GET", "/calls")
    assert calls["total"] == 2  # the GET just above and the missing contact; /_sim calls are not counted
    token = api.control("POST", "/tokens", json={"expires_in": 60})["access_token"]
    assert api.http.get("/api/v0/companies", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    api.control("POST", "/faults", json={"path_pattern": "^/api/v0/companies$", "status": 503, "times": 1})
    assert api.call("GET", "/companies").status_code == 503
    assert api.control("POST", "/clock", json={"advance": 60})["offset"] == 60
    bad = api.http.post("/_sim/contacts", json={"company_id": 999, "firstname": "X", "surname": "Y"})
    assert bad.status_code == 400
    api.control("POST", "/reset")
    state = api.control("GET", "/state")
    assert state["counts"]["companies"] == 0
    assert state["calls"] == 0


def test_a_hundred_thousand_records_stay_fast() -> None:
    app = create_app()
    sim = app.simulator
    try:
        started = time.perf_counter()
        sim.generate(companies=100_000, contacts_per_company=1, spread_seconds=86_400)
        generated = time.perf_counter() - started
        with in_process_client(app, BASE) as http:
            timings = {}
            for name, path, params in [
                (
                    "100 ids",
                    "/companies",
                    {"_filters": "id(" + ",".join(map(str, range(50_000, 50_100))) + ")", "_limit": "100"},
                ),
                (
                    "changed lately",
                    "/contacts",
                    {
                        "_filters": f"date_modified_after({sim.clock.now() - 600}),order_by_asc(date_modified)",
                        "_limit": "100",
                    },
                ),
                ("page 900", "/companies", {"_limit": "100", "_page": "900"}),
                ("by email", "/affiliations", {"_filters": "email(person77777@company77777.example)"}),
            ]:
                started = time.perf_counter()
                response = http.get(f"/api/v0{path}", params=params, headers=AUTH)
                timings[name] = time.perf_counter() - started
                assert response.status_code == 200
        assert generated < 20
        assert max(timings.values()) < 0.25, timings  # reads by index, not by scanning 100,000 rows
    finally:
        app.close()
