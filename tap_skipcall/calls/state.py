"""The calls state: what a completed sync and an unfinished one delivered, read and written.

``bookmarks.calls`` holds the SDK's ``replication_key``/``replication_key_value``, the ids
delivered at that instant (``ids_at_bookmark``), the checkpoint of an unfinished sync
(``resume``), when the last complete read of the list began (``reconciled_at``) and when
the last sync began (``last_run_at``). The JSON key names of earlier versions are kept, so
their states still load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tap_skipcall.calls.rows import REPLICATION_KEY
from tap_skipcall.values import iso, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from tap_skipcall.calls.rows import Row

IDS_AT_BOOKMARK = "ids_at_bookmark"
RESUME = "resume"
RECONCILED_AT = "reconciled_at"
LAST_RUN_AT = "last_run_at"


@dataclass(frozen=True)
class Bookmark:
    """What the last completed sync delivered: every call up to ``value``, at ``value`` ``ids``."""

    value: str | None = None
    ids: frozenset[str] = frozenset()

    @cached_property
    def at(self) -> datetime | None:
        """The bookmark as a moment (read once: every row is compared with it)."""
        return parse_timestamp(self.value)

    def holds(self, row: Row) -> bool:
        """Whether this version of the call is older than the bookmark, or was delivered at it."""
        mark = self.at
        return (
            mark is not None
            and row.at is not None
            and (row.at < mark or (row.at == mark and row.id in self.ids))
        )


@dataclass(frozen=True)
class UpdatedRange:
    """A half-open range of ``updatedAt``: (``start``, ``end``].

    It holds the calls updated inside it, and those at exactly ``start`` named in
    ``ids_at_start``.
    """

    start: str
    end: str
    ids_at_start: frozenset[str]

    @cached_property
    def start_at(self) -> datetime:
        """The lower end as a moment."""
        return parse_timestamp(self.start)  # type: ignore[return-value]  # checked on load

    @cached_property
    def end_at(self) -> datetime:
        """The upper end as a moment."""
        return parse_timestamp(self.end)  # type: ignore[return-value]  # checked on load

    def holds(self, row: Row) -> bool:
        """Whether this version of the call is in the range."""
        at = row.at
        if at is None:
            return False
        return self.start_at < at <= self.end_at or (
            at == self.start_at and row.id in self.ids_at_start
        )


@dataclass(frozen=True)
class Checkpoint:
    """What an unfinished sync delivered: the calls in ``delivered``.

    ``rows_read`` is how far down the list that sync had read (where a resume lands) and
    ``since`` the bookmark it started from: a checkpoint only applies on top of that one.
    ``version`` is set when that sync was a reconciliation (a complete read of the list
    whose records carry this table version): its resume goes on with the same version.
    """

    delivered: UpdatedRange
    rows_read: int
    since: str | None
    version: int | None = None

    def as_state(self) -> dict[str, Any]:
        """The ``resume`` entry of the calls state (``cap`` is the range's end)."""
        return {
            "cap": self.delivered.end,
            "reached": self.delivered.start,
            "ids_at_reached": sorted(self.delivered.ids_at_start),
            "rows_read": self.rows_read,
            "since": self.since,
            "version": self.version,
        }

    @classmethod
    def from_state(cls, entry: Any, since: str | None) -> Checkpoint | None:
        """The checkpoint in a ``resume`` entry, or None if absent, unreadable or stale.

        ``since`` is the bookmark the checkpoint must have started from.
        """
        if not isinstance(entry, dict):
            return None
        end, start = entry.get("cap"), entry.get("reached")
        ids, rows = entry.get("ids_at_reached"), entry.get("rows_read")
        version = entry.get("version")
        end_at, start_at = parse_timestamp(end), parse_timestamp(start)
        if (
            end_at is None
            or start_at is None
            or not isinstance(ids, list)
            or not isinstance(rows, int)
            or not (version is None or (isinstance(version, int) and version > 0))
            or entry.get("since") != since
            or start_at > end_at
        ):
            return None
        delivered = UpdatedRange(str(start), str(end), frozenset(map(str, ids)))
        return cls(delivered, max(rows, 0), since, version)


def delivered(row: Row, bookmark: Bookmark, checkpoint: Checkpoint | None) -> bool:
    """Whether an earlier run already delivered this version of the call."""
    return bookmark.holds(row) or (checkpoint is not None and checkpoint.delivered.holds(row))


@dataclass(frozen=True)
class SavedState:
    """What the calls state says, read once: see the module docstring for the keys."""

    bookmark: Bookmark = field(default_factory=Bookmark)
    #: Whether a completed sync saved the bookmark (False: it is ``start_date`` or nothing).
    has_bookmark: bool = False
    resume: Checkpoint | None = None
    reconciled_at: datetime | None = None
    last_run_at: datetime | None = None


def read_state(state: Mapping[str, Any], start_date: str | None) -> SavedState:
    """The calls state as values; a checkpoint only on top of the bookmark it started from.

    An incremental sync starts from the saved bookmark; a reconciliation (a checkpoint with a
    ``version``) from ``start_date``, since it reads the whole list.
    """
    saved = state.get("replication_key_value")
    if saved is not None:
        ids = state.get(IDS_AT_BOOKMARK)  # unreadable: unknown, so the calls at it are re-sent
        bookmark = Bookmark(str(saved), frozenset(map(str, ids if isinstance(ids, list) else ())))
    else:
        bookmark = Bookmark(start_date)
    entry = state.get(RESUME)
    reconciling = isinstance(entry, dict) and entry.get("version") is not None
    since = start_date if reconciling else bookmark.value
    return SavedState(
        bookmark,
        saved is not None,
        Checkpoint.from_state(entry, since),
        parse_timestamp(state.get(RECONCILED_AT)),
        parse_timestamp(state.get(LAST_RUN_AT)),
    )


def completed_state(
    bookmark: Bookmark, *, reconciled_at: datetime | None, last_run_at: datetime
) -> dict[str, Any]:
    """The calls state a completed sync leaves: the bookmark, and nothing to resume."""
    return {
        "replication_key": REPLICATION_KEY,
        "replication_key_value": bookmark.value,
        IDS_AT_BOOKMARK: sorted(bookmark.ids),
        RESUME: None,
        RECONCILED_AT: None if reconciled_at is None else iso(reconciled_at),
        LAST_RUN_AT: iso(last_run_at),
    }


def without_progress_markers(state: dict[str, Any]) -> dict[str, Any]:
    """The state less the SDK's ``progress_markers``, which this tap never resumes from.

    The SDK adds them while a sync runs and reads them back at the start of the next, and
    fails on one that is not the object it wrote.
    """
    bookmarks = state.get("bookmarks") or {}
    return {
        **state,
        "bookmarks": {
            name: {k: v for k, v in entry.items() if k != "progress_markers"}
            for name, entry in bookmarks.items()
        },
    }


def unwrapped(state: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The state inside what was saved, and a note on how it was read (None: as it is).

    A whole STATE message (a run's last line) is read as its ``value``, and what
    ``meltano state get`` prints as its ``singer_state``.
    """
    if state.get("type") == "STATE" and isinstance(state.get("value"), dict):
        return state["value"], "The state holds a whole STATE message: reading its value."
    if set(state) == {"singer_state"} and isinstance(state["singer_state"], dict):
        return (
            state["singer_state"],
            "The state is what `meltano state get` prints: reading its state.",
        )
    return state, None


def state_problem(state: Any, streams: set[str]) -> str | None:
    """One sentence on what is wrong with a state this tap did not write, or None."""
    fix = (
        "Give tap-skipcall its own state (Meltano keeps one per extractor and loader "
        "pair) or start without one."
    )
    kind = state.get("type") if isinstance(state, dict) else None
    if kind is not None:
        return (
            f"The state holds a {str(kind)[:20]} message, not a STATE: keep the last line of a "
            'run that starts with {"type":"STATE" (for example `grep \'"type":"STATE"\' '
            "out.jsonl | tail -n 1 > state.json`), or start without a state."
        )
    if isinstance(state, dict) and "accounts" in state and "bookmarks" not in state:
        return (
            "The state was written with `accounts` (several organisations): set `accounts` "
            "again to go on from it, or start without a state."
        )
    if isinstance(state, dict) and state and "bookmarks" not in state:
        keys = ", ".join(sorted(map(str, state))[:5])
        return f"The state is not a Singer state (it has {keys}, no `bookmarks`). {fix}"
    bookmarks = state.get("bookmarks", {}) if isinstance(state, dict) else None
    if not isinstance(bookmarks, dict) or not all(isinstance(b, dict) for b in bookmarks.values()):
        return f"The state is not a Singer state (no `bookmarks` object of streams). {fix}"
    if bookmarks and not set(bookmarks) & streams:
        names = ", ".join(sorted(bookmarks)[:5])
        return (
            f"The state holds bookmarks only for streams this tap does not have ({names}): "
            f"it looks like another tap's state. {fix}"
        )
    calls = bookmarks.get("calls", {})
    key, value = calls.get("replication_key"), calls.get("replication_key_value")
    if key not in (None, REPLICATION_KEY):
        return (
            f"The state bookmarks calls by {key!r}, not `updatedAt`: it was written by "
            f"another tap or another version. {fix}"
        )
    if value is not None and parse_timestamp(value) is None:
        return (
            f"The state's calls bookmark {str(value)[:40]!r} is not an ISO 8601 timestamp: "
            f"it was written by another tap or another version. {fix}"
        )
    return None
