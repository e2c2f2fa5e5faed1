"""Change feeds: what changed in Accelo since a cursor, for the records webhooks do not cover.

Accelo sends webhooks only for companies and contacts being created or updated; nothing for affiliations
(where a contact's email and phone live), profile values, status history or deletions. A feed polls one
list endpoint and returns the records modified since the cursor plus the next cursor. The caller stores the
cursor (a connector never writes to the database) and passes it back next time.

How a poll reads, and why:

- ``date_modified_after(T)`` is strictly greater, and a change may become visible after a later one (its
  transaction committed late). So each poll starts ``overlap`` seconds before the newest change it has
  delivered, and drops what it already delivered: the cursor remembers ``(id, date_modified)`` inside that
  window, with a short digest of the record as it was delivered. A record modified again comes back: with a
  new ``date_modified``, or, when the second change fell in the same second (Accelo's timestamps have
  one-second resolution), with a different digest.
- Pages are read by *keyset*, not by page number: after a page ending at second ``S`` the next request asks
  for ``date_modified > S - 1``. A record modified during the poll moves to the end of the order; with page
  numbers that would shift an unread record onto a page already read and lose it.
- A page whose records all share one second cannot advance the keyset; that second is then walked by page
  number, ordered by id.
- Profile values have no documented date filter, only ``order_by_desc(date_modified)``: that feed reads
  newest first until it reaches the cursor, so it always reads to the end (``max_records`` is ignored).

Deletions are found separately: ``RecordResource.find_missing(ids)`` reports which known ids no longer
resolve.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Literal, TypeVar

from interlink.connectors.accelo.api import AcceloApi
from interlink.connectors.accelo.query import (
    ALL_FIELDS,
    Filter,
    Query,
    filter_term,
    modified_after,
    modified_before,
    order_by_asc,
    order_by_desc,
)
from interlink.connectors.accelo.records import AFFILIATION_FIELDS, COMPANY_FIELDS, CONTACT_FIELDS
from interlink.connectors.accelo.schemas import (
    RESOURCE_PATHS,
    AcceloModel,
    Affiliation,
    Company,
    Contact,
    ObjectType,
    ProfileValue,
    ProgressionHistory,
)
from interlink.connectors.accelo.values import to_unix

T = TypeVar("T", bound=AcceloModel)

DEFAULT_OVERLAP_SECONDS = 10
MAX_REMEMBERED = 50_000  # beyond this the oldest pairs are forgotten (at worst, a duplicate later)


@dataclass(frozen=True)
class FeedCursor:
    """Where a feed stands: the newest ``date_modified`` delivered (unix seconds; ``None`` before the first
    record) and what was already delivered inside the overlap window, as ``(id, date_modified, digest)``."""

    since: int | None = None
    seen: frozenset[tuple[int, int, str]] = field(default_factory=frozenset)

    @classmethod
    def from_beginning(cls) -> FeedCursor:
        return cls()

    @classmethod
    def starting_at(cls, moment: datetime | int) -> FeedCursor:
        """Only changes after ``moment`` (e.g. when the connection was made, after a full import)."""
        return cls(since=to_unix(moment))

    def to_json(self) -> str:
        return json.dumps({"since": self.since, "seen": sorted([list(entry) for entry in self.seen])})

    @classmethod
    def from_json(cls, text: str) -> FeedCursor:
        try:
            data = json.loads(text)
            since = data["since"]
            seen = frozenset((int(record_id), int(stamp), str(digest)) for record_id, stamp, digest in data["seen"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not an Accelo feed cursor: {exc}") from None
        if since is not None and not isinstance(since, int):
            raise ValueError("not an Accelo feed cursor: since is not a number")
        return cls(since=since, seen=seen)


@dataclass(frozen=True)
class FeedBatch(Generic[T]):
    records: list[T]
    cursor: FeedCursor
    complete: bool  # False when max_records stopped the poll early: poll again with the new cursor


def _digest(record: AcceloModel) -> str:
    return hashlib.blake2b(record.model_dump_json().encode(), digest_size=6).hexdigest()


def _stamp(record: AcceloModel) -> int:
    moment = getattr(record, "date_modified", None)
    return int(moment.timestamp()) if isinstance(moment, datetime) else 0


class ChangeFeed(Generic[T]):
    def __init__(
        self,
        api: AcceloApi,
        model: type[T],
        path: str,
        *,
        fields: Sequence[str],
        filters: Sequence[Filter] = (),
        order: Literal["asc", "desc"] = "asc",
        overlap: int = DEFAULT_OVERLAP_SECONDS,
        page_size: int = 100,
    ) -> None:
        self.api = api
        self.model = model
        self.path = path
        self.fields = tuple(fields)
        self.filters = tuple(filters)
        self.order = order
        self.overlap = overlap
        self.page_size = page_size

    def poll(self, cursor: FeedCursor | None = None, *, max_records: int | None = None) -> FeedBatch[T]:
        """The records changed since ``cursor`` (each once) and the cursor to pass next time."""
        cursor = cursor or FeedCursor()
        floor = None if cursor.since is None else cursor.since - self.overlap
        state: _PollState[T] = _PollState(
            cursor.since, {entry for entry in cursor.seen if floor is None or entry[1] > floor}
        )
        if self.order == "asc":
            complete = self._read_ascending(state, floor, max_records)
        else:
            complete = self._read_descending(state, floor)
        return FeedBatch(state.records, state.cursor(self.overlap), complete)

    def _page(self, filters: Sequence[Filter], page: int) -> list[T]:
        query = Query(fields=self.fields, filters=(*self.filters, *filters), limit=self.page_size, page=page)
        return self.api.page(self.model, self.path, route=self.path, query=query)

    def _read_ascending(self, state: _PollState[T], floor: int | None, max_records: int | None) -> bool:
        lower = floor
        while True:
            terms = [order_by_asc("date_modified")]
            if lower is not None:
                terms.insert(0, modified_after(lower))
            page = self._page(terms, 0)
            state.take_all(page)
            if len(page) < self.page_size:
                return True
            first, last = _stamp(page[0]), _stamp(page[-1])
            if first == last:  # a full page inside one second: walk that second by id
                group_page = 0
                while True:
                    group = self._page([modified_after(last - 1), modified_before(last + 1)], group_page)
                    state.take_all(group)
                    if len(group) < self.page_size:
                        break
                    group_page += 1
                lower = last
            else:
                lower = last - 1  # the page may have cut that second short; re-read it, dropping repeats
            if max_records is not None and len(state.records) >= max_records:
                return False

    def _read_descending(self, state: _PollState[T], floor: int | None) -> bool:
        number = 0
        while True:
            page = self._page([order_by_desc("date_modified")], number)
            reached_floor = False
            for record in page:
                if floor is not None and _stamp(record) <= floor:
                    reached_floor = True
                    continue
                state.take(record)
            if reached_floor or len(page) < self.page_size:
                return True
            number += 1


class _PollState(Generic[T]):
    def __init__(self, since: int | None, seen: set[tuple[int, int, str]]) -> None:
        self.newest = since
        self.seen = seen
        self.records: list[T] = []

    def take(self, record: T) -> None:
        stamp = _stamp(record)
        record_id = getattr(record, "id", 0)
        if self.newest is None or stamp > self.newest:
            self.newest = stamp
        key = (int(record_id), stamp, _digest(record))
        if key not in self.seen:
            self.seen.add(key)
            self.records.append(record)

    def take_all(self, records: Iterable[T]) -> None:
        for record in records:
            self.take(record)

    def cursor(self, overlap: int) -> FeedCursor:
        if self.newest is None:
            return FeedCursor(None, frozenset(self.seen))
        floor = self.newest - overlap
        kept = [entry for entry in self.seen if entry[1] > floor]
        if len(kept) > MAX_REMEMBERED:
            kept = sorted(kept, key=lambda entry: entry[1])[-MAX_REMEMBERED:]
        return FeedCursor(self.newest, frozenset(kept))


class Feeds:
    """The change feeds Interlink polls, one per kind of record."""

    def __init__(self, api: AcceloApi, *, overlap: int = DEFAULT_OVERLAP_SECONDS) -> None:
        self.api = api
        self.overlap = overlap

    def companies(self, *, fields: Sequence[str] = COMPANY_FIELDS) -> ChangeFeed[Company]:
        return ChangeFeed(self.api, Company, "/companies", fields=fields, overlap=self.overlap)

    def contacts(self, *, fields: Sequence[str] = CONTACT_FIELDS) -> ChangeFeed[Contact]:
        return ChangeFeed(self.api, Contact, "/contacts", fields=fields, overlap=self.overlap)

    def affiliations(self, *, fields: Sequence[str] = AFFILIATION_FIELDS) -> ChangeFeed[Affiliation]:
        """Email, phone and position edits: Accelo sends no webhook for them."""
        return ChangeFeed(self.api, Affiliation, "/affiliations", fields=fields, overlap=self.overlap)

    def profile_values(self, object_type: ObjectType) -> ChangeFeed[ProfileValue]:
        """Custom-field edits of every company (contact, affiliation): no webhook either."""
        return ChangeFeed(
            self.api,
            ProfileValue,
            f"/{RESOURCE_PATHS[object_type]}/profiles/values",
            fields=(ALL_FIELDS,),
            order="desc",
            overlap=self.overlap,
        )

    def status_history(self, object_type: ObjectType | None = None) -> ChangeFeed[ProgressionHistory]:
        """Status changes (``/progressions/history``), of one record type or all."""
        filters = (filter_term("against_type", object_type),) if object_type else ()
        return ChangeFeed(
            self.api,
            ProgressionHistory,
            "/progressions/history",
            fields=(ALL_FIELDS,),
            filters=filters,
            overlap=self.overlap,
        )
