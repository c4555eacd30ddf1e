"""One sync of calls: the object the calls stream hands each of the SDK's hooks to.

It is built when the SDK begins the stream's sync, from explicit parts: the run's plan
(:mod:`.reconcile`), the state keeper (:mod:`.state_keeper`), the list outside the SDK's
paging (:mod:`.list_client`) and the child fan-out (:mod:`.fan_out`); what freshness reads
after the list comes in as a function (``refresh``: given whether this run met every call,
and how to read a page of the list, it returns the entries it keeps in the calls state).
Each read of the list (the main read, and a reconciliation's head passes) is a
:class:`ListRead` with its own pager; the run is dropped when the sync ends, so nothing of it
outlives the run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tap_skipcall.calls.admit import RowNotes, admit
from tap_skipcall.calls.pager import CallPager
from tap_skipcall.calls.paginator import NewestFirstPaginator
from tap_skipcall.calls.progress import Reach
from tap_skipcall.calls.reconcile import MAX_HEAD_PASSES
from tap_skipcall.calls.state import Bookmark, completed_state
from tap_skipcall.network.body import json_body
from tap_skipcall.values import plural

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
    from datetime import datetime

    import requests

    from tap_skipcall.calls.fan_out import ChildFanOut
    from tap_skipcall.calls.list_client import CallsList
    from tap_skipcall.calls.position import PageRequest
    from tap_skipcall.calls.progress import Progress
    from tap_skipcall.calls.reconcile import RunPlan
    from tap_skipcall.calls.state_keeper import StateKeeper


@dataclass(frozen=True)
class ReadSettings:
    """What the user set that the reads follow."""

    page_size: int
    sort_style: str
    start_date: str | None


@dataclass
class ListRead:
    """One read of the list, down to where it stops: the main read, or a head pass.

    ``head_pass`` is the bookmark a reconciliation's head pass reads down to (None: the
    main read). ``rows_written`` counts the calls it wrote.
    """

    pager: CallPager
    head_pass: Bookmark | None = None
    rows_written: int = 0

    def __post_init__(self) -> None:
        self.paginator = NewestFirstPaginator(self.pager)


class CallsSync:
    """One sync of calls, from the first page to the final bookmark."""

    def __init__(
        self,
        *,
        plan: RunPlan,
        keeper: StateKeeper,
        calls_list: CallsList,
        fan_out: ChildFanOut,
        refresh: Callable[[bool, Callable[[int], requests.Response]], Mapping[str, Any] | None],
        settings: ReadSettings,
        progress: Progress,
        started_at: datetime,
        fetch_page_ahead: Callable[[PageRequest], None],
        activate_version: Callable[[int], None],
        logger: logging.Logger | logging.LoggerAdapter[Any],
        moves_clock: bool = True,
    ) -> None:
        self.plan = plan
        self.keeper = keeper
        self.calls_list = calls_list
        self.fan_out = fan_out
        self.refresh = refresh
        self.settings = settings
        self.progress = progress
        self.started_at = started_at
        self.fetch_page_ahead = fetch_page_ahead
        self.activate_version = activate_version
        self.logger = logger
        #: Whether a complete read moves the reconciliation clock here (not with `accounts`,
        #: where it moves once every account's read is activated).
        self.moves_clock = moves_clock
        self._paced = False
        #: Every version of a call this run met on a page it kept: written once however
        #: often it is met, and a page of new ground holding only these must be explained.
        self._met: set[bytes] = set()
        self._notes = RowNotes()
        #: The read under way (the SDK's paginator hook asks for it without arguments).
        self.read: ListRead
        self._main = self._start_read()

    # -- the reads ----------------------------------------------------------------------

    def _start_read(self, head_pass: Bookmark | None = None) -> ListRead:
        """A read of the list: the main read, or a head pass down to ``head_pass``."""
        if head_pass is not None:
            pager = CallPager(
                bookmark=head_pass,
                page_size=self.settings.page_size,
                sort_style=self.read.pager.current.sort_style or self.settings.sort_style,
                met=self._met,
            )
            self.read = ListRead(pager, head_pass)
            return self.read
        saved, plan = self.keeper.saved, self.plan
        bookmark = Bookmark(self.settings.start_date) if plan.complete_read else saved.bookmark
        resume = saved.resume
        if resume is not None and (
            resume.since != bookmark.value or resume.version != plan.version
        ):
            resume = None  # a checkpoint of another kind of run: this one reads anew
        if resume is not None:
            self.logger.info(
                "Resuming an interrupted sync of calls: calls updated between %s and %s were "
                "delivered; reading the newer ones, then from row %d on.",
                resume.delivered.start,
                resume.delivered.end,
                resume.rows_read,
            )
        pager = CallPager(
            bookmark=bookmark,
            resume=resume,
            page_size=self.settings.page_size,
            sort_style=self.settings.sort_style,
            pages_ahead=self.calls_list.first_pages_ahead(),
            reads_whole_list=plan.complete_read,
            met=self._met,
        )
        self.read = ListRead(pager)
        return self.read

    def records(
        self, sdk_pages: Callable[[], Iterable[dict[str, Any]]]
    ) -> Iterator[dict[str, Any]]:
        """Every call to write, through the SDK's paging; then the state a finished sync saves.

        ``sdk_pages`` runs the SDK's paging once (its paginator is :attr:`read`'s).
        """
        plan = self.plan
        main = self._main
        try:
            yield from sdk_pages()
            bookmark = main.pager.final_bookmark()
            complete = plan.complete_read and main.pager.ordered
            if plan.reconciles and complete:
                settled = yield from self._head_passes(sdk_pages, bookmark)
                complete, bookmark = settled is not None, settled or bookmark
        finally:
            self.calls_list.transport.close()  # requests started ahead and not needed go
        self.progress.done()
        self._log_requests_ahead()
        for warning in self._notes.warnings():
            self.logger.warning("%s", warning)
        repeats = self._notes.repeats()
        if repeats:
            self.logger.info("%s", repeats)
        # A resumed read met only the calls after its checkpoint.
        kept = self.refresh(complete and self.keeper.saved.resume is None, self.page_of_calls)
        if plan.reconciles and plan.version is not None:
            if complete:
                self.activate_version(plan.version)
            else:
                self.logger.warning(
                    "calls: the list did not stay ordered and still while it was read, so "
                    "deleted calls are not marked this run; the next run tries again."
                )
        self.keeper.finish(self._final_state(bookmark, complete=complete, kept=kept))

    def page_of_calls(self, number: int) -> requests.Response:
        """One page of the list, newest first in the wire form of ``sort`` this sync found."""
        return self.calls_list.page(number, self.read.pager.current.sort_style)

    def _head_passes(
        self, sdk_pages: Callable[[], Iterable[dict[str, Any]]], bookmark: Bookmark
    ) -> Generator[dict[str, Any], None, Bookmark | None]:
        """Read the head again until nothing moved: the bookmark then, or None if it kept moving.

        A call updated or created while the list was read is newer than the read's cap and
        was not written with this version; each pass writes those, and a pass that finds
        none proves that nothing moved after the one before it.
        """
        for _ in range(MAX_HEAD_PASSES):
            read = self._start_read(head_pass=bookmark)
            yield from sdk_pages()
            if not read.pager.ordered:
                return None
            if read.rows_written == 0:
                return bookmark
            bookmark = read.pager.final_bookmark()
        return None

    def _final_state(
        self, bookmark: Bookmark, *, complete: bool, kept: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The calls state a finished sync leaves.

        Also when calls are read only for their children: the children of the calls up to
        the bookmark are written, and the next run goes on from it.
        """
        reconciled_at = self.keeper.saved.reconciled_at
        if complete and self.moves_clock:
            reconciled_at = self.plan.began_at or self.started_at
        final = completed_state(bookmark, reconciled_at=reconciled_at, last_run_at=self.started_at)
        return {**final, **kept} if kept else final

    # -- one page -----------------------------------------------------------------------

    def page(self, response: requests.Response) -> Iterator[dict[str, Any]]:
        """The page's calls less those already delivered, then a checkpoint.

        The code after the loop runs only once the SDK asks for the row after the page's
        last one: by then every call of the page, and its children, are written.
        """
        read = self.read
        pager = read.pager
        current = pager.current
        page_read = current.number
        # The head: its first call, read only if a batch of pages read together ends on this
        # page; its first page, only to explain a page of calls already read.
        verdict = read.paginator.read(
            response,
            lambda: self.calls_list.probe(current),
            lambda: self.calls_list.head(current.sort_style),
        )
        self._pace(response, pager)
        payload = json_body(response)
        calls = payload["data"]
        next_pages = pager.batch_after(verdict)
        if not next_pages and verdict.next_page is not None:
            next_pages = [verdict.next_page]
        for page in next_pages:
            self.fetch_page_ahead(page)
        fresh: list[dict[str, Any]] = []
        if verdict.keep_rows:
            admitted = admit(
                calls,
                page=page_read,
                already_delivered=verdict.already_delivered,
                met=self._met,
                leave_out_deleted=self.plan.reconciles,  # so that ACTIVATE_VERSION removes them
                rows=read.paginator.answer.rows if read.paginator.answer else None,
            )
            if read.paginator.answer is not None:
                self._met.update(row.version for row in read.paginator.answer.rows if row.version)
            self._notes = self._notes.after(admitted)
            fresh = admitted.calls
            read.rows_written += len(fresh)
            if self.calls_list.transport.concurrent:
                self.fan_out.fetch_ahead(fresh)
            yield from fresh
        self.progress.page(self._reach(pager), len(calls), len(fresh))
        if verdict.checkpoint is not None and read.head_pass is None:
            self.keeper.checkpoint(replace(verdict.checkpoint, version=self.plan.version))

    @staticmethod
    def _reach(pager: CallPager) -> Reach:
        """Where the read stands, for the progress lines."""
        position = pager.position
        return Reach(
            total=position.cursor.total,
            delivered=position.cursor.rows_delivered,
            landed=pager.resume.rows_read if pager.resume is not None else 0,
            newest=position.newest.at if position.newest is not None else None,
            oldest=position.cursor.memory.last_oldest,
            floor=pager.bookmark.at,
        )

    def _pace(self, response: requests.Response, pager: CallPager) -> None:
        """After the first page, unless set: pages read together for the plan's pace."""
        if self._paced:
            return
        self._paced = True
        pace = self.calls_list.pace(response)
        if pace is not None and pace.pages > 1:
            pager.read_pages_ahead(pace.pages)
            self.logger.info(
                "calls: the plan allows %.0f requests a minute and answers take %.0f ms: "
                "a first sync reads %d pages of calls together.",
                pace.per_minute,
                pace.answer_seconds * 1000,
                pace.pages,
            )

    def _log_requests_ahead(self) -> None:
        transport = self.calls_list.transport
        batching = self._main.pager.position.batching
        started = transport.started_ahead
        if not transport.concurrent or not (started or batching.batches):
            return
        unused = started - transport.used_ahead
        self.logger.info(
            "calls: %s started before %s needed (%s); pages read together: %s, %d read "
            "again because the list moved.",
            f"{plural(started, 'request')} {'was' if started == 1 else 'were'}",
            "it was" if started == 1 else "they were",
            "all of them used" if not unused else f"{unused:,} not needed",
            f"{batching.batches:,} batch{'' if batching.batches == 1 else 'es'}",
            batching.read_again,
        )
