"""The periodic schema refresh: beat re-reads the cached field lists before they expire, so what an admin
adds in HubSpot or Accelo shows up without ``refresh=true``, and nothing waits for a vendor."""

from __future__ import annotations

import uuid
from datetime import timedelta

from interlink.config import Settings
from interlink.mappings import tasks
from interlink.worker import registry
from interlink.worker.enqueue import JobRequest, RecordingDispatcher
from tests.fixtures.factories import create_tenant
from tests.fixtures.world import World
from tests.mappings.helpers import add_hubspot_property, age_schema_cache, call, vendor_calls


def names(world: World, system: str, object_type: str) -> set[str]:
    response = call(world, "GET", f"/schema/{system}/{object_type}")
    assert response.status_code == 200, response.text
    return {field["name"] for field in response.json()}


def labels(world: World, system: str, object_type: str) -> set[str]:
    return {field["label"] for field in call(world, "GET", f"/schema/{system}/{object_type}").json()}


def cache_both(world: World) -> None:
    for system in ("hubspot", "accelo"):
        names(world, system, "contact")


def test_the_refresh_is_registered_with_beat(settings: Settings) -> None:
    registry.load_tasks()
    specs = [spec for spec in registry.PERIODIC if spec.task_name == tasks.REFRESH_TASK]
    assert len(specs) == 1
    assert specs[0].interval(settings) == 300
    assert {tasks.REFRESH_TASK, tasks.REFRESH_WORKSPACE_TASK} <= set(registry.TASKS)


def test_stale_cached_schemas_are_read_again_and_what_was_added_shows(world: World) -> None:
    cache_both(world)
    add_hubspot_property(world, "contact", "plan")
    world.accelo.add_profile_field("contact", "Plan")
    age_schema_cache(world, timedelta(minutes=11))

    assert tasks.refresh_workspace_schemas(world.db, world.workspace_id) == 2
    before = vendor_calls(world)
    assert "plan" in names(world, "hubspot", "contact")
    assert "Plan" in labels(world, "accelo", "contact")
    assert vendor_calls(world) == before  # served from the refreshed cache


def test_schemas_that_are_still_fresh_are_left_alone(world: World) -> None:
    cache_both(world)
    age_schema_cache(world, timedelta(minutes=9))
    before = vendor_calls(world)
    assert tasks.refresh_workspace_schemas(world.db, world.workspace_id) == 0
    assert vendor_calls(world) == before


def test_only_schemas_someone_used_are_refreshed(world: World) -> None:
    names(world, "hubspot", "company")
    age_schema_cache(world, timedelta(hours=1))
    before = vendor_calls(world)
    assert tasks.refresh_workspace_schemas(world.db, world.workspace_id) == 1
    after = vendor_calls(world)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 0)


def test_a_vendor_that_cannot_be_reached_keeps_its_last_list_and_does_not_stop_the_other(world: World) -> None:
    cache_both(world)
    add_hubspot_property(world, "contact", "plan")
    world.accelo.add_profile_field("contact", "Plan")
    age_schema_cache(world, timedelta(minutes=11))
    world.hubspot.inject_fault("/crm/v3/properties/{object_type}", status=403, body='{"status":"error"}', times=5)

    assert tasks.refresh_workspace_schemas(world.db, world.workspace_id) == 1
    assert "Plan" in labels(world, "accelo", "contact")
    assert "plan" not in names(world, "hubspot", "contact")  # the last list, still cached
    # ...and still due, so the next run reads it again (the fault is spent by now).
    world.hubspot.faults.clear()
    assert tasks.refresh_workspace_schemas(world.db, world.workspace_id) == 1
    assert "plan" in names(world, "hubspot", "contact")


def test_beat_queues_one_refresh_per_workspace_with_a_stale_schema(
    world: World, dispatcher: RecordingDispatcher
) -> None:
    cache_both(world)
    fresh = create_tenant(world.db, "Fresh")  # nothing cached: nothing to refresh
    dispatcher.take()
    registry.run_task(world.db, tasks.REFRESH_TASK, {})
    assert dispatcher.take() == []

    age_schema_cache(world, timedelta(minutes=11))
    registry.run_task(world.db, tasks.REFRESH_TASK, {})
    jobs = dispatcher.take()
    assert jobs == [JobRequest(tasks.REFRESH_WORKSPACE_TASK, {"workspace_id": str(world.workspace_id)})]
    assert str(fresh.workspace.id) not in str(jobs)

    registry.run_task(world.db, jobs[0].name, jobs[0].kwargs)
    registry.run_task(world.db, tasks.REFRESH_TASK, {})
    assert dispatcher.take() == []  # refreshed: nothing due any more


def test_a_workspace_that_is_gone_or_disconnected_is_skipped(world: World) -> None:
    assert tasks.refresh_workspace_schemas(world.db, uuid.uuid4()) == 0
    cache_both(world)
    age_schema_cache(world, timedelta(minutes=11))
    connections = call(world, "GET", "/connections").json()
    hubspot = next(row for row in connections if row["system"] == "hubspot")
    assert call(world, "DELETE", f"/connections/{hubspot['id']}").status_code == 204
    assert tasks.refresh_workspace_schemas(world.db, world.workspace_id) == 1  # Accelo only
