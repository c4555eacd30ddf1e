"""Sequences re-read in rotation: the oldest-read first, an even share each run.

A sequence's contacts change status without any call changing (REFERENCE §2.12). Sequences
are few and known by id (from the calls synced), so the state keeps when each was last read
(bounded by the number of sequences, not of contacts) and each run re-reads the ones read
longest ago: at least those that would otherwise be older than the period by the next run,
and at least an even share of all, so that no run pays for them all at once.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


def due_for_refresh(
    read_at: Mapping[str, datetime], *, now: datetime, interval: timedelta, period: timedelta
) -> list[str]:
    """The sequences to read again in this run, oldest-read first."""
    if not read_at or interval <= timedelta(0):
        return []
    oldest_first = sorted(read_at, key=lambda key: (read_at[key], key))
    late = [key for key in oldest_first if read_at[key] + period <= now + interval]
    runs_per_period = max(1.0, (period - interval) / interval)
    share = math.floor(len(read_at) / runs_per_period)  # runs a moment apart: none
    return oldest_first[: max(len(late), share)]
