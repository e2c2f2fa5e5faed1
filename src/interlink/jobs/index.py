"""A bulk job's match index: the target system's records by match key, kept in the database.

Live syncing looks for an unlinked record's twin with one vendor search per record; at 100,000 records that
is 100,000 searches. A job instead lists the target system once (100 records per call, the keys ``find`` would
search by: contacts by affiliation email, companies by website domain and by name) into ``job_match_keys``,
and looks twins up there, a batch at a time. Records the job creates or links are added as it goes, so a later
record with the same key finds them (and, being linked, they are "taken": the later one goes to review
instead of making a duplicate), just as a live search would have found them.

Keys are stored as SHA-256 digests of kind and normalised value: fixed size, exact, and no second plaintext
copy of people's email addresses.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence

from interlink.db import Database
from interlink.jobs.repository import PLANNED, MatchIndex
from interlink.sync.matching import MatchKey, accelo_keys, hubspot_keys
from interlink.sync.plan import AcceloRecord, HubSpotRecord, Side


def key_digest(key: MatchKey) -> str:
    return hashlib.sha256(f"{key.kind}\x00{key.value}".encode()).hexdigest()


def planned_digest(source_id: str) -> str:
    """The key of a dry run's ``planned`` row for a source record (its predicted twin)."""
    return hashlib.sha256(f"{PLANNED}\x00{source_id}".encode()).hexdigest()


def keys_of(object_type: str, record: HubSpotRecord | AcceloRecord) -> list[MatchKey]:
    """The keys the engine matches this record by, in the order it tries them."""
    if isinstance(record, HubSpotRecord):
        return hubspot_keys(object_type, record)
    return accelo_keys(object_type, record)


def key_rows(
    keys: Iterable[MatchKey], record_id: str, source_id: str | None = None
) -> list[tuple[str, str, str, str | None]]:
    return [(key.kind, key_digest(key), record_id, source_id) for key in keys]


class IndexMatcher:
    """The engine's ``Matcher`` over a job's index, for one batch: the batch's keys are read in one query up
    front; anything else asked for is looked up on demand."""

    def __init__(self, db: Database, job_id: uuid.UUID, object_type: str, target: Side) -> None:
        self.db = db
        self.job_id = job_id
        self.object_type = object_type
        self.target = target
        self._found: dict[str, list[str]] = {}

    def prefetch(self, records: Sequence[HubSpotRecord | AcceloRecord]) -> None:
        digests = {key_digest(key) for record in records for key in keys_of(self.object_type, record)}
        self._load(digests)

    def _load(self, digests: Iterable[str]) -> None:
        wanted = [digest for digest in digests if digest not in self._found]
        if not wanted:
            return
        with self.db.transaction() as session:
            found = MatchIndex(session, self.job_id, self.object_type).lookup(wanted)
        for digest in wanted:
            self._found[digest] = found.get(digest, [])

    def find(self, object_type: str, system: Side, key: MatchKey) -> list[str]:
        if object_type != self.object_type or system != self.target:  # pragma: no cover - the engine's contract
            raise ValueError(f"this index holds {self.target} {self.object_type}s, not {system} {object_type}s")
        digest = key_digest(key)
        self._load([digest])
        return list(self._found[digest])

    def candidates(self, record: HubSpotRecord | AcceloRecord) -> tuple[str, list[str]] | None:
        """What the engine found for this record: the first of its keys with any match (kind, ids)."""
        for key in keys_of(self.object_type, record):
            found = self.find(self.object_type, self.target, key)
            if found:
                return key.kind, found
        return None
