"""Associations between simulated records (reference/hubspot-api.md §5).

Stored in both directions, as sets of HubSpot-defined type ids per record pair. Associating a pair always
adds the unlabeled type too (HubSpot keeps it under every label); a record has at most one primary company.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from interlink.simulators.hubspot.schema import SINGULAR

Key = tuple[str, int]

# (from type, to type) -> {type id: (label, inverse type id)}
TYPES: dict[tuple[str, str], dict[int, tuple[str | None, int]]] = {
    ("contacts", "companies"): {279: (None, 280), 1: ("Primary", 2)},
    ("companies", "contacts"): {280: (None, 279), 2: ("Primary", 1)},
    ("deals", "companies"): {341: (None, 342), 5: ("Primary", 6)},
    ("companies", "deals"): {342: (None, 341), 6: ("Primary", 5)},
    ("contacts", "deals"): {4: (None, 3)},
    ("deals", "contacts"): {3: (None, 4)},
}
UNLABELED = {pair: next(tid for tid, (label, _) in kinds.items() if label is None) for pair, kinds in TYPES.items()}
PRIMARY_TYPES = {1, 2, 5, 6}
# Only one primary company per contact or deal: the type ids whose "from" side may hold one primary.
SINGLE_PRIMARY = {("contacts", "companies"): 1, ("deals", "companies"): 5}


def association_type_name(from_type: str, to_type: str) -> str:
    """``CONTACT_TO_COMPANY`` as webhook events name the pair."""
    return f"{SINGULAR[from_type].upper()}_TO_{SINGULAR[to_type].upper()}"


def v3_type_name(from_type: str, to_type: str, type_id: int) -> str:
    base = f"{SINGULAR[from_type]}_to_{SINGULAR[to_type]}"
    label = TYPES[(from_type, to_type)][type_id][0]
    return base if label else f"{base}_unlabeled"


class AssociationIndex:
    def __init__(self) -> None:
        self.links: dict[Key, dict[Key, set[int]]] = defaultdict(dict)

    def clear(self) -> None:
        self.links.clear()

    def types_between(self, origin: Key, target: Key) -> set[int]:
        return set(self.links.get(origin, {}).get(target, set()))

    def targets(self, origin: Key, to_type: str) -> list[tuple[int, set[int]]]:
        found = [(key[1], kinds) for key, kinds in self.links.get(origin, {}).items() if key[0] == to_type and kinds]
        return sorted(found)

    def add(self, origin: Key, target: Key, type_ids: set[int]) -> list[tuple[Key, Key, int]]:
        """Add types (and the unlabeled one) both ways; returns the (from, to, type) links that are new."""
        pair = (origin[0], target[0])
        kinds = {*type_ids, UNLABELED[pair]}
        added: list[tuple[Key, Key, int]] = []
        primary = SINGLE_PRIMARY.get(pair)
        if primary is not None and primary in kinds:
            for other, other_kinds in list(self.links.get(origin, {}).items()):
                if other != target and primary in other_kinds:
                    self._remove_types(origin, other, {primary})
        for type_id in sorted(kinds):
            inverse = TYPES[pair][type_id][1]
            forward = self.links[origin].setdefault(target, set())
            if type_id not in forward:
                forward.add(type_id)
                added.append((origin, target, type_id))
            backward = self.links[target].setdefault(origin, set())
            if inverse not in backward:
                backward.add(inverse)
                added.append((target, origin, inverse))
        return added

    def _remove_types(self, origin: Key, target: Key, type_ids: set[int]) -> None:
        pair = (origin[0], target[0])
        forward = self.links.get(origin, {}).get(target)
        backward = self.links.get(target, {}).get(origin)
        for type_id in type_ids:
            if forward is not None:
                forward.discard(type_id)
            if backward is not None:
                backward.discard(TYPES[pair][type_id][1])

    def remove_labels(self, origin: Key, target: Key, type_ids: set[int]) -> None:
        """Remove labels but keep the unlabeled association."""
        labelled = {tid for tid in type_ids if tid != UNLABELED[(origin[0], target[0])]}
        self._remove_types(origin, target, labelled)

    def remove(self, origin: Key, target: Key) -> bool:
        """Remove every type between the two records; True when there was something to remove."""
        had = bool(self.links.get(origin, {}).pop(target, None))
        self.links.get(target, {}).pop(origin, None)
        return had

    def forget(self, key: Key) -> dict[Key, set[int]]:
        """Drop a record's associations (merge, purge); returns what it had."""
        mine = self.links.pop(key, {})
        for target in mine:
            self.links.get(target, {}).pop(key, None)
        return mine

    def to_state(self) -> list[list[Any]]:
        return [
            [origin[0], origin[1], target[0], target[1], sorted(kinds)]
            for origin, targets in self.links.items()
            for target, kinds in targets.items()
            if kinds
        ]

    def load_state(self, rows: list[list[Any]]) -> None:
        self.clear()
        for from_type, from_id, to_type, to_id, kinds in rows:
            self.links[(from_type, int(from_id))][(to_type, int(to_id))] = set(kinds)
