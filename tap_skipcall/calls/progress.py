"""How far along a sync of calls is, at INFO, a few lines a minute rather than one per page.

How far: the rows still to read are what ``total`` leaves below the rows read (a resumed
read counts from where it landed); a read that stops at ``start_date`` or the bookmark may
have fewer left, as the calls read so far, spread over the time they cover, say how many
more lie above that moment. A list whose ``total`` grows as fast as it is read promises no
time left.

How long: the requests still to make (those made so far, scaled to what is left: children,
probes and retries included) over the pace the run can keep, the slower of the plan's rate
and the rate measured since the last line.

Each line carries its figures as fields too (``stream``, ``records``, ``requests``,
``eta_seconds`` …), which the JSON log shows beside the sentence.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tap_skipcall.values import plural

if TYPE_CHECKING:
    from datetime import datetime

    from tap_skipcall.network.transport import Transport

#: At most one progress line per stream this often (the last one is always written).
EVERY_SECONDS = 10.0


@dataclass(frozen=True)
class Reach:
    """Where a read stands after a page, as the pager knows it.

    ``delivered`` rows from the head are read (``landed``: where a resumed read started
    reading rows, 0 otherwise), of ``total``; ``newest`` and ``oldest`` are the instants of
    the first and the last row read; ``floor`` the moment the read stops at (``start_date``
    or the bookmark; None: the end of the list).
    """

    total: int | None = None
    delivered: int = 0
    landed: int = 0
    newest: datetime | None = None
    oldest: datetime | None = None
    floor: datetime | None = None

    @property
    def rows_left(self) -> float | None:
        """Rows still to read (None: unknown yet).

        What ``total`` leaves below the rows read; for a read that stops at a moment
        (``start_date``, the bookmark), fewer when the calls read so far, spread over the
        time they cover, put that moment closer: a ``start_date`` years before the first call
        leaves no more than the list holds.
        """
        by_rows = None if self.total is None else float(max(self.total - self.delivered, 0))
        by_time = None
        newest, oldest, floor = self.newest, self.oldest, self.floor
        if floor is not None and newest is not None and oldest is not None and self.delivered:
            if oldest <= floor:
                by_time = 0.0
            elif newest > oldest:
                per_second = self.delivered / (newest - oldest).total_seconds()
                by_time = per_second * (oldest - floor).total_seconds()
        known = [left for left in (by_rows, by_time) if left is not None]
        return min(known) if known else None

    @property
    def stops_at_floor(self) -> bool:
        """Whether the moment the read stops at, not the list's end, bounds what is left."""
        left, by_rows = self.rows_left, self.total
        return (
            self.floor is not None
            and left is not None
            and (by_rows is None or left < max(by_rows - self.delivered, 0))
        )

    @property
    def share(self) -> float | None:
        """The part of the read done, from 0 to 1 (None: unknown yet)."""
        left = self.rows_left
        done = self.delivered - self.landed
        if left is None or (self.total is not None and self.total <= self.landed):
            return None
        if done + left <= 0:
            return None
        return min(max(done / (done + left), 0.0), 1.0)

    def words(self) -> str:
        """``42 % of the 20,000 calls`` (or of those left, or of the way to start_date)."""
        share = self.share
        if share is None:
            return ""
        if self.floor is not None and self.stops_at_floor:
            return f", {share:.0%} of the way down to {self.floor:%Y-%m-%d %H:%M} UTC"
        total = self.total or 0
        if self.landed:
            return f", {share:.0%} of the {total - self.landed:,} calls left"
        return f", {share:.0%} of the {total:,} calls"


def seconds_in_words(seconds: float) -> str:
    """``40 s``, ``12 min``, ``2 h 5 min``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if hours else f"{minutes} min"


class Progress:
    """Counts a sync of calls: rows read and sent, requests, and time left."""

    def __init__(
        self,
        stream: str,
        transport: Transport,
        logger: logging.Logger | logging.LoggerAdapter[Any],
        *,
        clock: Any = time.monotonic,
        incremental: bool = False,
    ) -> None:
        self.stream = stream
        self.transport = transport
        self.logger = logger
        self.clock = clock
        self.incremental = incremental
        self.started = self.last_line = clock()
        self.sent_at_start = self.sent_at_last_line = transport.session.sent
        self.pages = 0
        self.rows = 0
        self.written = 0
        self.reach = Reach()
        #: Where the read stood at the last line: a list that grew by as much as was read
        #: since is read no closer to its end, and no time left is promised for it.
        self.reach_at_last_line = Reach()

    @property
    def requests(self) -> int:
        """Requests this sync of calls made (its children's and probes included)."""
        return self.transport.session.sent - self.sent_at_start

    def page(self, reach: Reach, rows: int, written: int) -> None:
        """Count one page; log a line if the last one is old enough."""
        self.pages += 1
        self.rows += rows
        self.written += written
        self.reach = reach
        now = self.clock()
        if now - self.last_line >= EVERY_SECONDS:
            self.say(now)
            self.last_line, self.sent_at_last_line = now, self.transport.session.sent
            self.reach_at_last_line = reach

    def done(self) -> None:
        """The closing line."""
        self.say(self.clock(), final=True)

    def say(self, now: float, *, final: bool = False) -> None:
        """Log a line with its figures as fields.

        Through the stream's logger itself: an SDK's ``LoggerAdapter`` would replace them.
        """
        logging.getLogger(self.logger.name).info(
            "%s", self.line(now, final=final), extra=self.fields(now, final=final)
        )

    def fields(self, now: float, *, final: bool = False) -> dict[str, Any]:
        """A line's figures, for machines: ``eta_seconds`` None when unknown (or done)."""
        left = None if final else self.seconds_left(now)
        budget = self.transport.budget
        return {
            "stream": self.stream,
            "records": self.written,
            "rows_read": self.rows,
            "pages": self.pages,
            "requests": self.requests,
            "rate_limit_waits": budget.pauses,
            "wait_seconds": round(budget.waited_seconds, 3),
            "eta_seconds": round(left, 1) if left is not None else None,
            "elapsed_seconds": round(now - self.started, 3),
            "done": final,
        }

    @property
    def growing_as_read(self) -> bool:
        """Whether ``total`` grew since the last line by as many rows as were read since."""
        before, reach = self.reach_at_last_line, self.reach
        if before.total is None or reach.total is None:
            return False
        read = reach.delivered - before.delivered
        return reach.total - before.total >= max(read, 1)

    def seconds_left(self, now: float) -> float | None:
        """The requests still to make, over the pace this run can keep (None: unknown)."""
        if self.growing_as_read:
            return None
        share = self.reach.share
        if not share or share >= 1.0 or self.requests <= 0:
            return None
        requests_left = self.requests * (1.0 - share) / share
        measured = (self.transport.session.sent - self.sent_at_last_line) / max(
            now - self.last_line, 1e-9
        )
        plan = self.transport.budget.plan
        rate = min(measured, plan.per_second) if plan is not None and measured > 0 else measured
        if rate <= 0:
            rate = plan.per_second if plan is not None else 0.0
        return requests_left / rate if rate > 0 else None

    def line(self, now: float, *, final: bool = False) -> str:
        """One line: how far, what it cost, how long (or how long it took)."""
        budget = self.transport.budget
        waits = plural(budget.pauses, "rate-limit wait")
        cost = f"{plural(self.requests, 'request')} in all, {waits} ({budget.waited_seconds:.0f} s)"
        if final:
            took = now - self.started
            if self.incremental and self.written == 0:
                pages = plural(self.pages, "page")
                requests = plural(self.requests, "request")
                return (
                    f"{self.stream}: nothing changed since the last run ({pages} read, "
                    f"{requests}), done in {took:.1f} s."
                )
            read = f"{plural(self.rows, 'row')} read, {plural(self.pages, 'page')}"
            sent = plural(self.written, "call")
            return f"{self.stream}: {sent} sent ({read}), {cost}, done in {took:.1f} s."
        text = f"{self.stream}: {plural(self.written, 'call')} sent{self.reach.words()}, {cost}"
        left = self.seconds_left(now)
        if self.growing_as_read:
            text += ", the list growing as fast as it is read (no end in sight yet)"
        elif left is not None:
            text += f", about {seconds_in_words(left)} left"
        return text + "."
