"""The calls list outside the SDK's paging: probes of its head, pages by number, the pace.

The SDK pages the list for a sync; these are the other requests a sync (and ``--test``, and
the contacts walk) makes of it. Each is sent through the stream's one request builder with
its retries (handed in as ``send``), so the budget, errors and metrics are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tap_skipcall.calls.batches import pages_ahead_for
from tap_skipcall.calls.paginator import answer_of
from tap_skipcall.calls.position import PageRequest
from tap_skipcall.calls.rows import Answer, Probe
from tap_skipcall.network.body import json_body
from tap_skipcall.values import positive_int

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

    from tap_skipcall.network.transport import Transport


@dataclass(frozen=True)
class Pace:
    """Pages of a backfill to read together, and why: the plan's rate and an answer's time."""

    pages: int
    per_minute: float
    answer_seconds: float


@dataclass(frozen=True)
class CallsList:
    """``GET /v1/calls`` as the sync asks it outside the SDK's paging.

    ``send`` sends one page request with the stream's retries; ``pages_ahead`` is the
    ``calls_pages_ahead`` setting (None: chosen from the pace).
    """

    send: Callable[[PageRequest], requests.Response]
    transport: Transport
    pages_ahead: int | None = None

    def newest_call(self, sort_style: str | None) -> requests.Response:
        """Page 1 with one call, newest first in this wire form of ``sort`` (None: no sort)."""
        return self.send(PageRequest(1, sort_style, limit=1))

    def probe(self, page: PageRequest) -> Probe:
        """The head of the list now: one call, and ``total`` (see :mod:`.batches`)."""
        return Probe.of(answer_of(self.newest_call(page.sort_style)))

    def head(self, sort_style: str | None) -> Answer:
        """The list's first page, newest first in this wire form of ``sort``."""
        return answer_of(self.send(PageRequest(1, sort_style)))

    def count_visible(self) -> int | None:
        """One request for one call: the key works, and how many calls it can read."""
        return positive_int(json_body(self.newest_call(None)).get("total"), allow_zero=True)

    def page(self, number: int, sort_style: str | None) -> requests.Response:
        """One page of the list, newest first in this wire form of ``sort``."""
        return self.send(PageRequest(number, sort_style))

    def first_pages_ahead(self) -> int:
        """Pages read together from the start: the setting, else 1 until the pace is known."""
        setting = self.pages_ahead
        return setting if setting is not None and self.transport.concurrent else 1

    def pace(self, first_answer: requests.Response) -> Pace | None:
        """From the first answer, unless set: pages to read together at the plan's pace.

        None when the setting decides, requests are one at a time, or the plan is unknown.
        """
        transport = self.transport
        if self.pages_ahead is not None or not transport.concurrent:
            return None
        plan = transport.budget.plan
        if plan is None:
            return None
        answer = first_answer.elapsed.total_seconds()
        pages = pages_ahead_for(plan.per_second, answer, most=transport.max_concurrent)
        return Pace(pages, plan.per_minute, answer)
