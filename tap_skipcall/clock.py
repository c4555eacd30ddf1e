"""The tap's clock, in one place: what a day-by-day test moves (or `faketime` does)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current moment, UTC."""
    return datetime.now(UTC)
