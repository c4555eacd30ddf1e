"""Where one sync of calls stands: one immutable value, replaced after every page.

Its parts are values too: the cursor, the resume's progress, the batches.

Undoing a batch of pages read together is keeping an older :class:`Cursor`; nothing is
restored field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from tap_skipcall.calls.order import PageMemory

if TYPE_CHECKING:
    from tap_skipcall.calls.rows import Edge, Probe
    from tap_skipcall.calls.state import Checkpoint


@dataclass(frozen=True)
class PageRequest:
    """Which page to ask for, and how.

    ``sort_style`` is the wire form of ``sort`` (None: unsorted) and ``limit`` the rows
    asked for (None: ``page_size``).
    """

    number: int
    sort_style: str | None
    limit: int | None = None


@dataclass(frozen=True)
class Verdict:
    """What to do with a page that was read, and what to read next.

    ``keep_rows`` is False for a page read only to try a wire form of ``sort`` or to check a
    resume's landing: none of its rows is written. Of a kept page, the calls in
    ``already_delivered`` are not written again. ``checkpoint`` holds once the page's calls
    (and their children) are written.
    """

    keep_rows: bool
    already_delivered: frozenset[str]
    next_page: PageRequest | None
    checkpoint: Checkpoint | None

    @classmethod
    def drop_page(cls, next_page: PageRequest) -> Verdict:
        """Write nothing of this page; read ``next_page`` instead."""
        return cls(False, frozenset(), next_page, None)


@dataclass(frozen=True)
class Cursor:
    """How far down the list this run has delivered contiguously from the head.

    ``rows_delivered`` rows at the head are delivered (by this run or the one it resumes),
    down to ``oldest_delivered``; ``total`` is the list's length the last answer announced,
    and ``memory`` what the order check needs of the last pages. A batch read again keeps
    the cursor from before it.
    """

    rows_delivered: int = 0
    total: int | None = None
    oldest_delivered: Edge | None = None
    memory: PageMemory = field(default_factory=PageMemory)

    def seen_total(self, total: int | None) -> Cursor:
        """The cursor after an answer announced ``total``.

        When ``total`` shrinks, rows left the list and everything behind them moved up by as
        much: rows believed delivered may now sit below the boundary, so step back.
        """
        if total is None:
            return self
        rows = self.rows_delivered
        if self.total is not None and total < self.total:
            rows = max(0, rows - (self.total - total))
        return replace(self, rows_delivered=rows, total=total)

    def next_page_number(self, size: int) -> int:
        """The first page not wholly delivered."""
        return self.rows_delivered // size + 1


@dataclass(frozen=True)
class ResumeProgress:
    """How far a run has got back to where the run it resumes stopped.

    ``caught_up``: this run has read down into the range the interrupted run delivered
    (always true without a checkpoint). ``landing``: the page jumped to, whose first row is
    still to be checked. ``jumped``: the jump was made (once per run).
    """

    caught_up: bool
    landing: int | None = None
    jumped: bool = False

    @classmethod
    def starting_from(cls, checkpoint: Checkpoint | None) -> ResumeProgress:
        """The progress of a run that starts from this checkpoint (or none)."""
        return cls(caught_up=checkpoint is None)


@dataclass(frozen=True)
class Batch:
    """Pages ``first`` to ``last`` requested together; ``before`` is where reading them began."""

    first: int
    last: int
    #: What held before the batch: no checkpoint claims more until the batch is trusted.
    checkpoint: Checkpoint | None
    before: Cursor


@dataclass(frozen=True)
class Batching:
    """The batches of one sync: the size asked for, the probe to compare, the open batch."""

    pages_ahead: int = 1
    reference: Probe | None = None
    open: Batch | None = None
    #: Pages up to this one are read one at a time (a batch of them was read again).
    one_at_a_time_until: int = 0
    batches: int = 0
    read_again: int = 0


@dataclass(frozen=True)
class Ground:
    """How far down the list this read has been, whatever was read again since.

    ``frontier`` is the end of the furthest page read (a batch read again or a step back
    does not move it back): a page starting there or below is new ground, where a page of
    calls already read must be explained. ``first_total`` is the first ``total`` announced,
    and ``check_growth_at`` the frontier past which a list still growing is checked against
    its head (rows that never end).
    """

    frontier: int = 0
    first_total: int | None = None
    check_growth_at: int | None = None


@dataclass(frozen=True)
class Position:
    """Everything about one sync of calls that changes as pages are read."""

    page: PageRequest
    resume: ResumeProgress
    batching: Batching
    #: Rows the API serves a page (the echoed ``limit``, else ``page_size``).
    size: int
    #: Whether every page so far came back newest first; stopping early needs it.
    ordered: bool = True
    #: The newest instant of the first page kept (the bookmark a completed sync saves) and
    #: every call delivered at it.
    newest: Edge | None = None
    cursor: Cursor = field(default_factory=Cursor)
    ground: Ground = field(default_factory=Ground)
