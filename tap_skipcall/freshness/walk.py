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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tap_skipcall.calls.rows import parse_timestamp
from tap_skipcall.calls.state import iso

#: The state key, in the calls bookmark.
WALK = "refresh_walk"
#: Walks per period, at most: daily walks for the default week.
WALKS_PER_PERIOD = 7


def phase_of(contact_id: str) -> float:
    """The contact's place on the circle, in [0, 1): the same in every run and process."""
    digest = hashlib.blake2b(contact_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class DueArc:
    """The phases due in this walk: ``[start, start + length)`` round the circle."""

    start: float
    length: float

    @property
    def end(self) -> float:
        """Where the next walk's arc starts."""
        return (self.start + min(self.length, 1.0)) % 1.0

    def holds(self, contact_id: str) -> bool:
        """Whether this walk re-reads the contact."""
        return self.holds_phase(phase_of(contact_id))

    def holds_phase(self, phase: float) -> bool:
        """Whether the phase lies in the arc.

        Compared with ``end``, the next arc's start, so that arcs in a row share no phase
        and miss none, whatever the rounding.
        """
        start, end = self.start, self.end
        if self.length >= 1.0 or (start == end and self.length > 0.5):
            return True
        return start <= phase < end if start <= end else phase >= start or phase < end


@dataclass(frozen=True)
class Walk:
    """When the last walk read the list (``walked_at``), and where its arc ended (``turned_to``)."""

    walked_at: datetime
    turned_to: float = 0.0

    @classmethod
    def from_state(cls, entry: Any, now: datetime) -> Walk:
        """The walk in the calls state; a first lap from now if none is readable."""
        if not isinstance(entry, dict):
            return cls(now)
        walked_at = parse_timestamp(entry.get("walked_at"))
        turned_to = entry.get("turned_to", 0.0)
        if walked_at is None or walked_at > now or not isinstance(turned_to, int | float):
            return cls(now)
        return cls(walked_at, float(turned_to) % 1.0)

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
    if lap <= timedelta(0):
        return DueArc(walk.turned_to, 1.0)
    return DueArc(walk.turned_to, min(1.0, elapsed / lap))
