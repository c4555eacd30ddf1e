"""Plans the pages of one sync of calls: the no-loss algorithm, no HTTP, no SDK.

Calls are read from ``GET /v1/calls`` sorted by ``updatedAt``, newest first. Page numbers
are offsets into a list that moves while it is read:

* A call created or updated mid-sync jumps to the head of the list: rows behind it shift to
  later pages and are at worst read twice, never skipped. The moved call is newer than the
  bookmark this sync saves (the newest ``updatedAt`` of its **first** page), so the next
  sync reads it.
* A call that leaves the list (if the API hides soft-deleted calls) shifts later rows to
  earlier pages, and one could slip past a page boundary. ``total`` shrinks when that
  happens, and the pager steps back to re-read them (:meth:`Cursor.seen_total`).
* The order is checked on every page (:mod:`~tap_skipcall.calls.order`). Paging stops at
  the bookmark only while it has held; otherwise every page is read.
* After every page the pager states a checkpoint: the range of ``updatedAt`` delivered.
  A run started from it resumes (:mod:`~tap_skipcall.calls.resume`).
* A backfill may read pages together (:mod:`~tap_skipcall.calls.batches`).
* Nothing is claimed on the word of answers that cannot all be true
  (:mod:`tap_skipcall.client.envelope`): one that contradicts itself, a page of new ground
  holding only calls already read that no move to the head explains (the pages repeat),
  a list that keeps growing while its head stands still (rows that never end). The read
  stops with a :class:`PaginationError` before its checkpoint moves past the last page
  that could be true.

The server's ``updatedAt`` is assumed never to go backwards (a database clock); every
guarantee above rests on it, as it does for any ``updatedAt`` bookmark.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from tap_skipcall.calls import batches
from tap_skipcall.calls.order import next_style, styles_to_try
from tap_skipcall.calls.position import (
    Batching,
    Ground,
    PageRequest,
    Position,
    ResumeProgress,
    Verdict,
)
from tap_skipcall.calls.resume import (
    checkpoint_of,
    extend_delivered,
    landed_inside,
    landing_page,
)
from tap_skipcall.calls.rows import Edge, Probe, ids_at
from tap_skipcall.calls.state import Bookmark, delivered
from tap_skipcall.client import envelope

if TYPE_CHECKING:
    from collections.abc import Callable, Container

    from tap_skipcall.calls.rows import Answer
    from tap_skipcall.calls.state import Checkpoint

#: The list the pager reads, as its sentences name it.
LIST = "/v1/calls"

logger = logging.getLogger("tap-skipcall")


class PaginationError(RuntimeError):
    """The list answered in a way that paging past could lose rows."""


class CallPager:
    """Feed it each answer with :meth:`read`; it says what to write and what to read next.

    What it was given (the bookmark, the checkpoint to resume, the settings) never changes;
    everything that moves is :attr:`position`, one immutable value replaced per page.
    """

    def __init__(
        self,
        *,
        bookmark: Bookmark,
        resume: Checkpoint | None = None,
        page_size: int,
        sort_style: str,
        pages_ahead: int = 1,
        reads_whole_list: bool | None = None,
        met: Container[bytes] = frozenset(),
    ) -> None:
        self.bookmark = bookmark
        #: The versions of calls this run met before the page under way (row.version).
        self.met = met
        self.resume = resume
        #: Whether this read goes down the whole list (a backfill, from ``start_date`` or a
        #: checkpoint too): only such a read takes pages together. Default: when it starts
        #: from no bookmark and no checkpoint.
        self.reads_whole_list = (
            bookmark.at is None and resume is None if reads_whole_list is None else reads_whole_list
        )
        self.page_size = page_size
        self.styles = styles_to_try(sort_style)
        self.position = Position(
            page=PageRequest(1, self.styles[0]),
            resume=ResumeProgress.starting_from(resume),
            batching=Batching(pages_ahead=pages_ahead),
            size=page_size,
        )

    @property
    def current(self) -> PageRequest:
        """The page to read next."""
        return self.position.page

    @property
    def ordered(self) -> bool:
        """Whether every page so far came back newest first."""
        return self.position.ordered

    def read(
        self,
        answer: Answer,
        probe: Probe | Callable[[], Probe] | None = None,
        head: Callable[[], Answer] | None = None,
    ) -> Verdict:
        """Plan the next page from this answer to :attr:`current`.

        ``probe`` is the head of the list read after the last page of a batch was served
        (:meth:`wants_probe`), or a function that reads it: it is then called only when a
        batch ends on this page, at its last page or where the read stops inside it.
        ``head`` reads the list's first page, newest first: called only to tell a list that
        moved from one that repeats or never ends.
        """
        page = self.position.page
        verdict, position = self._plan(page, answer, head)
        batching = position.batching
        if page.number == 1 and verdict.keep_rows and batching.reference is None:
            position = replace(position, batching=replace(batching, reference=Probe.of(answer)))
        verdict, position = batches.settle(position, page, verdict, probe)
        if verdict.next_page is not None:
            position = replace(position, page=verdict.next_page)
        self.position = position
        return verdict

    def batch_after(self, verdict: Verdict) -> list[PageRequest]:
        """Pages to request together after this verdict (empty: just the next one).

        A resumed read takes pages together once it has caught up with the checkpoint and
        checked where it landed: before that it reads single pages.
        """
        progress = self.position.resume
        whole = self.reads_whole_list and progress.caught_up and progress.landing is None
        pages, self.position = batches.open_batch(self.position, verdict, backfill=whole)
        return pages

    def read_pages_ahead(self, pages: int) -> None:
        """From now on, read up to this many pages of a backfill together."""
        batching = replace(self.position.batching, pages_ahead=pages)
        self.position = replace(self.position, batching=batching)

    def wants_probe(self) -> bool:
        """Whether the page about to be read ends a batch (then read a probe after it)."""
        return batches.wants_probe(self.position)

    def final_bookmark(self) -> Bookmark:
        """The bookmark a completed sync saves: the newest instant read, and its calls."""
        newest, mark = self.position.newest, self.bookmark.at
        if newest is None or (mark is not None and newest.at < mark):
            return self.bookmark
        ids = newest.ids
        if mark == newest.at:
            ids |= self.bookmark.ids
        if self.resume is not None and self.resume.delivered.start_at == newest.at:
            ids |= self.resume.delivered.ids_at_start
        return Bookmark(newest.value, ids)

    # -- one page ----------------------------------------------------------------------

    def _plan(
        self, page: PageRequest, answer: Answer, head: Callable[[], Answer] | None = None
    ) -> tuple[Verdict, Position]:
        """The verdict on one page, and the position after it."""
        said = answer.envelope
        past_end = False
        asked_limit = page.limit or self.page_size
        if said is not None:
            past_end = said.past_end(page.number, asked_limit)  # the last page, said so
            problem = said.contradiction(page.number, asked_limit)
            if problem is not None:
                raise PaginationError(stop_sentence(f"page {page.number} {problem}"))
        size = said.page_size(asked_limit) if said is not None else answer.limit or asked_limit
        position = replace(self.position, size=size)
        if not position.cursor.memory.in_order(page.number, answer):
            style = next_style(self.styles, page.sort_style) if page.number == 1 else None
            if style is not None:
                logger.info(
                    "Calls did not come back sorted with sort style %r; trying %r.",
                    page.sort_style,
                    style,
                )
                return Verdict.drop_page(PageRequest(1, style)), position
            if position.ordered:
                logger.warning(
                    "Skipcall did not return calls sorted by updatedAt (sort style %r), so "
                    "this sync reads every page instead of stopping at the bookmark. Set "
                    "`sort_style` to the form your API accepts to make incremental syncs cheap.",
                    page.sort_style,
                )
            position = replace(
                position, ordered=False, resume=replace(position.resume, landing=None)
            )
        position = replace(position, cursor=position.cursor.seen_total(answer.total))
        cursor = position.cursor
        if past_end and cursor.total is not None and cursor.rows_delivered < cursor.total:
            echoed = said.page if said is not None else None
            raise PaginationError(
                stop_sentence(
                    f"page {page.number} was answered as page {echoed} while only "
                    f"{cursor.rows_delivered:,} of the {cursor.total:,} calls `total` says "
                    "exist were read: the API does not take `page`"
                )
            )
        if position.resume.landing == page.number:
            landed, position = self._check_landing(page, answer, position)
            if landed is not None:
                return landed, position
        if not answer.rows or past_end:
            return Verdict(not past_end, frozenset(), None, self._checkpoint(position)), position
        position = self._on_new_ground(page, answer, position, head)
        return self._deliver(page, answer, position)

    def _on_new_ground(
        self,
        page: PageRequest,
        answer: Answer,
        position: Position,
        head: Callable[[], Answer] | None,
    ) -> Position:
        """The position once this page's ground is counted; an error if it cannot be true.

        A page of new ground (past every page read, not one read again) that holds only
        calls this run already met can only be true if as many calls moved to the head
        meanwhile (each update or creation does, pushing rows down); otherwise the pages
        repeat. Likewise, once the read has gone past twice the first ``total``, a list
        still growing must show its new calls at the head; otherwise its rows never end.
        """
        start = (page.number - 1) * position.size
        ground = position.ground
        new_ground = start >= ground.frontier
        versions = [row.version for row in answer.rows if row.version is not None]
        nothing_new = bool(versions) and all(version in self.met for version in versions)
        if (
            new_ground
            and page.number > 1
            and nothing_new
            and not (position.ordered and moved_to_head(position, head, len(versions)))
        ):
            total = answer.total
            exist = f"while `total` says {total:,} calls exist" if total else "mid-list"
            raise PaginationError(
                stop_sentence(
                    f"the pages repeat, page {page.number} holding only calls already read "
                    f"on earlier pages {exist}"
                )
            )
        first_total = ground.first_total if ground.first_total is not None else answer.total
        check_at = ground.check_growth_at
        if check_at is None and first_total is not None:
            check_at = 2 * first_total + position.size
        frontier = max(ground.frontier, start + len(answer.rows))
        if new_ground and check_at is not None and frontier > check_at:
            grown = (answer.total or 0) - (first_total or 0)
            if not moved_to_head(position, head, max(1, min(grown, position.size))):
                raise PaginationError(
                    stop_sentence(
                        f"the rows never end, {frontier:,} rows read where the first `total` "
                        f"was {first_total or 0:,} and is now {answer.total or 0:,}, while no "
                        "new call came to the head of the list"
                    )
                )
            check_at = 2 * frontier
        ground = Ground(frontier, first_total, check_at)
        return replace(position, ground=ground)

    def _check_landing(
        self, page: PageRequest, answer: Answer, position: Position
    ) -> tuple[Verdict | None, Position]:
        """On the page a resume jumped to: go on from it, or step back (a verdict)."""
        assert self.resume is not None
        position = replace(position, resume=replace(position.resume, landing=None))
        if landed_inside(answer.stamps, self.resume, ordered=position.ordered):
            # Everything between the head read so far and this page was delivered.
            start = (page.number - 1) * position.size
            cursor = replace(position.cursor, rows_delivered=start)
            return None, replace(position, cursor=cursor)
        # Landed past what was delivered (rows moved up): step back one page.
        back = page.number - 1
        if (back - 1) * position.size > position.cursor.rows_delivered:
            position = replace(position, resume=replace(position.resume, landing=back))
            return Verdict.drop_page(PageRequest(back, page.sort_style)), position
        return Verdict.drop_page(self._next_after(page, position, answer.total)), position

    def _deliver(
        self, page: PageRequest, answer: Answer, position: Position
    ) -> tuple[Verdict, Position]:
        """A page whose rows are written: what it adds to the position, and where next."""
        rows, stamps, size = answer.rows, answer.stamps, position.size
        start = (page.number - 1) * size
        cursor = position.cursor
        contiguous = start <= cursor.rows_delivered
        if contiguous:
            cursor = replace(cursor, rows_delivered=max(cursor.rows_delivered, start + len(rows)))
        cursor = replace(cursor, memory=cursor.memory.after(page.number, answer))
        newest = position.newest
        if stamps:
            newest = newest or Edge.newest_of(rows)
            newest = newest.with_ids(ids_at(rows, newest.at))
        position = replace(position, cursor=cursor, newest=newest)
        skip = frozenset(row.id for row in rows if delivered(row, self.bookmark, self.resume))
        if contiguous and position.ordered and stamps:
            oldest, progress = extend_delivered(
                cursor.oldest_delivered, Edge.oldest_of(rows), position.resume, self.resume
            )
            cursor = replace(cursor, oldest_delivered=oldest)
            position = replace(position, cursor=cursor, resume=progress)
        checkpoint = self._checkpoint(position)

        def done() -> tuple[Verdict, Position]:
            return Verdict(True, skip, None, checkpoint), position

        mark, total = self.bookmark.at, answer.total
        if contiguous and position.ordered and mark is not None and stamps and stamps[-1] < mark:
            # Everything further down is older than the bookmark. Only when nothing before
            # this page is unread: rows that slid back past a page boundary come first.
            return done()
        if total is not None and cursor.rows_delivered >= total:
            return done()
        if total is None and len(rows) < size:
            return done()
        landing = landing_page(position, self.resume, total)
        if landing is not None and landing > cursor.next_page_number(size):
            progress = replace(position.resume, landing=landing, jumped=True)
            position = replace(position, resume=progress)
            return Verdict(True, skip, PageRequest(landing, page.sort_style), checkpoint), position
        next_page = self._next_after(page, position, total)
        return Verdict(True, skip, next_page, checkpoint), position

    def _next_after(self, page: PageRequest, position: Position, total: int | None) -> PageRequest:
        """The first page not wholly delivered; an error if that is the page just read."""
        number = position.cursor.next_page_number(position.size)
        if number == page.number:
            msg = (
                f"Skipcall answered page {page.number} of calls with fewer rows than "
                f"{position.size} although `total` says {total}; stopping rather than "
                "skipping rows. Run the sync again; if this repeats, lower `page_size`."
            )
            raise PaginationError(msg)
        return PageRequest(number, page.sort_style)

    def _checkpoint(self, position: Position) -> Checkpoint | None:
        return checkpoint_of(position, self.resume, self.bookmark)


def moved_to_head(position: Position, head: Callable[[], Answer] | None, needed: int) -> bool:
    """Whether the head of the list now holds ``needed`` calls newer than this read's cap.

    Every update or creation puts a call at the head of a newest-first list, newer than the
    newest call of the read's first page: only such moves push rows down the list.
    """
    cap = position.newest.at if position.newest is not None else None
    if head is None or cap is None:
        return False
    rows = head().rows
    newer = sum(1 for row in rows if row.at is not None and row.at > cap)
    return newer > 0 and newer >= min(needed, len(rows))


def stop_sentence(what: str) -> str:
    """The one sentence of a read stopped because the list's answers cannot all be true."""
    return envelope.stop_sentence(
        LIST,
        what,
        "its state claiming only the calls written before (the next run goes on from there)",
    )
