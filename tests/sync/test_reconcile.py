"""reconcile: every sync decision, on plain data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interlink.mappings.canonical import FieldType
from interlink.mappings.codec import codec_for
from interlink.mappings.rules import Leaf
from interlink.mappings.status import StatusMaps
from interlink.sync.plan import GONE, AcceloRecord, Candidate, FieldRule, HubSpotRecord, SyncConfig
from interlink.sync.reconcile import reconcile
from tests.sync.helpers import (
    CONTACT_STATUS,
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
    assert (plan.link.state, plan.link.flagged) == ("paused", True)
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


# -- typed fields: each side holds the same value in its own native spelling ------------------------------


def typed(
    hubspot_property: str,
    accelo_field: str,
    hubspot_type: FieldType,
    accelo_type: FieldType | None = None,
    *,
    direction: str = "both",
    value_map: dict[str, str] | None = None,
) -> FieldRule:
    accelo_type = accelo_type or hubspot_type
    return FieldRule(
        key=f"{hubspot_property}|{accelo_field}",
        hubspot_property=hubspot_property,
        accelo_field=accelo_field,
        direction=direction,  # type: ignore[arg-type]
        conflict_policy="latest",
        codec=codec_for(hubspot_type, accelo_type, direction, value_map),
    )


TIERS = {"gold": "Tier 1", "silver": "Tier 2", "bronze": "Tier 3"}  # HubSpot option -> Accelo option
REGIONS = {"emea": "EMEA", "apac": "APAC", "amer": "Americas"}
Spelt = tuple[Any, Any]  # (HubSpot's raw value, Accelo's raw value)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cleared(draw: st.DrawFn, accelo_blank: Any = None) -> Spelt:
    return draw(st.sampled_from(["", None])), draw(st.sampled_from([None, "", accelo_blank]))


@st.composite
def spelt_number(draw: st.DrawFn) -> Spelt:
    if draw(st.booleans()):
        return cleared(draw)
    value = draw(st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False))
    trimmed = value.normalize() if value != 0 else Decimal(0)
    # HubSpot keeps the trailing zeros it was given ("12.5000"); Accelo's decimal and currency fields drop them
    # or pad to cents ("12.5", "12.50"), and an integer may arrive with a thousands separator.
    accelo = draw(st.sampled_from([format(trimmed, "f"), format(value, "f") + "0", f"{value:,f}"]))
    return format(value, "f"), accelo


@st.composite
def spelt_date(draw: st.DrawFn) -> Spelt:
    if draw(st.booleans()):
        return cleared(draw)
    day = draw(st.dates(min_value=date(1971, 1, 1), max_value=date(2200, 12, 31)))
    seconds = int((datetime(day.year, day.month, day.day, tzinfo=UTC) - EPOCH).total_seconds())
    hubspot = draw(st.sampled_from([day.isoformat(), str(seconds * 1000)]))  # ISO date or midnight-UTC millis
    accelo = draw(st.sampled_from([str(seconds), seconds]))  # unix seconds, string-typed or not
    return hubspot, accelo


@st.composite
def spelt_datetime(draw: st.DrawFn) -> Spelt:
    if draw(st.booleans()):
        return cleared(draw)
    moment = draw(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
    millis = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    since = millis - EPOCH
    hubspot = draw(
        st.sampled_from(
            [
                millis.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                str(since.days * 86_400_000 + since.seconds * 1000 + since.microseconds // 1000),
            ]
        )
    )
    return hubspot, str(since.days * 86_400 + since.seconds)  # Accelo keeps whole seconds


@st.composite
def spelt_bool_as_text(draw: st.DrawFn) -> Spelt:
    """HubSpot's checkbox into an Accelo text field (Accelo has no yes/no profile type): one-way."""
    if draw(st.booleans()):
        return cleared(draw)
    value = draw(st.booleans())
    return draw(st.sampled_from(["true", "True"] if value else ["false", "False"])), "true" if value else "false"


@st.composite
def spelt_enumeration(draw: st.DrawFn) -> Spelt:
    if draw(st.booleans()):
        return cleared(draw)
    option = draw(st.sampled_from(sorted(TIERS)))
    return option, TIERS[option]


@st.composite
def spelt_multi(draw: st.DrawFn, value_map: dict[str, str]) -> Spelt:
    if draw(st.booleans()):
        return cleared(draw, [])
    chosen = draw(st.lists(st.sampled_from(sorted(value_map)), min_size=1, unique=True))
    hubspot = ";".join(draw(st.permutations(chosen + draw(st.lists(st.sampled_from(chosen), max_size=2)))))
    accelo_options = draw(st.permutations([value_map[option] for option in chosen]))
    # Accelo's profile value carries both "value" ("a, b") and "values" (["a", "b"]); either may be read.
    return hubspot, draw(st.sampled_from([list(accelo_options), ", ".join(accelo_options)]))


@st.composite
def spelt_category(draw: st.DrawFn) -> Spelt:
    """An Accelo category (read-only there) into a HubSpot multi-select: one-way, values in Accelo's order."""
    if draw(st.booleans()):
        return cleared(draw, [])
    chosen = draw(st.lists(st.sampled_from(["Transport", "Mining", "Retail"]), min_size=1, unique=True))
    return ";".join(sorted(chosen)), chosen


TYPED_FIELDS: dict[str, list[tuple[FieldRule, st.SearchStrategy[Spelt]]]] = {
    "contact": [
        (typed("score", "profile:11", FieldType.number), spelt_number()),
        (typed("renewal_date", "profile:12", FieldType.date), spelt_date()),
        (typed("last_seen", "profile:13", FieldType.datetime), spelt_datetime()),
        (
            typed("newsletter", "profile:14", FieldType.bool, FieldType.string, direction="to_accelo"),
            spelt_bool_as_text(),
        ),
        (typed("tier", "profile:15", FieldType.enumeration, value_map=TIERS), spelt_enumeration()),
        (typed("regions", "profile:16", FieldType.multi_select, value_map=REGIONS), spelt_multi(REGIONS)),
    ],
    "company": [
        (typed("annualrevenue", "profile:21", FieldType.number), spelt_number()),
        (typed("founded", "profile:22", FieldType.date), spelt_date()),
        (
            typed("contract_start", "profile:23", FieldType.date, FieldType.datetime, direction="to_accelo"),
            spelt_date(),
        ),
        (typed("notes_last_updated", "profile:24", FieldType.datetime), spelt_datetime()),
        (
            typed("is_partner", "profile:25", FieldType.bool, FieldType.string, direction="to_accelo"),
            spelt_bool_as_text(),
        ),
        (typed("tier", "profile:26", FieldType.enumeration, value_map=TIERS), spelt_enumeration()),
        (typed("regions", "profile:27", FieldType.multi_select, value_map=REGIONS), spelt_multi(REGIONS)),
        (typed("industry", "segmentation:5", FieldType.multi_select, direction="to_hubspot"), spelt_category()),
    ],
}
COMPANY_STATUS = StatusMaps(
    h2a={"lead": "Prospect", "customer": "Active"}, a2h={"Prospect": "lead", "Active": "customer"}
)


@st.composite
def typed_pair(draw: st.DrawFn, object_type: str) -> tuple[SyncConfig, HubSpotRecord, AcceloRecord, dict[str, Any]]:
    fields = TYPED_FIELDS[object_type]
    spelt = [draw(strategy, label=mapping.key) for mapping, strategy in fields]
    status = draw(st.sampled_from(["lead", "customer"]))
    h = HubSpotRecord(
        id="101",
        properties={"name": "Acme", "lifecyclestage": status}
        | {mapping.hubspot_property: hubspot for (mapping, _), (hubspot, _) in zip(fields, spelt, strict=True)},
        updated_at=draw(st.sampled_from([EARLIER, NOW])),
    )
    a = AcceloRecord(
        id="55",
        fields={"name": "Acme"}
        | {mapping.accelo_field: accelo for (mapping, _), (_, accelo) in zip(fields, spelt, strict=True)},
        status={"lead": "Prospect", "customer": "Active"}[status],
        updated_at=draw(st.sampled_from([EARLIER, NOW])),
    )
    rules = (typed("name", "name", FieldType.string), *(mapping for mapping, _ in fields))
    cfg = config(
        object_type=object_type,
        fields=rules,
        status_maps=CONTACT_STATUS if object_type == "contact" else COMPANY_STATUS,
    )
    snapshot: dict[str, Any] = {"status": {"hubspot": status, "accelo": a.status}}
    for mapping in rules:
        # The base both sides agreed on; or none yet (a new link); or an older value both have since moved from.
        base = draw(st.sampled_from(["agreed", "missing", "stale"]), label=f"base of {mapping.key}")
        if base == "agreed":
            snapshot[mapping.key] = mapping.codec.from_hubspot(h.properties.get(mapping.hubspot_property))
        elif base == "stale":
            snapshot[mapping.key] = "an older value"
    return cfg, h, a, snapshot


@pytest.mark.parametrize("object_type", ["contact", "company"])
def test_an_unchanged_pair_of_typed_fields_writes_nothing(object_type: str) -> None:
    @given(typed_pair(object_type))
    def unchanged(pair: tuple[SyncConfig, HubSpotRecord, AcceloRecord, dict[str, Any]]) -> None:
        cfg, h, a, snapshot = pair
        for trigger in (from_hubspot(), from_accelo()):
            plan = reconcile(cfg, link(snapshot), h, a, trigger)
            assert not plan.writes, (plan.hubspot, plan.accelo)
            assert plan.link is not None
            assert plan.link.state == "in_sync", plan.link.reason
            assert {entry.action for entry in plan.ledger} <= {"unchanged", "echo_ignored"}

    unchanged()
