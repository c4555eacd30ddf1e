"""The reads that keep children fresh, at the end of a sync of calls.

First the watch lists (:mod:`.unfinished`): each recording and transcription still
unfinished is read again, once. Then the sequences due in the rotation (:mod:`.rotation`),
and the walk (:mod:`.walk`): the calls list, read for the contacts whose turn it is (each
once per sync). Every read goes through the child stream's own sync, so records, BATCH
files and errors are the same as when a call brings them.

What this needs of the calls list and of the child streams is a protocol each
(:class:`CallsPages`, :class:`Watched`, :class:`Rotated`): freshness knows nothing else of
the calls sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tap_skipcall.freshness.rotation import due_for_refresh
from tap_skipcall.freshness.walk import DueArc, Walk, due_this_run
from tap_skipcall.values import parse_timestamp

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from singer_sdk.helpers.types import Context


@dataclass(frozen=True)
class ListedPage:
    """One page of the calls list as the walk reads it: the calls, ``total`` and ``limit``."""

    calls: Sequence[Mapping[str, Any]]
    total: int | None
    limit: int | None


class CallsPages(Protocol):
    """What the walk needs of the calls list."""

    def listed_page(self, number: int) -> ListedPage:
        """One page of the list, in the order the sync found."""


class ChildSync(Protocol):
    """A child stream the refresher reads through its own sync."""

    def has_work_for(self, context: Context) -> bool:
        """Whether this sync has not read it yet."""

    def sync(self, context: Context | None = None) -> None:
        """The SDK's sync of one parent."""


@runtime_checkable
class Watched(Protocol):
    """A child stream that keeps watch lists of unfinished children."""

    def watched(self) -> list[str]:
        """Every parent whose child to read again."""

    def has_work_for(self, context: Context) -> bool:
        """Whether this sync has not read it yet."""

    def sync(self, context: Context | None = None) -> None:
        """The SDK's sync of one parent."""


@runtime_checkable
class Rotated(Protocol):
    """A child stream re-read in rotation (sequence contacts)."""

    def read_at(self) -> dict[str, datetime]:
        """When each parent was last read."""

    def has_work_for(self, context: Context) -> bool:
        """Whether this sync has not read it yet."""

    def sync(self, context: Context | None = None) -> None:
        """The SDK's sync of one parent."""


@dataclass(frozen=True)
class RefreshPlan:
    """What a sync of calls refreshes, decided when it begins.

    ``began_at`` is when the sync began; ``period`` is ``contacts_max_age_days`` (None: a
    first sync, which reads every child, or 0); ``interval`` the time since the last run
    (how far off the next one probably is); ``walk`` where the contacts refresh stands;
    ``due`` the contacts whose turn it is this run (None: no walk this run).
    """

    began_at: datetime
    period: timedelta | None
    interval: timedelta
    walk: Walk
    due: DueArc | None

    @classmethod
    def for_run(
        cls,
        walk_entry: Any,
        *,
        now: datetime,
        last_run_at: datetime | None,
        has_bookmark: bool,
        max_age_days: int,
        walks_contacts: bool,
    ) -> RefreshPlan:
        """The plan of a run that starts ``now`` from this state."""
        period = timedelta(days=max_age_days) if max_age_days and has_bookmark else None
        interval = now - last_run_at if last_run_at is not None else period or timedelta(0)
        walk = Walk.from_state(walk_entry, now)
        due = None
        if period is not None and walks_contacts:
            due = due_this_run(walk, now=now, interval=interval, period=period)
        return cls(now, period, interval, walk, due)

    @property
    def contact_due(self) -> Callable[[str], bool] | None:
        """Whether the walk re-reads a contact this run (None: no walk this run)."""
        return None if self.due is None else self.due.holds


def due_contact(context: Context, due: DueArc | None) -> bool:
    """Whether the walk re-reads the contact of this call's context in this run."""
    contact_id = context.get("contact_id")
    return due is not None and contact_id is not None and due.holds(str(contact_id))


def sync_once(child: ChildSync, context: Context) -> int:
    """The child's own sync for this parent, unless this sync read it already; reads made."""
    if not child.has_work_for(context):
        return 0
    child.sync(context=context)
    return 1


class Refresher:
    """Reads again what changed without its call, for the child streams in use.

    ``context_of`` turns a call into the context its children are read for.
    """

    def __init__(
        self,
        calls: CallsPages,
        children: Mapping[str, ChildSync],
        *,
        now: datetime,
        page_size: int,
        context_of: Callable[[Mapping[str, Any]], Context],
        logger: logging.Logger | logging.LoggerAdapter[Any],
    ) -> None:
        self.calls = calls
        self.children = children
        self.now = now
        self.page_size = page_size
        self.context_of = context_of
        self.logger = logger

    def after_read(
        self, plan: RefreshPlan, *, met_every_call: bool, synced_since: str | None
    ) -> Walk:
        """Every refresh due this run; the walk as the state keeps it after them.

        ``met_every_call``: this run wrote every call of the list, so the contacts whose
        turn it is were read on the way and the walk need not read the list again.
        """
        children = self.children
        self.read_unfinished([c for c in children.values() if isinstance(c, Watched)])
        if plan.period is None:
            return Walk(plan.began_at)  # a first sync read them all
        sequences = children.get("sequence_contacts")
        if sequences is not None:
            if not isinstance(sequences, Rotated):
                msg = f"{type(sequences).__name__} cannot be read in rotation"
                raise TypeError(msg)
            self.rotate_sequences(sequences, interval=plan.interval, period=plan.period)
        due = plan.due
        if due is None:
            return plan.walk
        if met_every_call:
            self.logger.info(
                "contacts: %.0f %% of them were read again, met in the complete read of calls.",
                100 * due.share,
            )
        else:
            pages = self.walk(due, synced_since=synced_since)
            self.logger.info(
                "contacts: the walk read %s pages of calls for the %.0f %% of contacts due.",
                f"{pages:,}",
                100 * due.share,
            )
        return plan.walk.after(due, plan.began_at)

    def read_unfinished(self, watched: list[Watched]) -> int:
        """Read each unfinished recording and transcription again, once; the reads made."""
        return sum(
            sync_once(child, {"call_id": call_id})
            for child in watched
            for call_id in child.watched()
        )

    def walk(self, due: DueArc, *, synced_since: str | None = None) -> int:
        """Read the whole calls list; re-read the contacts of ``due`` met there. Pages read.

        The list's order does not matter, only that every call is met: when the list got
        shorter between two pages (calls left it), rows may have moved up past the page
        boundary, so the page before is read again. Calls updated before ``synced_since``
        (``start_date``) were never synced: their contacts are not read.
        """
        since = parse_timestamp(synced_since)
        contacts = self.children["contacts"]
        size = self.page_size
        number, pages, total, resume_after = 1, 0, None, None
        while True:
            page = self.calls.listed_page(number)
            pages += 1
            for call in page.calls:
                at = parse_timestamp(call.get("updatedAt"))
                context = self.context_of(call)
                synced = since is None or at is None or at >= since
                if synced and due_contact(context, due):
                    sync_once(contacts, context)
            shrank = total is not None and page.total is not None and page.total < total
            total = page.total if page.total is not None else total
            size = page.limit or size
            if resume_after is not None:
                number, resume_after = resume_after, None  # the page read again: go on
            elif shrank and number > 1:
                number, resume_after = number - 1, number
                continue
            last = number * size >= total if total is not None else len(page.calls) < size
            if not page.calls or last:
                return pages
            number += 1

    def rotate_sequences(
        self, sequences: Rotated, *, interval: timedelta, period: timedelta
    ) -> int:
        """Read again the sequences due in the rotation; the reads made."""
        due = due_for_refresh(sequences.read_at(), now=self.now, interval=interval, period=period)
        return sum(sync_once(sequences, {"sequence_id": sequence_id}) for sequence_id in due)
