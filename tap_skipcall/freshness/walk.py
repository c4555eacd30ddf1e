"""Contacts read again by a walk down the calls list, each about once a period.

Contacts are edited by CRM syncs without any call changing, and the API does not list them:
the only way to them is the calls (REFERENCE §2.12). A contact usually has several calls
spread over the list, so re-reading the contacts of a slice of the list each run would read
most contacts several times a period. Instead each contact has a fixed place on a circle,
its *phase* (a hash of its id), and the refresh turns round the circle once a lap: a walk
reads the whole calls list and re-reads only the contacts whose phase lies in the arc the
refresh turned through since the last walk. Each contact is then read once a lap, wherever
and however often it appears in the list, and the state is two values (when the last walk
was, how far round it turned), never the contacts met.

Walks come once per *cadence*: a seventh of the period, or the runs' interval if longer
(so hourly syncs walk once a day, daily ones every run). A lap is the period less one
cadence, so a contact read in one walk is read again at the latest one cadence after its
lap ends: within the period when syncs come at least as often as the cadence.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tap_skipcall.values import iso, parse_timestamp

#: The state key, in the calls bookmark.
WALK = "refresh_walk"
#: Walks per period, at most: daily walks for the default week.
WALKS_PER_PERIOD = 7
#: Places on the circle: phases and arcs are whole numbers (exact, and a state any target
#: stores: loaders read JSON numbers with a fraction as decimals, which some cannot write).
CIRCLE = 2**32


def phase_of(contact_id: str) -> int:
    """The contact's place on the circle: the same in every run and process."""
    digest = hashlib.blake2b(contact_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True)
class DueArc:
    """The phases due in this walk: ``start`` and the ``length`` after it, round the circle."""

    start: int
    length: int

    @property
    def share(self) -> float:
        """The part of the contacts due, from 0 to 1."""
        return min(self.length, CIRCLE) / CIRCLE

    @property
    def end(self) -> int:
        """Where the next walk's arc starts."""
        return (self.start + min(self.length, CIRCLE)) % CIRCLE

    def holds(self, contact_id: str) -> bool:
        """Whether this walk re-reads the contact."""
        return self.holds_phase(phase_of(contact_id))

    def holds_phase(self, phase: int) -> bool:
        """Whether the phase lies in the arc (arcs in a row share no phase and miss none)."""
        return self.length >= CIRCLE or (phase - self.start) % CIRCLE < self.length


@dataclass(frozen=True)
class Walk:
    """When the last walk read the list (``walked_at``), and where its arc ended (``turned_to``)."""

    walked_at: datetime
    turned_to: int = 0

    @classmethod
    def from_state(cls, entry: Any, now: datetime) -> Walk:
        """The walk in the calls state; a first lap from now if none is readable."""
        if not isinstance(entry, dict):
            return cls(now)
        walked_at = parse_timestamp(entry.get("walked_at"))
        turned_to = entry.get("turned_to", 0)
        if walked_at is None or walked_at > now or not isinstance(turned_to, int):
            return cls(now)
        return cls(walked_at, turned_to % CIRCLE)

    def as_state(self) -> dict[str, Any]:
        """The entry the calls state keeps."""
        return {"walked_at": iso(self.walked_at), "turned_to": self.turned_to}

    def after(self, due: DueArc, now: datetime) -> Walk:
        """The walk once a walk at ``now`` read every contact of ``due``."""
        return Walk(now, due.end)


def cadence(*, interval: timedelta, period: timedelta) -> timedelta:
    """How often the list is walked: a seventh of the period, or every run if they are rarer."""
    return max(interval, period / WALKS_PER_PERIOD)


def due_this_run(
    walk: Walk, *, now: datetime, interval: timedelta, period: timedelta
) -> DueArc | None:
    """The arc this run re-reads, or None if the walk is not due yet.

    A walk is due when waiting for the next run (``interval`` away, the time since the last
    one) would leave more than a cadence since the last walk; its arc is the time since
    the last walk, as a share of the lap.
    """
    elapsed = now - walk.walked_at
    every = cadence(interval=interval, period=period)
    if elapsed + interval <= every:
        return None  # also runs a moment apart
    lap = period - every
    if lap <= timedelta(0) or elapsed >= lap:
        return DueArc(walk.turned_to, CIRCLE)
    return DueArc(walk.turned_to, math.ceil(CIRCLE * (elapsed / lap)))
