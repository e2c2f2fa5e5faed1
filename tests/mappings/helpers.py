"""Calling the mappings API in a world connected to both simulators, and shaping their live schemas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from interlink.connections.registry import connectors_for
from interlink.connections.repository import ConnectionRepo
from interlink.connectors.hubspot.schemas import PropertyOption, PropertySpec, PropertyType
from interlink.kit.time import utc_now
from interlink.models import SchemaSnapshot
from tests.fixtures.world import World

API = "/api/v1"
GROUP = {"contacts": "contactinformation", "companies": "companyinformation"}
PLURAL = {"contact": "contacts", "company": "companies"}


def call(world: World, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None) -> Any:
    return world.api.request(method, API + path, json=body, headers=headers or world.tenant.headers)


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    """The error body of a refusal: ``{"code", "message", "details"}``."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def problem(error: dict[str, Any], field: str) -> dict[str, Any]:
    """The one problem in ``error.details`` that names ``field``."""
    named = [item for item in error["details"] if item["field"] == field]
    assert len(named) == 1, error
    return named[0]


def add_hubspot_property(
    world: World,
    object_type: str,
    name: str,
    type_: PropertyType = "string",
    field_type: str = "text",
    *,
    options: list[str] | None = None,
) -> None:
    """Create a custom property through HubSpot's Properties API, as an admin would in HubSpot."""
    plural = PLURAL[object_type]
    with world.db.transaction() as session:
        connection = ConnectionRepo(session, world.workspace_id).get_by_system("hubspot")
        assert connection is not None
        client = connectors_for(world.db).hubspot(connection)
    client.properties.create(
        plural,
        PropertySpec(
            name=name,
            label=name.replace("_", " ").title(),
            type=type_,
            field_type=field_type,
            group_name=GROUP[plural],
            options=[
                PropertyOption(label=value.title(), value=value, display_order=index)
                for index, value in enumerate(options or [])
            ],
        ),
    )


def age_schema_cache(world: World, by: timedelta) -> None:
    """Make every cached schema snapshot of the world's workspace look ``by`` older."""
    with world.db.transaction() as session:
        session.execute(
            update(SchemaSnapshot)
            .where(SchemaSnapshot.workspace_id == world.workspace_id)
            .values(fetched_at=utc_now() - by)
        )


def vendor_calls(world: World) -> tuple[int, int]:
    """How many API calls HubSpot and Accelo have answered so far."""
    return world.hubspot.calls.count(), world.accelo.calls.count()
