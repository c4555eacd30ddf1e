"""A walk down the calls list that re-reads contacts, spread over the runs of a period.

Contacts are edited by CRM syncs without any call changing, and the API does not list them:
the only way to them is the calls (REFERENCE §2.12). So each sync walks a share of the calls
list, newest first, and re-reads the contacts of the calls it passes. The walk spreads one
full pass over the period (less one run interval, so that the last share comes in time),
the same share each run: a contact whose calls do not change is re-read about once a
period, and no run pays for the whole list.

Rows move while the walk is spread over days: a call updated or created goes to the head,
above where the walk is, and its contact was read when the sync wrote it; calls that leave
the list move later rows up, so the walk lands by position and steps back until the page
it lands on starts at or above where it stopped. The state is the walk's position only,
never the contacts it met.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tap_skipcall.calls.rows import Row, parse_timestamp
from tap_skipcall.calls.state import iso

if TYPE_CHECKING:
    from collections.abc import Sequence

#: The state key, in the calls bookmark.
WALK = "refresh_walk"


@dataclass(frozen=True)
class Walk:
    """Where this pass of the walk is.

    ``cursor``/``ids_at_cursor``: the ``updatedAt`` of the last row passed and the calls at it
    (None: the pass has not begun); ``rows_done``: rows passed from the head, where the next
    run lands; ``total``: the list's length then.
    """

    started_at: datetime
    cursor: str | None = None
    ids_at_cursor: frozenset[str] = field(default_factory=frozenset)
    rows_done: int = 0
    total: int = 0

    @classmethod
    def from_state(cls, entry: Any, now: datetime) -> Walk:
        """The walk in the calls state; a new pass from now if none is readable."""
        if not isinstance(entry, dict):
            return cls(now)
        started = parse_timestamp(entry.get("started_at"))
        rows, total = entry.get("rows_done"), entry.get("total")
        if started is None or not isinstance(rows, int) or not isinstance(total, int):
            return cls(now)
        cursor = entry.get("cursor")
        if cursor is not None and parse_timestamp(cursor) is None:
            return cls(now)
        ids = frozenset(map(str, entry.get("ids_at_cursor") or ()))
        return cls(started, cursor, ids, max(rows, 0), max(total, 0))

    def as_state(self) -> dict[str, Any]:
        """The entry the calls state keeps."""
        return {
            "started_at": iso(self.started_at),
            "cursor": self.cursor,
            "ids_at_cursor": sorted(self.ids_at_cursor),
            "rows_done": self.rows_done,
            "total": self.total,
        }

    def passed(self, row: Row) -> bool:
        """Whether the walk already passed this row in this pass (it is at or above it)."""
        cursor = parse_timestamp(self.cursor)
        if cursor is None or row.at is None:
            return False
        return row.at > cursor or (row.at == cursor and row.id in self.ids_at_cursor)


def rows_this_run(
    walk: Walk, *, now: datetime, interval: timedelta, period: timedelta, total: int
) -> int:
    """Rows to pass in this run: what is left of the pass, shared over the runs left.

    The pass must end by the last run before ``started_at + period``; runs come every
    ``interval`` (the time since the last one).
    """
    left = max(0, total - walk.rows_done)
    if interval <= timedelta(0):
        return left
    deadline = walk.started_at + period - interval
    runs_left = max(1, math.floor((deadline - now) / interval) + 1)
    return left if runs_left == 1 else left // runs_left  # runs a moment apart: none


def landing_row(walk: Walk, total: int) -> int:
    """Where the walk stopped, shifted down by the rows added at the head since."""
    return walk.rows_done + max(0, total - walk.total)


def landed_at_or_above(walk: Walk, rows: Sequence[Row]) -> bool:
    """Whether the page starts at or above where the walk stopped (nothing skipped)."""
    cursor = parse_timestamp(walk.cursor)
    first = next((row.at for row in rows if row.at is not None), None)
    return cursor is None or first is None or first >= cursor


def take(
    walk: Walk, rows: Sequence[Row], start: int, total: int, limit: int
) -> tuple[Walk, list[int]]:
    """Pass up to ``limit`` rows of this page (it begins at row ``start`` of the list).

    Returns the walk after them and the indexes of the rows passed (their children are
    read); rows the walk had passed already are stepped over.
    """
    fresh = [index for index, row in enumerate(rows) if not walk.passed(row)][: max(limit, 0)]
    if not fresh:
        return replace(walk, rows_done=start + len(rows), total=total), []
    last = rows[fresh[-1]]
    ids = frozenset(rows[i].id for i in fresh if rows[i].at == last.at)
    if last.updated_at == walk.cursor:
        ids |= walk.ids_at_cursor
    return Walk(walk.started_at, last.updated_at, ids, start + fresh[-1] + 1, total), fresh
