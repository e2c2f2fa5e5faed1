"""In-memory tables with the indexes the simulator needs to stay fast at 100,000 records.

Rows are plain dicts keyed by Accelo's wire names, with Python values (ints for ids and timestamps, strings,
``None``); a link to another record holds that record's id. Each table keeps:

- rows in id order (a dict, re-sorted only if an id arrives out of order), so default listings page by
  slicing;
- a sorted ``(date_modified, id)`` list, so ``date_modified_after`` and ``order_by_*(date_modified)`` read a
  range instead of scanning;
- optional equality indexes (``company``, ``contact``, ``email``…), so look-ups by those are direct.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

Row = dict[str, Any]


class Clock:
    """Unix seconds, with an offset tests can move, or frozen at one moment."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen: int | None = None

    def now(self) -> int:
        if self.frozen is not None:
            return self.frozen
        return int(time.time() + self.offset)

    def advance(self, seconds: float) -> None:
        if self.frozen is not None:
            self.frozen += int(seconds)
        else:
            self.offset += seconds

    def freeze(self, at: int | None = None) -> int:
        """Stop time (at ``at``, or now); ``advance`` then moves it by whole seconds."""
        self.frozen = self.now() if at is None else at
        return self.frozen

    def thaw(self) -> None:
        self.frozen = None


def index_key(value: Any) -> Any:
    """Index keys compare as filters do: case-insensitive text, and ids whether sent as text or numbers."""
    if isinstance(value, str):
        text = value.strip().lower()
        return int(text) if text.isdigit() else text
    return value


class Table:
    def __init__(self, name: str, *, indexed: Sequence[str] = (), tracks_modified: bool = True) -> None:
        self.name = name
        self.rows: dict[int, Row] = {}
        self.next_id = 1
        self.indexed = tuple(indexed)
        self.indexes: dict[str, dict[Any, set[int]]] = {name: {} for name in self.indexed}
        self.tracks_modified = tracks_modified
        self.by_modified: list[tuple[int, int]] = []
        self._in_order = True
        self._id_list: list[int] | None = None

    # -- reading ------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, row_id: object) -> bool:
        return row_id in self.rows

    def get(self, row_id: int) -> Row | None:
        return self.rows.get(row_id)

    def ids_in_order(self) -> list[int]:
        if not self._in_order:
            self.rows = dict(sorted(self.rows.items()))
            self._in_order = True
        if self._id_list is None:
            self._id_list = list(self.rows)
        return self._id_list

    def rows_in_order(self) -> Iterator[Row]:
        self.ids_in_order()
        return iter(self.rows.values())

    def lookup(self, field: str, values: Iterable[Any]) -> set[int]:
        index = self.indexes[field]
        found: set[int] = set()
        for value in values:
            found |= index.get(index_key(value), set())
        return found

    def modified_range(self, after: int | None, before: int | None) -> tuple[int, int]:
        """Positions in ``by_modified`` of the rows with after < date_modified < before."""
        low = 0 if after is None else bisect.bisect_right(self.by_modified, (after, float("inf")))
        high = len(self.by_modified) if before is None else bisect.bisect_left(self.by_modified, (before, -1))
        return low, max(low, high)

    # -- writing ------------------------------------------------------------------------------------------
    def insert(self, row: Row) -> Row:
        row_id = row.get("id")
        if row_id is None:
            row_id = self.next_id
            row["id"] = row_id
        if row_id in self.rows:
            raise KeyError(f"{self.name} {row_id} exists")
        if self.rows and row_id < next(reversed(self.rows)):
            self._in_order = False
        self.next_id = max(self.next_id, row_id + 1)
        self.rows[row_id] = row
        self._id_list = None
        for field in self.indexed:
            self.indexes[field].setdefault(index_key(row.get(field)), set()).add(row_id)
        if self.tracks_modified:
            bisect.insort(self.by_modified, (row.get("date_modified") or 0, row_id))
        return row

    def update(self, row_id: int, changes: Mapping[str, Any]) -> Row:
        row = self.rows[row_id]
        for field in self.indexed:
            if field in changes and index_key(changes[field]) != index_key(row.get(field)):
                self._unindex(field, row.get(field), row_id)
                self.indexes[field].setdefault(index_key(changes[field]), set()).add(row_id)
        if self.tracks_modified and "date_modified" in changes and changes["date_modified"] != row.get("date_modified"):
            self._remove_modified(row.get("date_modified") or 0, row_id)
            bisect.insort(self.by_modified, (changes["date_modified"] or 0, row_id))
        row.update(changes)
        return row

    def delete(self, row_id: int) -> Row | None:
        row = self.rows.pop(row_id, None)
        if row is None:
            return None
        self._id_list = None
        for field in self.indexed:
            self._unindex(field, row.get(field), row_id)
        if self.tracks_modified:
            self._remove_modified(row.get("date_modified") or 0, row_id)
        return row

    def clear(self) -> None:
        self.rows.clear()
        self.next_id = 1
        self.indexes = {name: {} for name in self.indexed}
        self.by_modified.clear()
        self._in_order = True
        self._id_list = None

    def _unindex(self, field: str, value: Any, row_id: int) -> None:
        bucket = self.indexes[field].get(index_key(value))
        if bucket is not None:
            bucket.discard(row_id)
            if not bucket:
                del self.indexes[field][index_key(value)]

    def _remove_modified(self, stamp: int, row_id: int) -> None:
        position = bisect.bisect_left(self.by_modified, (stamp, row_id))
        if position < len(self.by_modified) and self.by_modified[position] == (stamp, row_id):
            del self.by_modified[position]

    # -- persistence --------------------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {"next_id": self.next_id, "rows": list(self.rows_in_order())}

    def load(self, data: Mapping[str, Any]) -> None:
        self.clear()
        for row in data.get("rows", []):
            self.insert(dict(row))
        self.next_id = max(self.next_id, int(data.get("next_id", 1)))
