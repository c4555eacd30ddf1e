"""Recordings and transcriptions read before they were final, to read again.

A call that ends shortly before a sync has a recording whose transcription is ``PENDING``;
when it completes, nothing on the call changes (REFERENCE §2.12), so no later sync would read
it. The watch list remembers it, and each sync reads it again (one request per unfinished
child) until it is final or its deadline passes:

* a transcription ``PENDING`` or ``IN_PROGRESS``, or announced by ``hasTranscription`` but
  not served yet (404), and the recording that reports its status: 7 days (a transcription
  takes minutes; one not done in a week is stuck, and is logged as given up);
* a recording not there yet (404) for a call that ended less than an hour before it was
  read: an hour after the call ended (a recording is attached within minutes, if at all;
  many calls never get one, so the wait is short).

Every sync reads each watched child once, and the first sync after its deadline reads it
one last time (so a daily sync still catches a recording attached minutes after the call).
The lists hold only what is unfinished, never the account's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tap_skipcall.values import iso, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping

FINAL = frozenset({"COMPLETED", "FAILED"})
#: How long a transcription (and its recording's status) is read again before giving up.
HORIZON = timedelta(days=7)
#: How long after its call ended a missing recording is looked for again.
LATE_RECORDING_WINDOW = timedelta(hours=1)
#: The state keys: unfinished children (``call_recordings``, ``call_transcriptions``) and
#: recordings not attached yet (``call_recordings``).
UNFINISHED = "unfinished"
NOT_ATTACHED = "not_attached"


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

    def after_read(
        self, key: str, *, unfinished: bool, deadline: datetime | None, now: datetime
    ) -> tuple[WatchList, bool]:
        """The list once ``key``'s child was read; and whether it was given up on.

        A final child leaves the list. An unfinished one stays until its first deadline
        (``deadline`` when it joins; None: not worth watching) has passed: this read was
        then its last.
        """
        if not unfinished:
            return self.without(key), False
        until = self.until.get(key, deadline)
        if until is None:
            return self, False
        if until <= now:
            return self.without(key), key in self.until
        return self.watching(key, until), False


def transcription_unfinished(record: Mapping[str, Any] | None) -> bool:
    """Whether a transcription is unfinished: not ``COMPLETED`` or ``FAILED`` yet.

    It is read only where its recording announced one, so a 404 means "not served yet".
    """
    return record is None or record.get("status") not in FINAL


def recording_unfinished(record: Mapping[str, Any]) -> bool:
    """A recording is unfinished while the transcription it announces is not final."""
    return bool(record.get("hasTranscription")) and record.get("transcriptionStatus") not in FINAL


def attachment_deadline(ended_at: Any, now: datetime) -> datetime | None:
    """Until when to look again for a recording not there yet (None: not worth it)."""
    ended = parse_timestamp(ended_at)
    if ended is None or now - ended >= LATE_RECORDING_WINDOW:
        return None
    return ended + LATE_RECORDING_WINDOW
