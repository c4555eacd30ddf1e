"""How far along a sync is, at INFO, a few lines a minute rather than one per page."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

    from tap_skipcall.network.transport import Transport

#: At most one progress line per stream this often (the last one is always written).
EVERY_SECONDS = 10.0


class Progress:
    """Counts a list stream's pages and rows against the ``total`` the API announces."""

    def __init__(
        self,
        stream: str,
        transport: Transport,
        logger: logging.Logger | logging.LoggerAdapter[Any],
        *,
        clock: Any = time.monotonic,
    ) -> None:
        self.stream = stream
        self.transport = transport
        self.logger = logger
        self.clock = clock
        self.started = clock()
        self.last_line = self.started
        self.pages = 0
        self.rows = 0
        self.total: int | None = None

    def page(self, total: Any, rows: int) -> None:
        """Count one page; log a line if the last one is old enough."""
        self.pages += 1
        self.rows += rows
        if isinstance(total, int) and not isinstance(total, bool):
            self.total = total
        now = self.clock()
        if now - self.last_line >= EVERY_SECONDS:
            self.last_line = now
            self.logger.info("%s", self.line(now))

    def done(self) -> None:
        """The closing line."""
        self.logger.info("%s", self.line(self.clock(), final=True))

    def line(self, now: float, *, final: bool = False) -> str:
        """``calls: 4,200 of 20,000 rows read (21 %), 42 pages, 45 requests, ~38 s left``."""
        elapsed = now - self.started
        budget = self.transport.budget
        text = f"{self.stream}: {self.rows:,} rows read"
        if self.total and not final:
            share = min(self.rows / self.total, 1.0)
            text += f" of {self.total:,} ({share:.0%})"
        text += (
            f", {self.pages} pages, {self.transport.session.sent} requests in all, "
            f"{budget.pauses} rate-limit waits ({budget.waited_seconds:.0f} s)"
        )
        if final:
            return text + f", done in {elapsed:.1f} s."
        if self.total and self.rows:
            left = elapsed * max(self.total - self.rows, 0) / self.rows
            text += f", about {left:.0f} s left at this pace"
        return text + "."
