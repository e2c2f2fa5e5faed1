"""What the engine needs of each vendor, in reconcile's own terms.

The engine never sees a vendor client: it reads records in batches, finds match candidates and applies
writes through these two ports. ``interlink.sync.adapters`` implements them over the HubSpot and Accelo
clients (batching, chunking to 100, one Accelo call per changed resource); tests and benchmarks use the same
adapters against the simulators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from interlink.sync.matching import MatchKey
from interlink.sync.plan import AcceloRecord, AcceloWrite, HubSpotRecord, HubSpotWrite, _Gone

T = TypeVar("T")


@dataclass(frozen=True)
class RecordPage(Generic[T]):
    """One page of a listing, in the order the vendor keeps (ascending id), for bulk jobs that stream a whole
    system. ``next_cursor`` fetches the page after this one; None when this was the last."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one planned write: the record's id (new for a create), or the error that stopped it.
    ``warnings``: parts of the write that were left out and need a person (a status no progression leads to)."""

    record_id: str | None
    error: Exception | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


class HubSpotPort(Protocol):
    def read(
        self, object_type: str, ids: Sequence[str], properties: Sequence[str]
    ) -> Mapping[str, HubSpotRecord | _Gone]:
        """Current records by the ids asked for. A merged-away id maps to the record it was merged into
        (whose ``id`` differs); an id that no longer resolves maps to GONE."""
        ...

    def find(self, object_type: str, key: MatchKey, properties: Sequence[str]) -> list[HubSpotRecord]: ...

    def primary_companies(self, contact_ids: Sequence[str]) -> Mapping[str, str | None]:
        """Each contact's primary company (asked only for contacts that may be created on the other side)."""
        ...

    def apply(self, object_type: str, writes: Sequence[HubSpotWrite]) -> list[WriteResult]:
        """Creates and updates, in batches of up to 100 per call; results in the order of ``writes``."""
        ...

    def archive(self, object_type: str, record_id: str) -> None: ...


class AcceloPort(Protocol):
    def read(self, object_type: str, ids: Sequence[str], fields: Sequence[str]) -> Mapping[str, AcceloRecord | _Gone]:
        """Current records by id (in batches of up to 100 per call), with the flat fields asked for."""
        ...

    def find(self, object_type: str, key: MatchKey, fields: Sequence[str]) -> list[AcceloRecord]: ...

    def apply(self, object_type: str, write: AcceloWrite) -> WriteResult:
        """One create or update: at most one call per changed resource (contact, affiliation, each profile
        value, a status progression), never one per field."""
        ...

    def delete(self, object_type: str, record_id: str) -> None: ...
