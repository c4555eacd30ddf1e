"""Recordings and transcriptions read before they were final, to read again.

A call that ends shortly before a sync has a recording whose transcription is ``PENDING``;
when it completes, nothing on the call changes (REFERENCE §2.12), so no later sync would read
it. The watch list remembers it, and each sync reads it again (one request per unfinished
child) until it is final or its deadline passes:

* a transcription ``PENDING`` or ``IN_PROGRESS``, or announced by ``hasTranscription`` but
  not served yet (404), and the recording that reports its status: 7 days (a transcription
  takes minutes; one not done in a week is stuck, and is logged as given up);
* a recording not there yet (404) for a call that ended less than a day before: until a day
  after the call ended (a recording is attached within minutes, if at all; a call without
  one, as many have, costs one request per sync for that day).

The list holds only what is unfinished, never the account's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tap_skipcall.calls.rows import parse_timestamp
from tap_skipcall.calls.state import iso

if TYPE_CHECKING:
    from collections.abc import Mapping

FINAL = frozenset({"COMPLETED", "FAILED"})
#: How long a transcription (and its recording's status) is read again before giving up.
HORIZON = timedelta(days=7)
#: How long after its call ended a missing recording is looked for again.
LATE_RECORDING_WINDOW = timedelta(days=1)
#: The state key, in the bookmarks of ``call_recordings`` and ``call_transcriptions``.
UNFINISHED = "unfinished"


@dataclass(frozen=True)
class WatchList:
    """Call ids whose child to read again, each with the moment to give up on it."""

    until: Mapping[str, datetime] = field(default_factory=dict)

    @classmethod
    def from_state(cls, entry: Any) -> WatchList:
        """The list in a stream's state (an unreadable entry is dropped, not fatal)."""
        if not isinstance(entry, dict):
            return cls()
        until = {str(k): parse_timestamp(v) for k, v in entry.items()}
        return cls({k: v for k, v in until.items() if v is not None})

    def as_state(self) -> dict[str, str]:
        """The entry the stream's state keeps (call id → deadline, ISO 8601)."""
        return {call_id: iso(self.until[call_id]) for call_id in sorted(self.until)}

    def watching(self, call_id: str, until: datetime) -> WatchList:
        """The list with this call, keeping the deadline it already had."""
        if call_id in self.until:
            return self
        return WatchList({**self.until, call_id: until})

    def without(self, call_id: str) -> WatchList:
        """The list without this call (its child is final)."""
        if call_id not in self.until:
            return self
        return WatchList({k: v for k, v in self.until.items() if k != call_id})

    def split(self, now: datetime) -> tuple[list[str], list[str]]:
        """The calls to read again now, and those whose deadline has passed."""
        due = sorted(k for k, v in self.until.items() if now < v)
        expired = sorted(k for k, v in self.until.items() if now >= v)
        return due, expired


def recording_deadline(
    record: Mapping[str, Any] | None, ended_at: Any, now: datetime
) -> datetime | None:
    """Until when to read this recording again (None: it is final, or none will come)."""
    if record is None:
        ended = parse_timestamp(ended_at)
        if ended is None or now - ended >= LATE_RECORDING_WINDOW:
            return None
        return ended + LATE_RECORDING_WINDOW
    if record.get("hasTranscription") and record.get("transcriptionStatus") not in FINAL:
        return now + HORIZON
    return None


def transcription_deadline(record: Mapping[str, Any] | None, now: datetime) -> datetime | None:
    """Until when to read this transcription again (None: it is final).

    It is read only where the recording announced one, so a 404 means "not served yet".
    """
    if record is None or record.get("status") not in FINAL:
        return now + HORIZON
    return None
