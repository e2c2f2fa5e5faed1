from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from interlink.db import Database
from tests.admin.support import Admin, create_admin, sign_in
from tests.fixtures.factories import Tenant


@pytest.fixture
def admin(db: Database, tenant: Tenant) -> Admin:
    return create_admin(db, tenant.workspace)


@pytest.fixture
def browser_client(app: FastAPI) -> Iterator[TestClient]:
    """A client that keeps cookies like a browser (and does not follow redirects unless asked)."""
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def signed_in(browser_client: TestClient, admin: Admin) -> TestClient:
    response = sign_in(browser_client, admin)
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    return browser_client


from tests.admin.browser import bare_site, chromium, site  # noqa: E402, F401 - fixtures for the browser tests
