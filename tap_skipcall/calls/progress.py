"""How far along a sync of calls is, at INFO, a few lines a minute rather than one per page.

How far: a read that goes to the end of the list counts its rows against ``total`` (a resumed
read against the rows left after where it landed); a read that stops at ``start_date`` or
the bookmark counts the time it covered, from the newest call down to that moment.

How long: the requests still to make (those made so far, scaled to what is left: children,
probes and retries included) over the pace the run can keep, the slower of the plan's rate
and the rate measured since the last line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tap_skipcall.values import plural

if TYPE_CHECKING:
    import logging
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
    def share(self) -> float | None:
        """The part of the read done, from 0 to 1 (None: unknown yet)."""
        if self.floor is not None:
            if self.newest is None or self.oldest is None or self.newest <= self.floor:
                return None
            span = (self.newest - self.floor).total_seconds()
            return min(max((self.newest - self.oldest).total_seconds() / span, 0.0), 1.0)
        if not self.total or self.total <= self.landed:
            return None
        return min(max((self.delivered - self.landed) / (self.total - self.landed), 0.0), 1.0)

    def words(self) -> str:
        """``42 % of the 20,000 calls`` (or of those left, or of the way to start_date)."""
        share = self.share
        if share is None:
            return ""
        if self.floor is not None:
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
            self.logger.info("%s", self.line(now))
            self.last_line, self.sent_at_last_line = now, self.transport.session.sent

    def done(self) -> None:
        """The closing line."""
        self.logger.info("%s", self.line(self.clock(), final=True))

    def seconds_left(self, now: float) -> float | None:
        """The requests still to make, over the pace this run can keep (None: unknown)."""
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
        if left is not None:
            text += f", about {seconds_in_words(left)} left"
        return text + "."
