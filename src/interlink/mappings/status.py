"""The status decision: whether to write a status to either side, and which, from two many-to-one maps.

``H2A`` maps HubSpot values (``lifecyclestage`` by default) to Accelo statuses, ``A2H`` maps Accelo statuses
back. The pair ``(h, a)`` is **consistent** when ``H2A(h) == a`` or ``A2H(a) == h``, and a consistent pair is
never rewritten: a HubSpot contact at ``evangelist`` whose Accelo twin is ``Active`` stays ``evangelist``
however often the Accelo record changes, even though ``A2H(Active)`` is ``customer``. Only a side that moved
since the last sync pushes its status across, and only to the mapped value.

Two limits the decision respects and reports instead of forcing:
- Accelo changes a status only through a progression; a target with no progression from the current status
  is flagged.
- HubSpot's ``lifecyclestage`` only moves forward through the API; moving it back (clear, then set) is a
  workspace option, off by default.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# HubSpot's default lifecycle stages, in order (reference: hubspot-api.md, fact 15).
LIFECYCLE_ORDER: tuple[str, ...] = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)

Side = Literal["hubspot", "accelo"]
ConflictPolicy = Literal["hubspot_wins", "accelo_wins", "latest", "review"]


@dataclass(frozen=True)
class StatusMaps:
    h2a: Mapping[str, str]
    a2h: Mapping[str, str]

    def consistent(self, hubspot: str | None, accelo: str | None) -> bool:
        if hubspot is None or accelo is None:
            return False
        return self.h2a.get(hubspot) == accelo or self.a2h.get(accelo) == hubspot


@dataclass(frozen=True)
class StatusState:
    """Both sides now, and what they agreed on at the last sync (None for a new link)."""

    hubspot: str | None
    accelo: str | None
    base_hubspot: str | None = None
    base_accelo: str | None = None
    hubspot_changed_at: datetime | None = None
    accelo_changed_at: datetime | None = None


@dataclass(frozen=True)
class StatusOptions:
    # The order of the HubSpot property's values when only forward moves are allowed (lifecyclestage);
    # None for a property that may move freely (e.g. hs_lead_status).
    hubspot_order: Sequence[str] | None = LIFECYCLE_ORDER
    allow_backward: bool = False
    # Accelo statuses reachable from the current one by a progression; None when unknown (not checked).
    accelo_reachable: Collection[str] | None = None
    conflict_policy: ConflictPolicy = "latest"
    origin: Side = "hubspot"  # for a new link: the side the record came from wins


Outcome = Literal["none", "write_accelo", "write_hubspot", "blocked", "review"]


@dataclass(frozen=True)
class StatusDecision:
    outcome: Outcome
    reason: str
    value: str | None = None  # what to write
    clear_first: bool = False  # HubSpot lifecyclestage backwards: clear, then set
    losing_value: str | None = None  # in a conflict, the value that lost

    @property
    def writes(self) -> bool:
        return self.outcome in {"write_accelo", "write_hubspot"}


def decide_status(maps: StatusMaps, state: StatusState, options: StatusOptions = StatusOptions()) -> StatusDecision:
    h, a = state.hubspot, state.accelo
    if maps.consistent(h, a):
        return StatusDecision("none", f"HubSpot {h!r} and Accelo {a!r} are consistent under the status maps")
    hubspot_moved = h != state.base_hubspot
    accelo_moved = a != state.base_accelo
    new_link = state.base_hubspot is None and state.base_accelo is None

    if new_link:
        mover: Side = options.origin
    elif hubspot_moved and not accelo_moved:
        mover = "hubspot"
    elif accelo_moved and not hubspot_moved:
        mover = "accelo"
    elif not hubspot_moved and not accelo_moved:
        # Inconsistent although nothing moved: the maps changed since the last sync. Nothing is written
        # until one side moves; the pair is reported so an admin can see it.
        return StatusDecision(
            "none", f"HubSpot {h!r} and Accelo {a!r} are not consistent under the current maps; neither moved"
        )
    else:
        return _conflict(maps, state, options)
    return _push(maps, state, options, mover)


def _push(maps: StatusMaps, state: StatusState, options: StatusOptions, mover: Side) -> StatusDecision:
    if mover == "hubspot":
        return _to_accelo(maps, state, options)
    return _to_hubspot(maps, state, options)


def _to_accelo(maps: StatusMaps, state: StatusState, options: StatusOptions) -> StatusDecision:
    h = state.hubspot
    if h is None:
        return StatusDecision("none", "HubSpot has no status; nothing to send to Accelo")
    target = maps.h2a.get(h)
    if target is None:
        return StatusDecision("none", f"HubSpot status {h!r} is not mapped to an Accelo status; nothing written")
    if options.accelo_reachable is not None and target not in options.accelo_reachable:
        current = state.accelo or "no status"
        return StatusDecision(
            "blocked",
            f"Accelo has no progression from {current!r} to {target!r} (HubSpot is {h!r}); add one in Accelo",
            value=target,
        )
    return StatusDecision("write_accelo", f"HubSpot moved to {h!r}, which maps to Accelo {target!r}", value=target)


def _to_hubspot(maps: StatusMaps, state: StatusState, options: StatusOptions) -> StatusDecision:
    a = state.accelo
    if a is None:
        return StatusDecision("none", "Accelo has no status; nothing to send to HubSpot")
    target = maps.a2h.get(a)
    if target is None:
        return StatusDecision("none", f"Accelo status {a!r} is not mapped to a HubSpot value; nothing written")
    backward = _is_backward(state.hubspot, target, options.hubspot_order)
    if backward and not options.allow_backward:
        return StatusDecision(
            "blocked",
            f"Accelo moved to {a!r}, which maps to HubSpot {target!r}, a step back from {state.hubspot!r}; "
            "HubSpot only moves lifecycle stages forward (turn on allow_lifecycle_backward to clear and set)",
            value=target,
        )
    return StatusDecision(
        "write_hubspot",
        f"Accelo moved to {a!r}, which maps to HubSpot {target!r}"
        + (" (moving back: clear, then set)" if backward else ""),
        value=target,
        clear_first=backward,
    )


def _conflict(maps: StatusMaps, state: StatusState, options: StatusOptions) -> StatusDecision:
    policy = options.conflict_policy
    if policy == "review":
        return StatusDecision(
            "review",
            f"both sides changed status (HubSpot {state.hubspot!r}, Accelo {state.accelo!r}); "
            "held for a person to decide",
        )
    if policy == "latest":
        h_at, a_at = state.hubspot_changed_at, state.accelo_changed_at
        winner: Side = "accelo" if (h_at is not None and a_at is not None and a_at > h_at) else "hubspot"
    else:
        winner = "hubspot" if policy == "hubspot_wins" else "accelo"
    decision = _push(maps, state, options, winner)
    losing = state.accelo if winner == "hubspot" else state.hubspot
    return StatusDecision(
        decision.outcome,
        f"both sides changed status; {winner} wins ({policy}): {decision.reason}",
        value=decision.value,
        clear_first=decision.clear_first,
        losing_value=losing,
    )


def _is_backward(current: str | None, target: str, order: Sequence[str] | None) -> bool:
    if order is None or current is None or current not in order or target not in order:
        return False
    return order.index(target) < order.index(current)


def status_map_warnings(
    maps: StatusMaps,
    hubspot_values: Collection[str],
    accelo_statuses: Collection[str],
    *,
    hubspot_property: str = "the HubSpot status property",
    object_type: str = "record",
) -> list[str]:
    """What an admin should fix in the maps, given both systems' live status values.

    First, dead arrows: an arrow from or to a value that does not exist (a status renamed in Accelo, or the
    HubSpot status property switched to another property) never applies. Then the values that can never be in a
    consistent pair: a push always leaves a consistent pair (``A2H(a)`` is consistent with ``a`` by definition),
    so the pairs that never settle are those with a value no live arrow touches: a record at such a value is
    never in step and its status never moves across.
    """
    hubspot_known, accelo_known = set(hubspot_values), set(accelo_statuses)
    warnings = []
    for source, target in sorted(maps.h2a.items()):
        if source not in hubspot_known:
            warnings.append(f"h2a: HubSpot {source!r} is not a value of {hubspot_property}")
        elif target not in accelo_known:
            warnings.append(f"h2a: HubSpot {source!r} maps to {target!r}, which is not an Accelo {object_type} status")
    for source, target in sorted(maps.a2h.items()):
        if source not in accelo_known:
            warnings.append(f"a2h: {source!r} is not an Accelo {object_type} status")
        elif target not in hubspot_known:
            warnings.append(f"a2h: Accelo {source!r} maps to {target!r}, which is not a value of {hubspot_property}")
    h2a = {s: t for s, t in maps.h2a.items() if s in hubspot_known and t in accelo_known}
    a2h = {s: t for s, t in maps.a2h.items() if s in accelo_known and t in hubspot_known}
    mapped_hubspot = set(h2a) | set(a2h.values())
    mapped_accelo = set(a2h) | set(h2a.values())
    for value in sorted(hubspot_known - mapped_hubspot):
        warnings.append(f"HubSpot {value!r} is not mapped and no Accelo status maps to it: never consistent")
    for value in sorted(accelo_known - mapped_accelo):
        warnings.append(f"Accelo {value!r} is not mapped and no HubSpot value maps to it: never consistent")
    return warnings
