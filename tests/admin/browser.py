"""Real Chromium (the system's, driven by Playwright) against Interlink served over loopback, with the HubSpot
and Accelo simulators: the HubSpot simulator is served over loopback too, because the browser visits its OAuth
authorize page; both are mounted in-process for Interlink's own calls, and their webhooks flow into Interlink.

``Site.settle()`` delivers webhooks and drains the inbox (as ``world.settle()`` does), so a test edits a record
"as a user" in a simulator, settles, and looks at the admin UI.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from starlette.testclient import TestClient

from interlink.app import create_app
from interlink.config import Settings
from interlink.connections.registry import Connectors, install
from interlink.connectors.ratelimit import forget_memory_budgets
from interlink.db import Database
from interlink.kit.asgi import in_process_client
from interlink.kit.crypto import CredentialCipher
from interlink.simulators import accelo as accelo_simulator
from interlink.simulators import hubspot as hubspot_simulator
from interlink.worker.enqueue import RecordingDispatcher
from tests.admin.support import Admin, create_admin
from tests.fixtures.factories import create_tenant
from tests.fixtures.services import REQUIRE_SERVICES
from tests.fixtures.world import ACCELO_URL, HUBSPOT_URL, World, connect_world
from tests.support.servers import free_port, serve_over_loopback

CHROMIUM = os.environ.get("INTERLINK_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The screenshots in docs/screenshots are refreshed with INTERLINK_UPDATE_SCREENSHOTS=1; other runs take them
# too (so a broken page still fails), into a scratch directory, and leave the committed ones alone.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("INTERLINK_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "interlink-screenshots"
)
VIEWPORT = {"width": 1366, "height": 900}  # a laptop screen


@dataclass
class Site:
    """Interlink in a browser: its base URL, a signed-out page, the sync world behind it, and an admin user."""

    base_url: str
    hubspot_base_url: str  # the simulator as the browser (and Interlink's OAuth calls) reach it
    page: Page
    world: World
    admin: Admin

    def settle(self) -> None:
        self.world.settle()

    def url(self, path: str) -> str:
        return self.base_url + path

    def sign_in(self) -> None:
        self.page.goto(self.url("/admin/"))
        self.page.fill("#workspace", self.admin.workspace.slug)
        self.page.fill("#email", self.admin.email)
        self.page.fill("#password", self.admin.password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.url("/admin/"))

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        message = f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(message + "; INTERLINK_TEST_REQUIRE_SERVICES=1 makes this a failure")
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        yield browser
        browser.close()


def _launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def _site(settings: Settings, db: Database, chromium: Browser, *, connected: bool) -> Iterator[Site]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # Webhook URLs, their signatures and the OAuth redirect are all built on the public base URL.
    site_settings = settings.model_copy(update={"public_base_url": base_url})
    site_db = Database(site_settings, dispatcher=RecordingDispatcher())
    app = create_app(site_settings, database=site_db, embedded_worker=False)
    interlink_client = in_process_client(app, base_url=base_url)
    tenant = create_tenant(site_db, "Acme Sales")
    admin = create_admin(site_db, tenant.workspace, "ada@acme.example")

    hubspot_app = hubspot_simulator.create_app(
        webhook_urls=[f"{base_url}/webhooks/hubspot"],
        webhook_client_for=lambda _url: interlink_client,
        webhook_retry_delays=[0.05, 0.05, 0.1],
    )
    accelo_app = accelo_simulator.create_app(
        webhook_urls=[f"{base_url}/webhooks/accelo/{tenant.workspace.slug}"],
        webhook_client_for=lambda _url: interlink_client,
        webhook_retry_delays=[0.05, 0.1],
    )
    forget_memory_budgets()
    connectors = Connectors(CredentialCipher(site_settings.secret_keys()), db=site_db)
    connectors.route(HUBSPOT_URL, in_process_client(hubspot_app, base_url=HUBSPOT_URL))
    connectors.route(ACCELO_URL, in_process_client(accelo_app, base_url=ACCELO_URL))
    install(site_db, connectors)
    with ExitStack() as stack:
        hubspot_base_url = stack.enter_context(serve_over_loopback(hubspot_app))
        connectors.route(hubspot_base_url, in_process_client(hubspot_app, base_url=hubspot_base_url))
        stack.enter_context(serve_over_loopback(app, port=port))
        api = stack.enter_context(TestClient(app, base_url=base_url))
        if connected:
            connect_world(api, tenant, hubspot_app.state.simulator)
        world = World(
            db=site_db,
            settings=site_settings,
            app=app,
            api=api,
            tenant=tenant,
            hubspot=hubspot_app.state.simulator,
            accelo=accelo_app.simulator,
        )
        context = chromium.new_context(viewport=VIEWPORT, base_url=base_url, locale="en-GB")
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        try:
            yield Site(base_url=base_url, hubspot_base_url=hubspot_base_url, page=page, world=world, admin=admin)
        finally:
            context.close()
    hubspot_app.state.simulator.close()
    accelo_app.close()
    connectors.close()
    interlink_client.close()
    site_db.dispose()


@pytest.fixture
def site(settings: Settings, db: Database, chromium: Browser) -> Iterator[Site]:
    """A workspace connected to both simulators (through the API), with one admin user; not signed in."""
    yield from _site(settings, db, chromium, connected=True)


@pytest.fixture
def bare_site(settings: Settings, db: Database, chromium: Browser) -> Iterator[Site]:
    """A workspace with nothing connected yet."""
    yield from _site(settings, db, chromium, connected=False)


def wait_until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
