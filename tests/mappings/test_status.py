"""The status decision, on the cases the seeds and DESIGN.md name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from interlink.mappings.status import (
    StatusDecision,
    StatusMaps,
    StatusOptions,
    StatusState,
    decide_status,
    status_map_warnings,
)

# customer and evangelist both map to Active; Active maps back to customer.
CONTACT_MAPS = StatusMaps(
    h2a={"lead": "Prospect", "customer": "Active", "evangelist": "Active", "other": "Inactive"},
    a2h={"Prospect": "lead", "Active": "customer", "Inactive": "other"},
)


def decide(state: StatusState, **options: object) -> StatusDecision:
    return decide_status(CONTACT_MAPS, state, StatusOptions(**options))  # type: ignore[arg-type]


def test_customer_to_evangelist_when_both_map_to_active_writes_nothing_either_way() -> None:
    decision = decide(StatusState(hubspot="evangelist", accelo="Active", base_hubspot="customer", base_accelo="Active"))
    assert decision.outcome == "none"
    assert "consistent" in decision.reason


def test_evangelist_stays_evangelist_when_accelo_changes_something_else() -> None:
    # Accelo re-read after an unrelated edit: still Active, base agrees. A2H(Active) is customer, but the
    # pair (evangelist, Active) is consistent, so HubSpot is left alone.
    decision = decide(
        StatusState(hubspot="evangelist", accelo="Active", base_hubspot="evangelist", base_accelo="Active")
    )
    assert not decision.writes


def test_accelo_prospect_to_active_moves_hubspot_to_the_mapped_value() -> None:
    decision = decide(StatusState(hubspot="lead", accelo="Active", base_hubspot="lead", base_accelo="Prospect"))
    assert decision.outcome == "write_hubspot"
    assert decision.value == "customer"
    assert not decision.clear_first


def test_hubspot_moving_pushes_the_mapped_accelo_status() -> None:
    decision = decide(StatusState(hubspot="customer", accelo="Prospect", base_hubspot="lead", base_accelo="Prospect"))
    assert (decision.outcome, decision.value) == ("write_accelo", "Active")


def test_an_unmapped_value_writes_nothing_and_says_why() -> None:
    decision = decide(
        StatusState(hubspot="opportunity", accelo="Prospect", base_hubspot="lead", base_accelo="Prospect")
    )
    assert decision.outcome == "none"
    assert "'opportunity' is not mapped" in decision.reason
    unmapped_accelo = decide(StatusState(hubspot="lead", accelo="On Hold", base_hubspot="lead", base_accelo="Prospect"))
    assert unmapped_accelo.outcome == "none"
    assert "'On Hold' is not mapped" in unmapped_accelo.reason


class TestBackwardLifecycle:
    state = StatusState(hubspot="customer", accelo="Prospect", base_hubspot="customer", base_accelo="Active")

    def test_blocked_by_default(self) -> None:
        decision = decide(self.state)
        assert decision.outcome == "blocked"
        assert "only moves lifecycle stages forward" in decision.reason

    def test_clear_then_set_when_the_workspace_allows_it(self) -> None:
        decision = decide(self.state, allow_backward=True)
        assert (decision.outcome, decision.value, decision.clear_first) == ("write_hubspot", "lead", True)

    def test_a_free_property_moves_back_without_clearing(self) -> None:
        decision = decide(self.state, hubspot_order=None)  # e.g. hs_lead_status
        assert (decision.outcome, decision.clear_first) == ("write_hubspot", False)


def test_an_accelo_target_without_a_progression_is_flagged_not_forced() -> None:
    decision = decide(
        StatusState(hubspot="customer", accelo="Prospect", base_hubspot="lead", base_accelo="Prospect"),
        accelo_reachable={"Inactive"},
    )
    assert decision.outcome == "blocked"
    assert "no progression from 'Prospect' to 'Active'" in decision.reason


class TestConflicts:
    state = StatusState(
        hubspot="customer",
        accelo="Inactive",
        base_hubspot="lead",
        base_accelo="Prospect",
        hubspot_changed_at=datetime(2026, 1, 1, 10, tzinfo=UTC),
        accelo_changed_at=datetime(2026, 1, 1, 11, tzinfo=UTC),
    )

    def test_latest_wins_and_the_loser_is_reported(self) -> None:
        decision = decide(self.state, conflict_policy="latest")
        assert (decision.outcome, decision.value, decision.losing_value) == (
            "write_hubspot",
            "other",
            "customer",
        )

    @pytest.mark.parametrize(
        ("policy", "outcome", "value"),
        [
            ("hubspot_wins", "write_accelo", "Active"),
            ("accelo_wins", "write_hubspot", "other"),
            ("review", "review", None),
        ],
    )
    def test_policies(self, policy: str, outcome: str, value: str | None) -> None:
        decision = decide(self.state, conflict_policy=policy)
        assert (decision.outcome, decision.value) == (outcome, value)


def test_a_new_link_takes_the_status_of_the_side_it_came_from() -> None:
    fresh = StatusState(hubspot="customer", accelo="Prospect")
    assert decide(fresh, origin="hubspot").value == "Active"
    assert decide(fresh, origin="accelo").outcome == "blocked"  # Prospect -> lead would move customer back


def test_warnings_name_values_that_can_never_be_consistent() -> None:
    hubspot_values = ["lead", "opportunity", "customer", "evangelist", "other"]
    warnings = status_map_warnings(CONTACT_MAPS, hubspot_values, ["Prospect", "Active", "Inactive", "On Hold"])
    assert warnings == [
        "HubSpot 'opportunity' is not mapped and no Accelo status maps to it: never consistent",
        "Accelo 'On Hold' is not mapped and no HubSpot value maps to it: never consistent",
    ]


def test_warnings_name_arrows_from_or_to_values_that_do_not_exist() -> None:
    # Accelo renamed 'Prospect' to 'Potential'; HubSpot's property has no 'evangelist'.
    hubspot_values = ["lead", "customer", "other"]
    warnings = status_map_warnings(
        CONTACT_MAPS, hubspot_values, ["Potential", "Active", "Inactive"], hubspot_property="lifecyclestage"
    )
    assert warnings == [
        "h2a: HubSpot 'evangelist' is not a value of lifecyclestage",
        "h2a: HubSpot 'lead' maps to 'Prospect', which is not an Accelo record status",
        "a2h: 'Prospect' is not an Accelo record status",
        # with both arrows about 'lead' dead, a record at 'lead' or 'Potential' never settles
        "HubSpot 'lead' is not mapped and no Accelo status maps to it: never consistent",
        "Accelo 'Potential' is not mapped and no HubSpot value maps to it: never consistent",
    ]
