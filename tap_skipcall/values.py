"""Values read from the API and from the state, below every subsystem: timestamps and counts.

The calls sync, the freshness reads and the base streams all read these the same way, so they
live here rather than in one of them (none of them imports another for a helper).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 → aware datetime; None for null or unreadable values."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def iso(moment: datetime) -> str:
    """A moment as the state writes it: UTC, ISO 8601."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def positive_int(value: Any, *, allow_zero: bool = False) -> int | None:
    """A count the API announced, or None if absent or not a count."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None  # Python's JSON reader accepts Infinity and NaN
    number = int(value)
    return number if number > 0 or (allow_zero and number == 0) else None
