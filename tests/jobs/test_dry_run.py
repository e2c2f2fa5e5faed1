"""A dry run predicts, record by record, exactly what the real run right after it does, including what
depends on the run's own earlier work: contacts of companies the run creates, a second record whose twin
the run has just linked or created."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from interlink.models import LedgerEntry, Link
from interlink.simulators.hubspot.crm import Source
from interlink.sync.outcomes import RecordOutcome
from tests.fixtures.world import World
from tests.jobs.support import job_view, run_to_end, seed_hubspot, set_rule, start_job

Outcomes = dict[tuple[str, str], RecordOutcome]
NAMED = {"firstname": "Pat", "lastname": "Example", "lifecyclestage": "customer"}  # Accelo needs both names


def recorder() -> tuple[Outcomes, Callable[[str, Any], None]]:
    seen: Outcomes = {}

    def observe(object_type: str, outcomes: Any) -> None:
        for outcome in outcomes:
            key = (object_type, outcome.record_id)
            assert key not in seen, f"{key} counted twice"
            seen[key] = outcome

    return seen, observe


def tricky_world(world: World) -> dict[str, str]:
    """Every kind of decision a pull makes, with dependencies across batches (see the test's docstring)."""
    set_rule(world, "company", "pull", {"field": "name", "op": "is_set"})
    set_rule(world, "contact", "pull", {"field": "lifecyclestage", "op": "eq", "value": "customer"})
    hubspot, accelo = world.hubspot, world.accelo
    accelo.seed(
        {
            "companies": [
                {"name": "Existing E", "website": "https://www.e.example", "contacts": []},
                {"name": "F one", "website": "f.example"},
                {"name": "F two", "website": "f.example"},
                {
                    "name": "Holder",
                    "contacts": [{"firstname": "Known", "surname": "Person", "email": "known@h.example"}],
                },
            ]
        }
    )
    ids: dict[str, str] = {}
    (ids["D1"],) = hubspot.seed("companies", [{"name": "Dup One", "domain": "dup.example"}])
    seeded = seed_hubspot(hubspot, companies=12, contacts_per_company=2)  # created, with their contacts
    (ids["D2"], ids["E"], ids["F"], ids["G"]) = hubspot.seed(
        "companies",
        [
            {"name": "Dup Two", "domain": "dup.example"},  # D1's twin is taken by then: review
            {"name": "E in HubSpot", "domain": "e.example"},  # matches an Accelo company: linked
            {"name": "F", "domain": "f.example"},  # two Accelo candidates: review
            {"domain": "g.example"},  # no name: the rule skips it
        ],
    )
    people = hubspot.seed(
        "contacts",
        [
            {"email": "d1@dup.example", **NAMED},  # its company is created: created
            {"email": "d2@dup.example", **NAMED},  # its company is in review: waiting
            {"email": "e@e.example", **NAMED},  # its company is linked this run: created
            {"email": "f@f.example", **NAMED},  # waiting
            {"email": "g@g.example", **NAMED},  # waiting
            {"email": "lead@x.example", "lifecyclestage": "lead"},  # skipped by rule
            {"firstname": "No", "lastname": "Email", "lifecyclestage": "customer"},  # no key
            {"email": "alone@x.example", **NAMED},  # no company: waiting
            {"email": "known@h.example", **NAMED},  # in Accelo already: linked
        ],
    )
    companies = [ids["D1"], ids["D2"], ids["E"], ids["F"], ids["G"], None, ids["D1"], None, seeded.companies[0]]
    with hubspot.lock:
        for person, company in zip(people, companies, strict=True):
            if company is not None:
                hubspot.crm.associate("contacts", int(person), "companies", int(company), {1, 279}, Source.imported())
    return ids


def records_of(world: World) -> dict[str, Any]:
    summary = world.accelo.summary()
    return {key: value for key, value in summary.items() if key not in {"calls", "rate_limit"}}


def test_a_dry_run_predicts_the_real_run_outcome_by_outcome(world: World, job_settings: Callable[..., None]) -> None:
    job_settings(job_max_batch=5)  # many batches: predictions must carry from one batch to the next
    tricky_world(world)
    accelo_before = records_of(world)

    planned, observe_plan = recorder()
    dry = start_job(world, kind="pull", object_type="both", dry_run=True)
    run_to_end(world.db, dry, observe=observe_plan)
    dry_view = job_view(world, dry)
    assert dry_view["status"] == "completed"
    assert records_of(world) == accelo_before  # nothing written ...
    with world.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Link)) == 0  # ... nor linked
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 0

    done, observe_real = recorder()
    real = start_job(world, kind="pull", object_type="both")
    run_to_end(world.db, real, observe=observe_real)
    real_view = job_view(world, real)

    assert {key: o.outcome for key, o in planned.items()} == {key: o.outcome for key, o in done.items()}
    assert dry_view["by_object_type"] == {
        object_type: {**counts, "after_match": {}} for object_type, counts in real_view["by_object_type"].items()
    }
    outcomes = {o.outcome for o in done.values()}
    assert outcomes == {"created", "linked", "needs_review", "waiting", "skipped"}  # every kind, exercised
    totals = real_view["totals"]
    assert totals["created"] == 12 + 1 + 24 + 2  # companies C*, D1; their contacts; d1@ and e@
    assert totals["matched_existing"] == 2  # E, known@
    assert totals["needs_review"] == 2  # D2 (D1 took dup.example), F (two candidates)
    assert totals["waiting"] == 4  # d2@, f@, g@, alone@
    assert totals["skipped_by_rule"] == 2  # G (no name), lead@
    assert totals["skipped_no_key"] == 1
    for object_type, by_outcome in real_view["samples"].items():  # the reasons say which rule, which match
        for outcome, samples in by_outcome.items():
            predicted = dry_view["samples"][object_type][outcome]
            assert [s["record_id"] for s in predicted] == [s["record_id"] for s in samples]
            for guess, fact in zip(predicted, samples, strict=True):
                if "planned:" not in (guess["reason"] or ""):
                    assert guess["reason"] == fact["reason"], (object_type, outcome)
