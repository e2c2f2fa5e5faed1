"""reconcile: every sync decision, on plain data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from interlink.mappings.canonical import FieldType
from interlink.mappings.rules import Leaf
from interlink.sync.plan import GONE, Candidate
from interlink.sync.reconcile import reconcile
from tests.sync.helpers import (
    EARLIER,
    NOW,
    accelo,
    agreed_snapshot,
    config,
    from_accelo,
    from_hubspot,
    hubspot,
    link,
    rule,
    schema,
)


def actions(plan: Any) -> list[str]:
    return [entry.action for entry in plan.ledger]


class TestThreeWayMerge:
    def test_only_hubspot_moved_goes_to_accelo(self) -> None:
        plan = reconcile(config(), link(), hubspot(firstname="Augusta"), accelo(), from_hubspot())
        assert plan.hubspot is None
        assert plan.accelo is not None
        assert plan.accelo.fields == {"firstname": "Augusta"}
        assert plan.link.snapshot_after_accelo == {"firstname|firstname": "Augusta"}
        (entry,) = plan.ledger
        assert (entry.action, entry.field, entry.old_value, entry.new_value, entry.direction) == (
            "updated",
            "firstname|firstname",
            "Ada",
            "Augusta",
            "to_accelo",
        )

    def test_only_accelo_moved_goes_to_hubspot(self) -> None:
        plan = reconcile(config(), link(), hubspot(), accelo(**{"affiliation.phone": "+44 2"}), from_accelo())
        assert plan.accelo is None
        assert plan.hubspot is not None
        assert plan.hubspot.properties == {"phone": "+44 2"}

    def test_edits_to_different_fields_on_both_sides_both_survive(self) -> None:
        plan = reconcile(
            config(), link(), hubspot(firstname="Augusta"), accelo(**{"affiliation.phone": "+44 2"}), from_hubspot()
        )
        assert plan.accelo is not None
        assert plan.hubspot is not None
        assert plan.accelo.fields == {"firstname": "Augusta"}
        assert plan.hubspot.properties == {"phone": "+44 2"}

    def test_our_own_write_coming_back_writes_nothing(self) -> None:
        # We wrote "Augusta" to Accelo; its webhook arrives and the re-read equals the snapshot.
        snapshot = agreed_snapshot(**{"firstname|firstname": "Augusta"})
        plan = reconcile(
            config(),
            link(snapshot, last_written_side="accelo"),
            hubspot(firstname="Augusta"),
            accelo(firstname="Augusta"),
            from_accelo(),
        )
        assert not plan.writes
        assert actions(plan) == ["echo_ignored"]

    def test_an_event_about_nothing_mapped_is_unchanged(self) -> None:
        plan = reconcile(config(), link(), hubspot(), accelo(), from_hubspot())
        assert not plan.writes
        assert actions(plan) == ["unchanged"]

    def test_a_one_way_field_does_not_flow_back(self) -> None:
        cfg = config(fields=(rule("jobtitle", "affiliation.position", direction="to_hubspot"),))
        plan = reconcile(cfg, link(agreed_snapshot(cfg)), hubspot(jobtitle="CTO"), accelo(), from_hubspot())
        assert not plan.writes


class TestConflicts:
    """Both sides changed the same field since the last sync."""

    def both_changed(self, policy: str, *, hubspot_at: Any = EARLIER, accelo_at: Any = NOW) -> Any:
        cfg = config(fields=(rule("firstname", "firstname", policy=policy),))
        return reconcile(
            cfg,
            link(agreed_snapshot(cfg)),
            hubspot(firstname="Augusta", at=hubspot_at),
            accelo(firstname="Ada B.", at=accelo_at),
            from_hubspot(),
        )

    def test_latest_takes_the_later_edit_and_records_the_loser(self) -> None:
        plan = self.both_changed("latest")
        assert plan.hubspot.properties == {"firstname": "Ada B."}
        conflict = plan.ledger[0]
        assert conflict.action == "conflict_resolved"
        assert conflict.details["winner"] == "accelo"
        assert conflict.details["losing_value"] == "Augusta"

    def test_hubspot_wins(self) -> None:
        plan = self.both_changed("hubspot_wins")
        assert plan.accelo.fields == {"firstname": "Augusta"}
        assert plan.ledger[0].details["losing_value"] == "Ada B."

    def test_accelo_wins(self) -> None:
        assert self.both_changed("accelo_wins").hubspot.properties == {"firstname": "Ada B."}

    def test_review_holds_the_field_for_a_person(self) -> None:
        plan = self.both_changed("review")
        assert not plan.writes
        assert plan.link.state == "needs_review"
        assert plan.link.flagged
        held = plan.link.field_states["firstname|firstname"]
        assert (held["state"], held["hubspot"], held["accelo"]) == ("review", "Augusta", "Ada B.")
        assert actions(plan) == ["needs_review"]

    def test_a_held_field_waits_until_both_sides_agree(self) -> None:
        held = {"firstname|firstname": {"state": "review", "reason": "both changed"}}
        still = reconcile(
            config(), link(field_states=held), hubspot(firstname="X"), accelo(firstname="Y"), from_hubspot()
        )
        assert not still.writes
        assert still.link.state == "needs_review"
        settled = reconcile(
            config(), link(field_states=held), hubspot(firstname="X"), accelo(firstname="X"), from_hubspot()
        )
        assert settled.link.state == "in_sync"
        assert "firstname|firstname" not in settled.link.field_states


class TestStatus:
    def test_evangelist_stays_evangelist_after_unrelated_accelo_edits(self) -> None:
        snapshot = agreed_snapshot(status={"hubspot": "evangelist", "accelo": "Active"})
        plan = reconcile(
            config(),
            link(snapshot),
            hubspot(lifecyclestage="evangelist"),
            accelo(**{"affiliation.position": "Countess"}),
            from_accelo(),
        )
        assert plan.hubspot is not None
        assert plan.hubspot.properties == {"jobtitle": "Countess"}  # the edit, and no lifecyclestage
        assert plan.accelo is None

    def test_hubspot_customer_to_evangelist_writes_nothing_to_accelo(self) -> None:
        plan = reconcile(config(), link(), hubspot(lifecyclestage="evangelist"), accelo(), from_hubspot())
        assert not plan.writes

    def test_accelo_prospect_to_active_moves_hubspot(self) -> None:
        snapshot = agreed_snapshot(status={"hubspot": "lead", "accelo": "Prospect"})
        plan = reconcile(
            config(), link(snapshot), hubspot(lifecyclestage="lead"), accelo(status="Active"), from_accelo()
        )
        assert plan.hubspot.properties == {"lifecyclestage": "customer"}
        assert plan.link.snapshot_after_hubspot["status"] == {"hubspot": "customer", "accelo": "Active"}

    def test_a_blocked_move_is_flagged_not_forced(self) -> None:
        plan = reconcile(config(), link(), hubspot(), accelo(status="Prospect"), from_accelo())
        assert not plan.writes
        assert plan.link.state == "needs_review"
        assert "only moves lifecycle stages forward" in (plan.link.reason or "")


class TestUnlinkedRecords:
    def test_a_record_the_rule_rejects_is_skipped_with_the_failing_leaf(self) -> None:
        cfg = config(pull_rule=Leaf(field="lifecyclestage", op="eq", value="customer"))
        plan = reconcile(cfg, None, hubspot(lifecyclestage="lead"), None, from_hubspot())
        assert plan.link is None
        assert not plan.writes
        (entry,) = plan.ledger
        assert entry.action == "skipped_by_rule"
        assert "lifecyclestage eq 'customer'" in (entry.reason or "")
        assert entry.details["failing_leaf"] == {"field": "lifecyclestage", "op": "eq", "value": "customer"}

    def test_a_value_that_cannot_be_read_fails_its_leaf_instead_of_counting_as_unset(self) -> None:
        # "lots" is not a number: a negative leaf must not read it as "not set" and let the record through.
        cfg = config(
            pull_rule=Leaf(field="numemployees", op="ne", value=5),
            hubspot_schema=schema(email=FieldType.string, numemployees=FieldType.number),
        )
        plan = reconcile(cfg, None, hubspot(numemployees="lots"), None, from_hubspot())
        assert not plan.writes
        (entry,) = plan.ledger
        assert entry.action == "skipped_by_rule"
        assert "cannot compare" in (entry.reason or "")
        assert "lots" in (entry.reason or "")
        assert entry.details["failing_leaf"] == {"field": "numemployees", "op": "ne", "value": 5}

    def test_no_rule_means_nothing_is_created(self) -> None:
        plan = reconcile(config(pull_rule=None), None, hubspot(), None, from_hubspot())
        assert not plan.writes
        assert "nothing is created automatically" in (plan.ledger[0].reason or "")

    def test_a_matching_record_with_no_twin_is_created_with_its_company(self) -> None:
        plan = reconcile(config(), None, hubspot(), None, from_hubspot(), company_twin="77")
        assert plan.accelo is not None
        assert plan.accelo.record_id is None
        assert plan.accelo.company_id == "77"
        assert plan.accelo.fields["affiliation.email"] == "ada@example.com"
        assert plan.accelo.status == "Active"
        assert plan.link.state == "in_sync"
        assert plan.link.matched_by == "created"
        assert actions(plan) == ["created"]

    def test_a_contact_waits_for_its_company(self) -> None:
        plan = reconcile(config(), None, hubspot(company_id="9001"), None, from_hubspot(), company_twin=None)
        assert not plan.writes
        assert plan.link.state == "waiting"
        assert plan.waiting_for_company == "9001"
        assert "waiting for its company (HubSpot 9001)" in (plan.link.reason or "")

    def test_exactly_one_twin_is_linked_not_duplicated(self) -> None:
        plan = reconcile(config(), None, hubspot(), None, from_hubspot(), candidates=[Candidate("55", "email")])
        assert not plan.writes
        assert (plan.link.hubspot_id, plan.link.accelo_id, plan.link.matched_by) == ("101", "55", "email")
        assert actions(plan) == ["linked_by_match"]

    def test_several_twins_need_review(self) -> None:
        plan = reconcile(
            config(),
            None,
            hubspot(),
            None,
            from_hubspot(),
            candidates=[Candidate("55", "email"), Candidate("56", "email")],
        )
        assert not plan.writes
        assert plan.link.state == "needs_review"
        assert "2 Accelo contacts match" in (plan.link.reason or "")

    def test_a_twin_linked_elsewhere_is_flagged_as_a_duplicate(self) -> None:
        plan = reconcile(config(), None, hubspot(), None, from_hubspot(), candidates=[Candidate("55", "email", "HS-7")])
        assert not plan.writes
        assert plan.link.state == "needs_review"
        assert "already linked to HS-7" in (plan.link.reason or "")

    def test_a_blank_match_key_is_skipped_unless_allowed(self) -> None:
        cfg = config(pull_rule=Leaf(field="firstname", op="is_set"))
        skipped = reconcile(cfg, None, hubspot(email=None), None, from_hubspot(), company_twin="77")
        assert not skipped.writes
        assert "no email to match on" in (skipped.ledger[0].reason or "")
        allowed = reconcile(
            config(pull_rule=Leaf(field="firstname", op="is_set"), allow_blank_match_key=True),
            None,
            hubspot(email=None),
            None,
            from_hubspot(),
            company_twin="77",
        )
        assert allowed.accelo is not None

    def test_an_accelo_record_is_pushed_to_hubspot(self) -> None:
        plan = reconcile(config(), None, None, accelo(status="Prospect"), from_accelo(), company_twin="9001")
        assert plan.hubspot is not None
        assert plan.hubspot.record_id is None
        assert plan.hubspot.associate_company == "9001"
        assert plan.hubspot.properties["email"] == "ada@example.com"
        assert plan.hubspot.properties["lifecyclestage"] == "lead"


class TestDeletion:
    def test_a_deletion_closes_and_flags_the_link(self) -> None:
        plan = reconcile(config(), link(), GONE, accelo(), from_hubspot())
        assert not plan.writes
        assert (plan.link.state, plan.link.flagged) == ("closed", True)
        assert "HubSpot contact 101 was deleted; Accelo 55 was left as it is" in (plan.link.reason or "")

    def test_deleting_the_twin_is_an_explicit_option(self) -> None:
        plan = reconcile(config(delete_twin_on_delete=True), link(), hubspot(), GONE, from_accelo())
        assert plan.delete_hubspot == "101"
        assert actions(plan) == ["deleted"]


def test_a_field_that_keeps_flipping_is_paused_and_flagged() -> None:
    flips = [(NOW - timedelta(seconds=30 * i)).isoformat() for i in range(4)]
    plan = reconcile(
        config(),
        link(field_states={"firstname|firstname": {"flips": flips}}),
        hubspot(firstname="Flip"),
        accelo(),
        from_hubspot(),
    )
    assert plan.accelo is None
    assert plan.link.field_states["firstname|firstname"]["state"] == "paused"
    assert plan.link.state == "needs_review"
    old_flips = [(NOW - timedelta(hours=2)).isoformat()] * 10  # outside the window: no longer counted
    fine = reconcile(
        config(),
        link(field_states={"firstname|firstname": {"flips": old_flips}}),
        hubspot(firstname="Flip"),
        accelo(),
        from_hubspot(),
    )
    assert fine.accelo is not None


values = st.one_of(st.none(), st.text(min_size=1, max_size=10))


@given(firstname=values, phone=values, title=values, status=st.sampled_from(["lead", "customer", "evangelist"]))
def test_an_unchanged_pair_writes_nothing(
    firstname: str | None, phone: str | None, title: str | None, status: str
) -> None:
    h = hubspot(firstname=firstname, phone=phone, jobtitle=title, lifecyclestage=status)
    a = accelo(
        firstname=firstname,
        **{"affiliation.phone": phone, "affiliation.position": title},
        status={"lead": "Prospect", "customer": "Active", "evangelist": "Active"}[status],
    )
    cfg = config()
    snapshot = {f.key: f.codec.from_hubspot(h.properties.get(f.hubspot_property)) for f in cfg.fields}
    snapshot["status"] = {"hubspot": status, "accelo": a.status}
    for trigger in (from_hubspot(), from_accelo()):
        plan = reconcile(cfg, link(snapshot), h, a, trigger)
        assert not plan.writes
