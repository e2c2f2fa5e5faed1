"""The admin UI in real Chromium: what a CRM admin does, click by click, against the simulators."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from interlink.models import Link
from interlink.simulators.accelo.simulator import DEFAULT_WEBHOOK_SECRET
from interlink.simulators.hubspot.oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.admin.browser import Site
from tests.fixtures.world import ACCELO_URL


def test_sign_in_shows_the_workspace_and_sign_out_ends_the_session(site: Site) -> None:
    page = site.page
    page.goto(site.url("/admin/records"))
    expect(page).to_have_url(re.compile(r"/admin/sign-in\?next=%2Fadmin%2Frecords"))
    site.screenshot("sign-in")
    page.fill("#workspace", site.admin.workspace.slug)
    page.fill("#email", site.admin.email)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.locator("#sign-in-error")).to_contain_text("not right")
    page.fill("#password", site.admin.password)
    page.click("button[type=submit]")
    expect(page).to_have_url(site.url("/admin/records"))
    expect(page.locator("header .workspace")).to_have_text("Acme Sales")
    page.click("text=Sign out")
    expect(page).to_have_url(re.compile(r"/admin/sign-in"))
    page.goto(site.url("/admin/"))
    expect(page).to_have_url(re.compile(r"/admin/sign-in"))


def test_connect_hubspot_with_oauth_and_accelo_with_a_service_app(bare_site: Site) -> None:
    site, page = bare_site, bare_site.page
    site.sign_in()
    expect(page.locator(".callout")).to_contain_text("HubSpot is not connected yet")
    page.click("nav.side >> text=Connections")
    # HubSpot: the simulator plays HubSpot's authorize page; the browser goes there and comes back.
    page.fill("#oauth-client-id", DEFAULT_CLIENT_ID)
    page.fill("#oauth-client-secret", DEFAULT_CLIENT_SECRET)
    page.click("#hubspot summary:has-text('Advanced')")
    page.fill("#oauth-base-url", site.hubspot_base_url)
    page.click("text=Continue to HubSpot")
    expect(page).to_have_url(site.url("/admin/connections"))
    expect(page.locator(".flash.success")).to_contain_text("connected with OAuth")
    expect(page.locator(".flash.success")).to_contain_text("read")
    expect(page.locator("#hubspot .status-line")).to_contain_text("OAuth")
    # Accelo: a service application's credentials.
    page.fill("#deployment", "simulator")
    page.fill("#accelo-client-id", "interlink-service@simulator.accelo.com")
    page.fill("#accelo-client-secret", "accelo-simulator-service-secret")
    page.fill("#accelo-webhook-secret", DEFAULT_WEBHOOK_SECRET)
    page.click("#accelo summary:has-text('Advanced')")
    page.fill("#accelo-base-url", ACCELO_URL)
    page.click("#accelo button:has-text('Save and test')")
    expect(page.locator(".flash.success")).to_contain_text("Connected to Accelo deployment simulator")
    # Test again on demand; the answer says what happened.
    page.click("#hubspot button:has-text('Test connection')")
    expect(page.locator(".flash.success")).to_contain_text("Connected to HubSpot account")
    expect(page.locator("#webhook-accelo")).to_have_value(site.url(f"/webhooks/accelo/{site.admin.workspace.slug}"))
    site.screenshot("connections")


def test_add_a_field_mapping_and_see_why_an_incompatible_one_is_refused(site: Site) -> None:
    headcount = site.world.accelo.add_profile_field("company", "Headcount", "integer")
    sector = site.world.accelo.add_profile_field("company", "Sector")
    page = site.page
    site.sign_in()
    page.goto(site.url("/admin/mappings/company"))
    expect(page.locator("table.mappings")).to_contain_text("Company name")  # the built-in mappings are listed
    # Text into a number field, both ways: refused, with the reason and the fix next to the new row.
    page.fill("#new-hubspot", "industry")
    page.fill("#new-accelo", f"profile:{headcount}")
    page.click("text=Add mapping")
    errors = page.locator("#new-mapping-errors")
    expect(errors).to_contain_text("cannot be mapped 'both'")
    expect(errors).to_contain_text("pick an Accelo string field")
    expect(page.locator("#new-hubspot")).to_have_value("industry")  # the draft is kept
    site.screenshot("field-mappings-error")
    # A compatible field is accepted and listed.
    page.fill("#new-accelo", f"profile:{sector}")
    page.select_option("#new-policy", "review")
    page.click("text=Add mapping")
    expect(page.locator(".flash.success")).to_contain_text("Mapped HubSpot industry to Accelo profile:")
    row = page.locator("table.mappings tr", has_text="industry")
    expect(row).to_contain_text("Sector")
    expect(row.locator("select[name=conflict_policy]")).to_have_value("review")
    # And the number one, one-way into HubSpot as the message suggested for a number.
    page.fill("#new-hubspot", "numberofemployees")
    page.fill("#new-accelo", f"profile:{headcount}")
    page.click("text=Add mapping")
    expect(page.locator(".flash.success")).to_contain_text("numberofemployees")
    site.screenshot("field-mappings")


def test_build_a_nested_rule_and_try_it_on_a_record(site: Site) -> None:
    hubspot = site.world.hubspot
    lead = hubspot.create_as_user("contacts", {"email": "grace@navy.example", "lifecyclestage": "lead"})["id"]
    customer = hubspot.create_as_user(
        "contacts", {"email": "ada@engines.example", "firstname": "Ada", "lifecyclestage": "customer"}
    )["id"]
    page = site.page
    site.sign_in()
    page.click("nav.side >> text=Sync rules")
    page.click("text=Create the contact rule from HubSpot")
    builder = page.locator("#rule-builder")
    first = builder.locator(".rb-leaf").nth(0)
    first.locator("select").nth(0).select_option("lifecyclestage")
    first.locator("select").nth(1).select_option("eq")
    first.locator("select").nth(2).select_option("customer")
    builder.get_by_role("button", name="+ Group").first.click()
    group = builder.locator(".rb-group .rb-group")
    expect(group.locator("select").first).to_have_value("any")
    inner = group.locator(".rb-leaf").nth(0)
    inner.locator("select").nth(0).select_option("email")
    inner.locator("select").nth(1).select_option("ends_with")
    inner.locator("input").fill("@engines.example")
    group.get_by_role("button", name="+ Condition").click()
    second = group.locator(".rb-leaf").nth(1)
    second.locator("select").nth(0).select_option("firstname")
    second.locator("select").nth(1).select_option("is_set")
    page.click("text=Save rule")
    expect(page.locator(".flash.success")).to_contain_text("HubSpot contacts that match it are created in Accelo")

    page.fill("#record-id", str(lead))
    page.get_by_role("button", name="Try it").click()
    result = page.locator("#trial-result")
    expect(result).to_contain_text("Would not be created")
    expect(result.locator(".leaf")).to_have_text("lifecyclestage eq customer")
    expect(result).to_contain_text("rule.all[0]")
    site.screenshot("sync-rule")
    page.fill("#record-id", str(customer))
    page.get_by_role("button", name="Try it").click()
    expect(page.locator("#trial-result")).to_contain_text("Would be created in Accelo")
    saved = site.world.api.get("/api/v1/sync-rules", headers=site.world.tenant.headers).json()
    condition = next(s for s in saved if s["object_type"] == "contact" and s["direction"] == "pull")["rule"][
        "condition"
    ]
    assert condition == {
        "all": [
            {"field": "lifecyclestage", "op": "eq", "value": "customer"},
            {
                "any": [
                    {"field": "email", "op": "ends_with", "value": "@engines.example"},
                    {"field": "firstname", "op": "is_set"},
                ]
            },
        ]
    }


def _sync_everyone(site: Site) -> None:
    for object_type, field in (("company", "name"), ("contact", "email")):
        response = site.world.api.post(
            "/api/v1/sync-rules",
            json={"object_type": object_type, "direction": "pull", "condition": {"field": field, "op": "is_set"}},
            headers=site.world.tenant.headers,
        )
        assert response.status_code == 201, response.text


def _linked_contact(site: Site) -> tuple[str, int]:
    _sync_everyone(site)
    hubspot = site.world.hubspot
    (company,) = hubspot.seed("companies", [{"name": "Analytical Engines Ltd", "domain": "engines.example"}])
    contact = hubspot.create_as_user(
        "contacts", {"email": "ada@engines.example", "firstname": "Ada", "lastname": "Lovelace"}
    )["id"]
    hubspot.associate_as_user("contacts", contact, "companies", company)
    site.settle()
    links = site.world.api.get("/api/v1/links?object_type=contact", headers=site.world.tenant.headers).json()
    (link,) = links["items"]
    return str(contact), int(link["accelo_id"])


def test_a_hubspot_edit_shows_on_the_record_page_with_its_history(site: Site) -> None:
    contact, accelo_id = _linked_contact(site)
    page = site.page
    site.sign_in()
    page.click("nav.side >> text=Records")
    page.fill("#q", "lovelace")
    page.click("text=Show")
    site.screenshot("records")
    page.click("text=Ada Lovelace")
    expect(page.locator("h1")).to_contain_text("Ada Lovelace")

    site.world.hubspot.update_as_user("contacts", contact, {"firstname": "Augusta"})
    site.settle()
    assert site.world.accelo.record("contact", accelo_id)["firstname"] == "Augusta"
    page.reload()
    row = page.locator("table.fields tr", has_text="firstname")
    expect(row.locator("td.value").nth(0)).to_have_text("Augusta")
    expect(row.locator("td.value").nth(1)).to_have_text("Augusta")
    expect(page.locator("#history .event").first).to_contain_text("Our own change came back")  # the echo, ignored
    latest = page.locator("#history .event.action-updated").first
    expect(latest).to_contain_text("firstname ↔ firstname")
    expect(latest).to_contain_text("HubSpot → Accelo")
    expect(latest.locator(".change")).to_have_text("Ada → Augusta")
    expect(latest).to_contain_text("HubSpot changed firstname")
    site.screenshot("record")
    row.get_by_role("link", name="Why?").click()
    expect(page.locator("#history-title")).to_contain_text("firstname ↔ firstname")
    expect(page.locator("#history .event")).to_have_count(1)  # only what touched firstname
    expect(page.locator("#history .event")).to_contain_text("Ada → Augusta")
    page.goto(site.url(f"/admin/records/{_link_id(site)}?live=1"))
    live = page.locator("table.fields tr", has_text="lastname")
    expect(live.locator("td.value").nth(1)).to_have_text("Lovelace")


def _link_id(site: Site) -> str:
    links = site.world.api.get("/api/v1/links?object_type=contact", headers=site.world.tenant.headers).json()
    return str(links["items"][0]["id"])


def test_resolve_a_held_conflict_from_the_review_queue(site: Site) -> None:
    contact, accelo_id = _linked_contact(site)
    api, headers = site.world.api, site.world.tenant.headers
    mapping = next(
        m
        for m in api.get("/api/v1/field-mappings?object_type=contact", headers=headers).json()
        if m["hubspot_property"] == "firstname"
    )
    api.patch(f"/api/v1/field-mappings/{mapping['id']}", json={"conflict_policy": "review"}, headers=headers)
    site.world.hubspot.update_as_user("contacts", contact, {"firstname": "Ada Augusta"})
    site.world.accelo.user_update_contact(accelo_id, firstname="Augusta Ada")
    site.settle()

    page = site.page
    site.sign_in()
    expect(page.locator(".tile.state-review .figure")).to_have_text("1")
    page.click("nav.side >> text=Review queue")
    item = page.locator(".queue-item").first
    expect(item.locator(".kind")).to_have_text("Conflict")
    expect(item).to_contain_text("both sides changed firstname <-> firstname")
    site.screenshot("review-queue")
    item.get_by_role("button", name="Keep HubSpot's “Ada Augusta”").click()
    expect(page.locator(".flash.success")).to_contain_text("Keeping HubSpot's value of firstname")
    site.settle()
    assert site.world.accelo.record("contact", accelo_id)["firstname"] == "Ada Augusta"
    page.reload()
    expect(page.locator(".empty")).to_contain_text("Nothing to review")
    page.goto(site.url(f"/admin/records/{_link_id(site)}"))
    expect(page.locator(".badge").first).to_have_text("In sync")
    settled = page.locator("#history .event", has_text="Conflict settled")
    expect(settled).to_contain_text("ada@acme.example kept HubSpot's value 'Ada Augusta'")


def test_the_main_screens_render_for_a_working_workspace(site: Site) -> None:
    _linked_contact(site)
    page = site.page
    site.sign_in()
    expect(page.locator(".tile.state-in_sync .figure")).to_have_text("2")
    expect(page.locator("svg.chart").first).to_have_attribute("aria-label", re.compile(r"Events received per minute"))
    expect(page.locator("section", has_text="Vendor API usage").locator("meter").first).to_be_visible()
    site.screenshot("dashboard")
    page.click("nav.side >> text=Status mappings")
    expect(page.locator("#h2a-title")).to_have_text("HubSpot → Accelo")
    h2a = page.locator("section.map", has=page.locator("#h2a-title"))
    h2a.locator("tr", has_text="Evangelist").locator("select").select_option("")
    h2a.get_by_role("button", name="Save this map").click()
    expect(page.locator(".flash.success")).to_contain_text("Saved the HubSpot → Accelo map (1 change)")
    expect(h2a.locator("tr.unmapped")).to_contain_text("Evangelist")
    expect(page.locator(".warnings")).to_contain_text("HubSpot 'evangelist' is not mapped")
    site.screenshot("status-mappings")
    page.click("nav.side >> text=Accord")
    page.click("text=Create the properties")
    expect(page.locator("#provision-report")).to_contain_text("all good")
    site.screenshot("accord")
    # Keyboard only: the skip link leads to the page's content.
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()


def test_a_dry_run_pull_shows_its_progress_to_the_end_and_writes_nothing(site: Site) -> None:
    import uuid

    from interlink.jobs.runner import run_slice

    _sync_everyone(site)
    hubspot = site.world.hubspot
    companies = hubspot.seed("companies", [{"name": f"Company {n}", "domain": f"c{n}.example"} for n in range(12)])
    contacts = hubspot.seed(
        "contacts", [{"email": f"person{n}@c{n}.example", "firstname": f"Person {n}"} for n in range(12)]
    )
    for contact, company in zip(contacts, companies, strict=True):
        hubspot.associate_as_user("contacts", contact, "companies", company)
    site.settle()  # the associations' webhooks
    db = site.world.db
    db.settings = db.settings.model_copy(update={"job_max_batch": 4, "job_slice_seconds": 0.05})

    def accelo_records() -> dict[str, object]:
        return {k: v for k, v in site.world.accelo.summary().items() if k not in {"calls", "rate_limit"}}

    accelo_before = accelo_records()

    page = site.page
    site.sign_in()
    page.click("nav.side >> text=Bulk jobs")
    expect(page.locator("#dry-run")).to_be_checked()  # a dry run first, by default
    page.select_option("#kind", "pull")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator(".flash.success")).to_contain_text("Dry run started")
    job_id = uuid.UUID(page.url.rsplit("/", 1)[1])

    watched: list[bool] = []

    def watch(*_batch: object) -> None:
        """After the first batch is committed, the page (polling by itself) shows the job under way."""
        if watched:
            return
        watched.append(True)
        expect(page.locator("#job-status")).to_have_text("running")
        expect(page.locator("#job-scanned")).not_to_have_text("0")
        expect(page.locator("#job-bar")).to_have_attribute("value", re.compile(r"^\d"))
        site.screenshot("job-running")

    for _ in range(200):
        if run_slice(db, job_id, observe=watch).status != "more":
            break
    assert watched
    outcome = page.locator("#job-outcome")
    expect(outcome).to_contain_text("nothing was written", timeout=20_000)
    expect(page.locator("#job-status")).to_have_text("completed")
    expect(page.locator("#job-bar")).to_have_attribute("value", "100.0")
    expect(outcome).to_contain_text("Companies: 12 read")
    created = outcome.locator("tr", has_text="Created in the other system").first
    expect(created).to_contain_text("12")
    expect(created.locator(".sample").first).to_contain_text("HubSpot")
    expect(outcome.get_by_role("button", name="Run it for real")).to_be_visible()
    site.screenshot("job-dry-run")
    assert accelo_records() == accelo_before  # a dry run writes nothing


def _tab_to(page: Page, target: Locator, limit: int = 60) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user moves through the page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # focus shows
            return
    raise AssertionError(f"{target} was not reached with {limit} presses of Tab")


def test_sign_in_and_clear_the_review_queue_with_the_keyboard_alone(bare_site: Site) -> None:
    site, page = bare_site, bare_site.page
    with site.world.db.transaction() as session:
        waiting = Link(
            workspace_id=site.world.workspace_id,
            object_type="contact",
            hubspot_id="501",
            state="needs_review",
            state_reason="2 Accelo contacts match HubSpot contact 501 by email: 1, 2; link one by hand",
            flagged=True,
            snapshot={},
            field_states={},
        )
        session.add(waiting)
    page.goto(site.url("/admin/"))
    expect(page.locator("#workspace")).to_be_focused()  # type at once
    page.keyboard.type(site.admin.workspace.slug)
    page.keyboard.press("Tab")
    expect(page.locator("#email")).to_be_focused()
    page.keyboard.type(site.admin.email)
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(site.admin.password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(site.url("/admin/"))

    _tab_to(page, page.locator("nav.side a", has_text="Review queue"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(site.url("/admin/review"))
    expect(page.locator(".queue-item")).to_contain_text("link one by hand")
    _tab_to(page, page.locator(".queue-item button", has_text="Ignore"))
    page.keyboard.press("Enter")  # and Enter again on the browser's "are you sure?" (accepted by the fixture)
    expect(page.locator(".flash.success")).to_contain_text("Taken out of the review queue")
    expect(page.locator(".empty")).to_contain_text("Nothing to review")
