"""Values read from the API and from the state, below every subsystem: timestamps and counts.

The calls sync, the freshness reads and the base streams all read these the same way, so they
live here rather than in one of them (none of them imports another for a helper).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 → aware datetime; None for null or unreadable values.

    A date, or a date-time without an offset, is read as UTC (``2024-01-31`` is its
    midnight, UTC): users type them so, and Meltano may pass them so.
    """
    if not isinstance(value, str):
        return None
    try:  # the API's own form (…T…Z) reads as it is: one call per row of every page
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def utc_timestamp(value: Any) -> str | None:
    """A timestamp setting as the tap compares it: as given if it has an offset, else UTC.

    ``2024-01-31`` becomes ``2024-01-31T00:00:00Z``; None for null or unreadable values.
    """
    moment = parse_timestamp(value)
    if moment is None:
        return None
    has_offset = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00")).tzinfo
    return str(value).strip() if has_offset is not None else iso(moment)


def calendar_date(value: Any) -> str | None:
    """A date setting's day (``2024-01-31``), from a date or a date-time as written."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
        try:  # a date-time: its day as written, whatever its offset
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
        except ValueError:
            pass
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


def plural(count: int, noun: str) -> str:
    """``1 request``, ``2 requests``, ``1,000 requests``: a count as a user reads it."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
