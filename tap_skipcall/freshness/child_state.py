"""The child streams' Singer state, read and written in one place: watch lists and rotation.

The calls stream's own state has its keeper (``tap_skipcall.calls.state_keeper``); this is
its sibling for the children of calls. A recording or transcription stream keeps the calls
whose child it reads again (:mod:`.unfinished`), the sequence contacts stream when each
sequence was last read (:mod:`.rotation`). The SDK writes them in its STATE messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tap_skipcall.freshness.unfinished import WatchList
from tap_skipcall.values import iso, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

#: The sequence contacts stream's state key: sequence id → when its contacts were last read.
READ_AT = "refreshed_at"


class WithState(Protocol):
    """A stream, as far as its state goes."""

    @property
    def stream_state(self) -> dict[str, Any]:
        """The stream's part of the tap's state (the SDK's)."""


def watch_list(stream: WithState, name: str) -> WatchList:
    """One of the stream's watch lists."""
    return WatchList.from_state(stream.stream_state.get(name))


def keep_watch_list(stream: WithState, name: str, watch: WatchList) -> None:
    """Save a watch list in the stream's state."""
    stream.stream_state[name] = watch.as_state()


def unwatch(stream: WithState, names: Iterable[str], key: str) -> None:
    """Take ``key`` off these watch lists of the stream (its call is gone)."""
    for name in names:
        keep_watch_list(stream, name, watch_list(stream, name).without(key))


def watched(stream: WithState, names: Iterable[str]) -> list[str]:
    """Every parent on one of these watch lists of the stream."""
    return sorted({key for name in names for key in watch_list(stream, name).until})


def sequences_read_at(stream: WithState) -> dict[str, datetime]:
    """When each sequence's contacts were last read (unreadable entries are left out)."""
    saved = stream.stream_state.get(READ_AT)
    stamps = (
        {str(k): parse_timestamp(v) for k, v in saved.items()} if isinstance(saved, dict) else {}
    )
    return {k: v for k, v in stamps.items() if v is not None}


def sequence_read(stream: WithState, sequence_id: str, at: datetime) -> None:
    """Note that this sequence's contacts were read now."""
    saved = stream.stream_state.get(READ_AT)
    read_at = dict(saved) if isinstance(saved, dict) else {}
    read_at[sequence_id] = iso(at)
    stream.stream_state[READ_AT] = read_at
