"""A dry run predicts, record by record, exactly what the real run right after it does, including what
depends on the run's own earlier work (contacts of companies the run creates, a second record whose twin
the run has just linked or created), the first reconcile of records it links to an existing twin, and
already-linked records that changed since the last sync: for pulls and pushes alike."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from interlink.models import LedgerEntry, Link
from interlink.simulators.hubspot.crm import Source
from interlink.sync.outcomes import RecordOutcome
from tests.fixtures.world import World
from tests.jobs.support import create_everything, job_view, run_to_end, seed_hubspot, set_rule, start_job

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
    ids.update({f"P{n}": contact for n, contact in enumerate(seeded.contacts[:3])})
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
    """Accelo's records, field by field."""
    with world.accelo.lock:
        return {
            name: copy.deepcopy(table.rows)
            for name, table in world.accelo.state.tables().items()
            if name in {"companies", "contacts", "affiliations", "addresses", "profile_values"}
        }


def dry_then_real(world: World, **job: Any) -> tuple[Outcomes, dict[str, Any]]:
    """A dry run, then the same job for real; asserts the dry run wrote nothing and predicted the real run
    exactly: each record's outcome, every count (the first reconcile of matched records included) and the
    samples. Returns the real run's outcomes and view."""
    accelo_before, hubspot_before = records_of(world), hubspot_records(world)
    with world.db.transaction() as session:
        links_before = session.scalar(select(func.count()).select_from(Link))
        ledger_before = session.scalar(select(func.count()).select_from(LedgerEntry))

    planned, observe_plan = recorder()
    dry = start_job(world, dry_run=True, **job)
    run_to_end(world.db, dry, observe=observe_plan)
    dry_view = job_view(world, dry)
    assert dry_view["status"] == "completed", dry_view["error"]
    assert (records_of(world), hubspot_records(world)) == (accelo_before, hubspot_before)  # nothing written ...
    with world.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Link)) == links_before  # ... nor linked
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == ledger_before

    done, observe_real = recorder()
    real = start_job(world, **job)
    run_to_end(world.db, real, observe=observe_real)
    real_view = job_view(world, real)
    assert real_view["status"] == "completed", real_view["error"]

    assert {key: o.outcome for key, o in planned.items()} == {key: o.outcome for key, o in done.items()}
    assert dry_view["by_object_type"] == real_view["by_object_type"]  # after_match too
    for object_type, by_outcome in real_view["samples"].items():  # the reasons say which rule, which match
        assert set(dry_view["samples"][object_type]) == set(by_outcome), object_type
        for outcome, samples in by_outcome.items():
            predicted = dry_view["samples"][object_type][outcome]
            assert [s["record_id"] for s in predicted] == [s["record_id"] for s in samples]
            for guess, fact in zip(predicted, samples, strict=True):
                if "planned:" not in (guess["reason"] or ""):
                    assert guess["reason"] == fact["reason"], (object_type, outcome)
    return done, real_view


def hubspot_records(world: World) -> dict[str, list[dict[str, Any]]]:
    return {
        kind: [world.hubspot.record(kind, record_id) or {} for record_id in sorted(world.hubspot.crm.live_ids[kind])]
        for kind in ("companies", "contacts")
    }


def test_a_dry_run_predicts_the_real_run_outcome_by_outcome(world: World, job_settings: Callable[..., None]) -> None:
    job_settings(job_max_batch=5)  # many batches: predictions must carry from one batch to the next
    ids = tricky_world(world)

    done, real_view = dry_then_real(world, kind="pull", object_type="both")
    outcomes = {o.outcome for o in done.values()}
    assert outcomes == {"created", "linked", "needs_review", "waiting", "skipped"}  # every kind, exercised
    totals = real_view["totals"]
    assert totals["created"] == 12 + 1 + 24 + 2  # companies C*, D1; their contacts; d1@ and e@
    assert totals["matched_existing"] == 2  # E, known@
    assert totals["after_match"] == {"updated": 2}  # then HubSpot's names won on both
    assert totals["needs_review"] == 2  # D2 (D1 took dup.example), F (two candidates)
    assert totals["waiting"] == 4  # d2@, f@, g@, alone@
    assert totals["skipped_by_rule"] == 2  # G (no name), lead@
    assert totals["skipped_no_key"] == 1

    # Linked records whose HubSpot side changed since: predicted as updated, the rest as unchanged.
    changed = [ids[f"P{n}"] for n in range(3)]  # contacts the first run created in Accelo
    for contact in changed:
        world.hubspot.update_as_user("contacts", contact, {"firstname": f"Renamed{contact}"})
    world.hubspot.update_as_user("companies", ids["E"], {"name": "E renamed"})
    done, real_view = dry_then_real(world, kind="pull", object_type="both")
    totals = real_view["totals"]
    assert (totals["updated"], totals["matched_existing"]) == (4, 0)
    assert totals["unchanged"] == 41 - 4  # everything the first run linked, less what changed since
    assert {key for key, o in done.items() if o.outcome == "updated"} == {("contact", str(c)) for c in changed} | {
        ("company", ids["E"])
    }


def push_world(world: World) -> None:
    """Accelo companies and contacts to push: some with a HubSpot twin that differs (updated once linked),
    some with one that agrees (unchanged once linked), some with none (created)."""
    create_everything(world, direction="push")
    world.accelo.seed(
        {
            "companies": [
                {
                    "name": "Alpha",
                    "website": "alpha.example",
                    "contacts": [
                        {"firstname": "Ann", "surname": "One", "email": "ann@alpha.example"},
                        {"firstname": "Al", "surname": "Two", "email": "al@alpha.example"},
                    ],
                },
                {
                    "name": "Beta",
                    "website": "beta.example",
                    "contacts": [{"firstname": "Bea", "surname": "Three", "email": "bea@beta.example"}],
                },
                {
                    "name": "Gamma",
                    "website": "gamma.example",
                    "contacts": [{"firstname": "Gus", "surname": "Four", "email": "gus@gamma.example"}],
                },
            ]
        }
    )
    world.hubspot.seed(
        "companies",
        [
            {"name": "Alpha", "domain": "alpha.example", "website": "alpha.example", "lifecyclestage": "lead"},
            {"name": "Beta Ltd", "domain": "beta.example", "website": "beta.example"},
        ],
    )
    world.hubspot.seed(
        "contacts",
        [
            {"firstname": "Ann", "lastname": "One", "email": "ann@alpha.example", "lifecyclestage": "lead"},
            {"firstname": "Beatrice", "lastname": "Three", "email": "bea@beta.example"},
        ],
    )


def test_a_push_dry_run_predicts_the_real_push_and_its_updates(world: World, job_settings: Callable[..., None]) -> None:
    job_settings(job_max_batch=2)
    push_world(world)

    done, real_view = dry_then_real(world, kind="push", object_type="both")
    totals = real_view["totals"]
    assert (totals["created"], totals["matched_existing"]) == (1 + 2, 2 + 2)  # Gamma, al@, gus@; the twins
    assert totals["after_match"] == {"updated": 2, "unchanged": 2}  # Beta's and Bea's names: Accelo's won
    assert world.hubspot.find_by_email("bea@beta.example")["properties"]["firstname"] == "Bea"

    accelo_contacts = {row["firstname"]: row["id"] for row in world.accelo.state.contacts.rows.values()}
    accelo_companies = {row["name"]: row["id"] for row in world.accelo.state.companies.rows.values()}
    world.accelo.user_update_contact(accelo_contacts["Al"], firstname="Alan")
    world.accelo.user_update_contact(accelo_contacts["Ann"], firstname="Anna")
    world.accelo.user_update_company(accelo_companies["Gamma"], name="Gamma Group")
    done, real_view = dry_then_real(world, kind="push", object_type="both")
    totals = real_view["totals"]
    assert (totals["updated"], totals["unchanged"], totals["created"]) == (3, 7 - 3, 0)
    assert world.hubspot.find_by_email("al@alpha.example")["properties"]["firstname"] == "Alan"
