"""A job's memory stays flat however long it runs: what it keeps between the engine's calls is bounded by a
batch, not by the slice (a slice of a 100,000-contact pull asks HubSpot for 100,000 primary companies)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from interlink.jobs.runner import MAX_BATCH, _RememberingHubSpot
from interlink.sync.adapters.hubspot import HubSpotAdapter


class PrimaryCompanies:
    """HubSpot's associations, as the adapter answers them: contact ``n``'s primary company is ``c<n>``."""

    def primary_companies(self, contact_ids: Sequence[str]) -> Mapping[str, str | None]:
        return {contact: f"c{contact}" for contact in contact_ids}


def batches(count: int) -> list[list[str]]:
    return [[str(batch * MAX_BATCH + n) for n in range(MAX_BATCH)] for batch in range(count)]


def wrap(*, remember: bool) -> _RememberingHubSpot:
    adapter: Any = PrimaryCompanies()
    return _RememberingHubSpot(cast(HubSpotAdapter, adapter), remember=remember)


def test_a_dry_run_remembers_the_companies_of_the_batch_it_plans_and_no_more() -> None:
    hubspot = wrap(remember=True)
    for contacts in batches(50):  # 5,000 contacts asked for without forgetting in between: still bounded
        assert hubspot.primary_companies(contacts) == {contact: f"c{contact}" for contact in contacts}
        assert {contact: hubspot.companies[contact] for contact in contacts} == {c: f"c{c}" for c in contacts}
        assert len(hubspot.companies) <= 2 * MAX_BATCH
    hubspot.forget()  # what the runner does before every batch
    assert hubspot.companies == {}


def test_a_real_run_remembers_nothing() -> None:
    hubspot = wrap(remember=False)
    for contacts in batches(5):
        assert hubspot.primary_companies(contacts)[contacts[0]] == f"c{contacts[0]}"
    assert hubspot.companies == {}
