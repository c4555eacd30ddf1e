"""The no-loss incremental sync of calls: plain objects and pure functions, no HTTP, no SDK.

Calls are read from ``GET /v1/calls`` sorted by ``updatedAt``, newest first. Page numbers
are offsets into a list that moves while it is read, so :class:`CallPager` reasons about it:

* A call created or updated mid-sync jumps to the head of the list: rows behind it shift to
  later pages and are at worst read twice, never skipped. The moved call is newer than the
  bookmark this sync saves (the newest ``updatedAt`` of its **first** page, the *cap*), so
  the next sync reads it.
* A call that leaves the list (if the API hides soft-deleted calls) shifts later rows to
  earlier pages, and one could slip past a page boundary. ``total`` shrinks when that
  happens, and the pager steps back to re-read them.
* The order is checked on every page. Paging stops at the bookmark only while it has held;
  otherwise every page is read. ``sort_style`` "auto" tries the wire forms of ``sort`` on
  page 1 and drops a page that came back unsorted.
* After every page the pager states a :class:`Checkpoint`: every call with ``updatedAt`` in
  ``(reached, cap]`` has been delivered. A run started from it reads the head of the list
  down to the old cap, jumps to where the interrupted run stopped, checks that the page it
  lands on starts inside what was delivered (stepping back until it does), and goes on down
  to the bookmark. Calls the interrupted run delivered are not emitted again.

The server's ``updatedAt`` is assumed never to go backwards (a database clock); every
guarantee above rests on it, as it does for any ``updatedAt`` bookmark.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

logger = logging.getLogger("tap-skipcall")

#: The wire forms tried for the ``sort`` object, whose encoding the docs do not state.
SORT_STYLES = ("deep_object", "json", "flat")
REPLICATION_KEY = "updatedAt"
#: Keys of the calls stream's state (besides the SDK's ``replication_key`` and value).
IDS_AT_BOOKMARK = "ids_at_bookmark"
RESUME = "resume"
#: Pages of ids kept to tell a shifted repeat from a broken order (rows moved by churn).
RECENT_PAGES = 3


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 → aware datetime; None for null or unreadable values."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class StateError(ValueError):
    """The state given to the tap is not one it can resume from."""


@dataclass(frozen=True)
class Bookmark:
    """What the last completed sync delivered: every call up to ``value``, at ``value`` ``ids``."""

    value: str | None = None
    ids: frozenset[str] = frozenset()

    @property
    def at(self) -> datetime | None:
        """The bookmark as a moment."""
        return parse_timestamp(self.value)


@dataclass(frozen=True)
class Checkpoint:
    """What an unfinished sync delivered: calls in ``(reached, cap]``, at ``reached`` ``ids``.

    ``rows_read`` is how far down the list that sync had read (where a resume lands) and
    ``since`` the bookmark it started from: a checkpoint only applies on top of that one.
    """

    cap: str
    reached: str
    ids_at_reached: frozenset[str]
    rows_read: int
    since: str | None

    @property
    def cap_at(self) -> datetime:
        """The cap as a moment."""
        return parse_timestamp(self.cap)  # type: ignore[return-value]  # checked on load

    @property
    def reached_at(self) -> datetime:
        """The lower end as a moment."""
        return parse_timestamp(self.reached)  # type: ignore[return-value]  # checked on load

    def as_state(self) -> dict[str, Any]:
        """The ``resume`` entry of the calls state."""
        return {
            "cap": self.cap,
            "reached": self.reached,
            "ids_at_reached": sorted(self.ids_at_reached),
            "rows_read": self.rows_read,
            "since": self.since,
        }

    @classmethod
    def from_state(cls, entry: Any, since: str | None) -> Checkpoint | None:
        """The checkpoint in a ``resume`` entry, or None if absent, unreadable or stale."""
        if not isinstance(entry, dict):
            return None
        cap, reached = entry.get("cap"), entry.get("reached")
        ids, rows = entry.get("ids_at_reached"), entry.get("rows_read")
        stamps = parse_timestamp(cap), parse_timestamp(reached)
        if (
            None in stamps
            or not isinstance(ids, list)
            or not isinstance(rows, int)
            or entry.get("since") != since
            or stamps[1] > stamps[0]  # type: ignore[operator]
        ):
            return None
        return cls(str(cap), str(reached), frozenset(map(str, ids)), max(rows, 0), since)


def read_state(
    state: Mapping[str, Any], start_date: str | None
) -> tuple[Bookmark, Checkpoint | None]:
    """The bookmark (or ``start_date``) and the checkpoint to resume from, from a calls state."""
    saved = state.get("replication_key_value")
    if saved is not None:
        bookmark = Bookmark(str(saved), frozenset(map(str, state.get(IDS_AT_BOOKMARK) or ())))
    else:
        bookmark = Bookmark(start_date)
    return bookmark, Checkpoint.from_state(state.get(RESUME), bookmark.value)


def completed_state(bookmark: Bookmark) -> dict[str, Any]:
    """The calls state a completed sync leaves: the bookmark, and nothing to resume."""
    return {
        "replication_key": REPLICATION_KEY,
        "replication_key_value": bookmark.value,
        IDS_AT_BOOKMARK: sorted(bookmark.ids),
        RESUME: None,
    }


def state_problem(state: Any, streams: set[str]) -> str | None:
    """One sentence on what is wrong with a state this tap did not write, or None."""
    fix = (
        "Give tap-skipcall its own state (Meltano keeps one per extractor and loader "
        "pair) or start without one."
    )
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


@dataclass(frozen=True)
class Row:
    """What the pager needs of a call: its id and ``updatedAt`` as the API wrote it."""

    id: str
    updated_at: str | None
    at: datetime | None = field(compare=False, default=None)

    @classmethod
    def of(cls, call: Mapping[str, Any]) -> Row:
        """The row of a call as the API answered it."""
        raw = call.get(REPLICATION_KEY)
        return cls(str(call.get("id")), raw, parse_timestamp(raw))


@dataclass(frozen=True)
class Answer:
    """One page of the list: its rows, the ``limit`` it echoed and the ``total`` it announced."""

    rows: Sequence[Row]
    limit: int | None = None
    total: int | None = None


@dataclass(frozen=True)
class PageRequest:
    """Which page to ask for, and in which wire form to ask for the sort order."""

    number: int
    sort_style: str


@dataclass(frozen=True)
class Verdict:
    """What to do with a page: emit it (less the calls already delivered), and what next."""

    emit: bool
    skip: frozenset[str]
    next: PageRequest | None
    checkpoint: Checkpoint | None


@dataclass(frozen=True)
class Probe:
    """The head of the list and its length at one moment.

    Every change that moves rows (an update, a creation, a soft-delete) puts a call with a
    new ``updatedAt`` at the head or changes ``total``: two equal probes mean nothing moved
    between them.
    """

    head: tuple[str, str | None] | None
    total: int | None

    @classmethod
    def of(cls, answer: Answer) -> Probe:
        """The probe an answer for page 1 makes."""
        first = answer.rows[0] if answer.rows else None
        return cls(None if first is None else (first.id, first.updated_at), answer.total)


@dataclass
class _Batch:
    """Pages of a backfill served together; trusted only once a probe shows nothing moved."""

    first: int
    last: int
    checkpoint: Checkpoint | None
    saved: dict[str, Any]


def delivered(row: Row, bookmark: Bookmark, checkpoint: Checkpoint | None) -> bool:
    """Whether an earlier run already delivered this version of the call."""
    at = row.at
    if at is None:
        return False
    mark = bookmark.at
    if mark is not None and (at < mark or (at == mark and row.id in bookmark.ids)):
        return True
    if checkpoint is None:
        return False
    low = checkpoint.reached_at
    return low < at <= checkpoint.cap_at or (at == low and row.id in checkpoint.ids_at_reached)


class PaginationError(RuntimeError):
    """The list answered in a way that paging past could lose rows."""


class CallPager:
    """Plans the pages of one sync of calls; see the module docstring.

    Feed it each answer with :meth:`read`; it says whether to emit the page, which calls
    on it an earlier run delivered, which page to ask for next, and the checkpoint that
    holds once the page's calls are written.
    """

    def __init__(
        self,
        *,
        bookmark: Bookmark,
        resume: Checkpoint | None = None,
        page_size: int = 100,
        sort_style: str = "auto",
        pages_ahead: int = 1,
    ) -> None:
        self.styles = SORT_STYLES if sort_style == "auto" else (sort_style,)
        self.current = PageRequest(1, self.styles[0])
        self.bookmark = bookmark
        self.resume = resume
        self.page_size = page_size
        #: Whether every page so far came back newest-first; early stops need it.
        self.ordered = True
        #: Rows at the head of the list known to be delivered, by this run or the resumed one.
        self.covered = 0
        #: Newest ``updatedAt`` of the first page accepted (as the API wrote it): the cap.
        self.head: str | None = None
        #: The page the resume jumped to (None: no jump tried).
        self.jumped_to: int | None = None
        self._head_ids: set[str] = set()
        self._last_total: int | None = None
        self._last_page = 0
        self._last_oldest: datetime | None = None
        #: Ids of the last pages read, to recognise rows a shift pushed onto the next page.
        self._recent_ids: deque[set[str]] = deque(maxlen=RECENT_PAGES)
        self._landing: int | None = None
        self._joined = resume is None
        self._reached: tuple[str, datetime, set[str]] | None = None
        #: Pages of a backfill read together (1: one at a time); see :meth:`batch_after`.
        self.pages_ahead = pages_ahead
        self.batches = self.batches_read_again = 0
        self._size = page_size
        self._reference: Probe | None = None
        self._batch: _Batch | None = None
        self._one_at_a_time_until = 0

    # -- what the adapter asks -------------------------------------------------------

    def read(self, answer: Answer, probe: Probe | None = None) -> Verdict:
        """Plan the next page from this answer to :attr:`current`.

        ``probe`` is the head of the list read after the last page of a batch was served
        (:meth:`wants_probe`).
        """
        page = self.current
        rows = answer.rows
        size = self._size = answer.limit or self.page_size
        known = [row.at for row in rows if row.at is not None]
        verdict = self._read(page, rows, known, size, answer.total)
        if page.number == 1 and verdict.emit and self._reference is None:
            self._reference = Probe.of(answer)
        verdict = self._settle_batch(page, verdict, probe)
        if verdict.next is not None:
            self.current = verdict.next
        return verdict

    def batch_after(self, verdict: Verdict) -> list[PageRequest]:
        """Pages of a backfill to request together, from the next one on (empty: just it).

        Pages served together may be served in any order, and a call updated between two of
        them can carry a row across their boundary, read by neither. So a batch is trusted
        only if a probe of the list's head, read after its last page, equals the one read
        before it; otherwise its pages are read again, one at a time. Only a backfill of an
        ordered list reads batches (an incremental run stops at the bookmark).
        """
        after = verdict.next
        total = self._last_total
        size = self._size
        if (
            self.pages_ahead <= 1
            or after is None
            or self._batch is not None
            or self.bookmark.at is not None
            or self.resume is not None
            or not self.ordered
            or total is None
            or self._reference is None
            or after.number <= self._one_at_a_time_until
            or after.number != self.covered // size + 1
        ):
            return []
        last = min(after.number + self.pages_ahead - 1, -(-total // size))
        if last <= after.number:
            return []
        saved = {
            "covered": self.covered,
            "_reached": None
            if self._reached is None
            else (self._reached[0], self._reached[1], set(self._reached[2])),
            "_last_page": self._last_page,
            "_last_oldest": self._last_oldest,
            "_last_total": self._last_total,
            "_recent_ids": deque(self._recent_ids, maxlen=RECENT_PAGES),
        }
        self._batch = _Batch(after.number, last, verdict.checkpoint, saved)
        self.batches += 1
        return [PageRequest(number, after.sort_style) for number in range(after.number, last + 1)]

    def wants_probe(self) -> bool:
        """Whether the page about to be read ends a batch (then read a probe after it)."""
        return self._batch is not None and self.current.number == self._batch.last

    def _settle_batch(self, page: PageRequest, verdict: Verdict, probe: Probe | None) -> Verdict:
        batch = self._batch
        if batch is None:
            return verdict
        if page.number == batch.last and probe is not None and probe == self._reference:
            self._batch = None  # nothing moved while the batch was served: trust it
            return verdict
        planned = verdict.next
        if page.number < batch.last and planned is not None and planned.number == page.number + 1:
            return replace(verdict, checkpoint=batch.checkpoint)  # not trusted yet
        # The list moved while the batch was served (or the plan left it): read it again.
        for name, value in batch.saved.items():
            setattr(self, name, value)
        self._batch = None
        self._reference = probe or self._reference
        self._one_at_a_time_until = batch.last
        self.batches_read_again += 1
        again = PageRequest(batch.first, page.sort_style)
        return replace(verdict, next=again, checkpoint=batch.checkpoint)

    def final_bookmark(self) -> Bookmark:
        """The bookmark a completed sync saves: its cap, and the ids delivered at it."""
        head_at = parse_timestamp(self.head)
        mark = self.bookmark.at
        if head_at is None or (mark is not None and head_at < mark):
            return self.bookmark
        ids = set(self._head_ids)
        if mark == head_at:
            ids |= self.bookmark.ids
        if self.resume is not None and self.resume.reached_at == head_at:
            ids |= self.resume.ids_at_reached
        return Bookmark(self.head, frozenset(ids))

    # -- planning ----------------------------------------------------------------------

    def _read(
        self,
        page: PageRequest,
        rows: Sequence[Row],
        known: list[datetime],
        size: int,
        total: int | None,
    ) -> Verdict:
        nothing: frozenset[str] = frozenset()
        if not self._in_order(page, rows, known):
            if page.number == 1 and page.sort_style != self.styles[-1]:
                style = self.styles[self.styles.index(page.sort_style) + 1]
                logger.info(
                    "Calls did not come back sorted with sort style %r; trying %r.",
                    page.sort_style,
                    style,
                )
                return Verdict(False, nothing, PageRequest(1, style), None)
            if self.ordered:
                logger.warning(
                    "Skipcall did not return calls sorted by updatedAt (sort style %r), so "
                    "this sync reads every page instead of stopping at the bookmark. Set "
                    "`sort_style` to the form your API accepts to make incremental syncs cheap.",
                    page.sort_style,
                )
            self.ordered = False
            self._landing = None

        start = (page.number - 1) * size
        if self._last_total is not None and total is not None and total < self._last_total:
            # Rows left the list: anything behind them moved up by as much.
            self.covered = max(0, self.covered - (self._last_total - total))
        if total is not None:
            self._last_total = total

        if self._landing == page.number:
            self._landing = None
            assert self.resume is not None
            if not known or known[0] <= self.resume.reached_at or not self.ordered:
                # Landed past what was delivered (rows moved up): step back one page.
                back = page.number - 1
                if (back - 1) * size > self.covered:
                    self._landing = back
                    return Verdict(False, nothing, PageRequest(back, page.sort_style), None)
                return Verdict(False, nothing, self._continue(page, size, total), None)
            # Everything between the head read so far and this page is in (reached, cap].
            self.covered = start

        if not rows:
            return Verdict(True, nothing, None, self._checkpoint())

        contiguous = start <= self.covered
        if contiguous:
            self.covered = max(self.covered, start + len(rows))
        self._last_page = page.number
        self._recent_ids.append({row.id for row in rows})
        if known:
            self._last_oldest = known[-1]
            if self.head is None:
                self.head = max((row.at, row.updated_at) for row in rows if row.at)[1]
        head_at = parse_timestamp(self.head)
        self._head_ids.update(row.id for row in rows if row.at is not None and row.at == head_at)
        skip = frozenset(row.id for row in rows if delivered(row, self.bookmark, self.resume))

        if contiguous and self.ordered and known:
            self._advance_reached(rows, known)
        checkpoint = self._checkpoint()

        mark = self.bookmark.at
        if contiguous and self.ordered and mark is not None and known and known[-1] < mark:
            # Everything further down is older than the bookmark. Only when nothing before
            # this page is unread: rows that slid back past a page boundary come first.
            return Verdict(True, skip, None, checkpoint)
        if total is not None and self.covered >= total:
            return Verdict(True, skip, None, checkpoint)
        if total is None and len(rows) < size:
            return Verdict(True, skip, None, checkpoint)
        landing = self._landing_page(size, total)
        if landing is not None and landing > self.covered // size + 1:
            self._landing = self.jumped_to = landing
            return Verdict(True, skip, PageRequest(landing, page.sort_style), checkpoint)
        return Verdict(True, skip, self._continue(page, size, total), checkpoint)

    def _continue(self, page: PageRequest, size: int, total: int | None) -> PageRequest:
        number = self.covered // size + 1
        if number == page.number:
            msg = (
                f"Skipcall answered page {page.number} of calls with fewer rows than "
                f"{size} although `total` says {total}; stopping rather than skipping rows. "
                "Run the sync again; if this repeats, lower `page_size`."
            )
            raise PaginationError(msg)
        return PageRequest(number, page.sort_style)

    def _in_order(self, page: PageRequest, rows: Sequence[Row], known: list[datetime]) -> bool:
        """Newest-first within the page, and across pages up to rows repeated by a shift.

        A call updated while the tap pages moves to the head, pushing rows already read onto
        the next page: those repeats are newer than the last page's oldest and are allowed.
        """
        in_order = all(a >= b for a, b in pairwise(known))
        last = self._last_oldest
        if in_order and known and last and page.number == self._last_page + 1:
            recent = set().union(*self._recent_ids)
            in_order = all(row.id in recent for row in rows if row.at is not None and row.at > last)
        return in_order

    def _advance_reached(self, rows: Sequence[Row], known: list[datetime]) -> None:
        """Lower the end of what is delivered contiguously from the head, after this page."""
        resume = self.resume
        if not self._joined:
            assert resume is not None
            if known[-1] > resume.cap_at:
                return  # still above what the interrupted run delivered
            self._joined = True
            self._reached = (resume.reached, resume.reached_at, set(resume.ids_at_reached))
        oldest = known[-1]
        raw = next(row.updated_at for row in reversed(rows) if row.at == oldest)
        at_oldest = {row.id for row in rows if row.at == oldest}
        if self._reached is None or oldest < self._reached[1]:
            self._reached = (str(raw), oldest, at_oldest)
        elif oldest == self._reached[1]:
            self._reached[2].update(at_oldest)

    def _landing_page(self, size: int, total: int | None) -> int | None:
        """Where the interrupted run stopped, once the head has been read down to it."""
        resume = self.resume
        if resume is None or self.jumped_to is not None or not self._joined or not self.ordered:
            return None
        if self._reached is None or self._reached[1] < resume.reached_at:
            return None  # this run already read below where the interrupted one stopped
        # Calls that moved to the head since pushed the interrupted run's last row down, but
        # by how many is unknown (some moved before its checkpoint): land where it was, on
        # the page that ends with it, whose first row is then inside what it delivered.
        number = max(1, (resume.rows_read - 2) // size + 1)
        if total is not None:
            number = min(number, max(1, -(-total // size)))
        return number

    def _checkpoint(self) -> Checkpoint | None:
        if not self.ordered:
            return None
        if not self._joined:
            return self.resume  # what the interrupted run delivered still holds
        if self._reached is None or self.head is None:
            return None
        raw, _, ids = self._reached
        return Checkpoint(self.head, raw, frozenset(ids), self.covered, self.bookmark.value)


def rows_of(calls: Iterable[Mapping[str, Any]]) -> list[Row]:
    """The pager's view of a page of calls."""
    return [Row.of(call) for call in calls]
