"""Property: whatever people edit on either side, however the webhooks arrive (twice, out of order, late) and
whatever the vendors answer on the way (429s, 5xx), both systems end consistent with the mappings, with no
duplicate records, and a bounded number of API calls."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interlink.simulators.accelo.simulator import Fault as AcceloFault
from tests.fixtures.world import World
from tests.sync.test_end_to_end import affiliation_of, hubspot_value, linked_contact, links

# HubSpot property -> where its Accelo twin lives
MAPPED = {
    "firstname": ("contact", "firstname"),
    "lastname": ("contact", "surname"),
    "jobtitle": ("affiliation", "position"),
    "phone": ("affiliation", "phone"),
}
names = st.text(alphabet="abcdefghij", min_size=1, max_size=6)
operation = st.one_of(
    st.tuples(st.just("hubspot"), st.sampled_from(sorted(MAPPED)), names),
    st.tuples(st.just("accelo"), st.sampled_from(sorted(MAPPED)), names),
    st.tuples(st.just("deliver")),
    st.tuples(st.just("fault"), st.sampled_from(["hubspot_429", "hubspot_502", "accelo_503", "accelo_429"])),
)
emails = itertools.count()


def total_calls(world: World) -> int:
    return world.hubspot.calls.count() + world.accelo.calls.count()


def apply(world: World, contact: str, accelo_id: int, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "hubspot":
        world.hubspot.update_as_user("contacts", contact, {op[1]: op[2]})
    elif kind == "accelo":
        side, field = MAPPED[op[1]]
        if side == "contact":
            world.accelo.user_update_contact(accelo_id, **{field: op[2]})
        else:
            world.accelo.user_update_affiliation(int(affiliation_of(world, accelo_id)["id"]), **{field: op[2]})
    elif kind == "deliver":
        world.settle()
    elif op[1] == "hubspot_429":
        world.hubspot.inject_rate_limit("/crm/v3/objects/{object_type}/batch/read", headers={"Retry-After": "0.1"})
    elif op[1] == "hubspot_502":
        world.hubspot.inject_fault(
            "/crm/v3/objects/{object_type}/batch/read",
            status=502,
            body="<html>Bad gateway</html>",
            content_type="text/html",
        )
    elif op[1] == "accelo_503":
        world.accelo.add_fault(AcceloFault(path_pattern=r"/contacts", status=503))
    else:
        # Real 429s: the deployment's limit drops to a few calls a second, so answers carry a near reset.
        world.accelo.rate_limit.configure(limit=6, window_seconds=1)


def accelo_value(world: World, accelo_id: int, hubspot_property: str) -> str | None:
    side, field = MAPPED[hubspot_property]
    record = world.accelo.record("contact", accelo_id) if side == "contact" else affiliation_of(world, accelo_id)
    assert record is not None
    return record.get(field) or None


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=8), duplicate=st.booleans(), out_of_order=st.booleans())
def test_random_edits_on_both_sides_converge(world: World, ops: list[Any], duplicate: bool, out_of_order: bool) -> None:
    email = f"person{next(emails)}@example.com"
    contact, accelo_id, _ = linked_contact(world, email=email)
    world.hubspot.configure_webhooks(duplicate=duplicate, out_of_order=out_of_order)
    before = total_calls(world)
    try:
        for op in ops:
            apply(world, contact, accelo_id, op)
        world.settle()
        world.poll()  # Accelo sends no webhook for affiliation edits
        world.settle()
    finally:
        world.hubspot.configure_webhooks(duplicate=False, out_of_order=False)
        world.hubspot.faults.clear()
        world.accelo.faults.clear()
        world.accelo.rate_limit.configure(limit=5000, window_seconds=3600)
    for hubspot_property in MAPPED:
        assert (hubspot_value(world, contact, hubspot_property) or None) == accelo_value(
            world, accelo_id, hubspot_property
        ), f"{hubspot_property} differs after {ops}"
    same_person = [row for row in world.accelo.state.affiliations.rows.values() if row.get("email") == email]
    assert len(same_person) == 1, "a duplicate was created in Accelo"
    assert sum(1 for link in links(world, "contact") if link.hubspot_id == contact) == 1
    spent = total_calls(world) - before
    assert spent <= 30 + 12 * len(ops), f"{spent} API calls for {len(ops)} operations"
