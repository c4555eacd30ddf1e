"""What the head of the calls list tells: probes of batches, the count for ``--test``, the pace."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tap_skipcall.calls.batches import pages_ahead_for
from tap_skipcall.calls.paginator import answer_of
from tap_skipcall.calls.position import PageRequest
from tap_skipcall.calls.rows import Probe
from tap_skipcall.calls.run import PlannedRun
from tap_skipcall.network.body import json_body

if sys.version_info >= (3, 12):
    pass
else:
    pass

if TYPE_CHECKING:
    import requests


class ListHead(PlannedRun):
    """What the head of the list tells: probes, the count ``--test`` shows, the pace."""

    #: Whether the pages read together were chosen (once per sync, after the first page).
    _pages_ahead_chosen = False

    @property
    def _sort_style(self) -> str:
        """The configured wire form of ``sort``; a head pass keeps the one the read found."""
        if self._pass_bookmark is not None and self.paginator.pager.current.sort_style:
            return self.paginator.pager.current.sort_style
        return str(self.config["sort_style"])

    @property
    def _pages_ahead(self) -> int:
        """The setting, if set; else 1 until the first answer shows the pace (see below)."""
        setting = self.config.get("calls_pages_ahead")
        return int(setting) if setting is not None and self.transport.concurrent else 1

    def _choose_pages_ahead(self, response: requests.Response) -> None:
        """After the first page, unless set: pages read together for the plan's pace."""
        if self._pages_ahead_chosen:
            return
        self._pages_ahead_chosen = True
        if self.config.get("calls_pages_ahead") is not None or not self.transport.concurrent:
            return
        plan = self.transport.budget.plan
        answer = response.elapsed.total_seconds()
        pages = pages_ahead_for(
            plan.per_second if plan else None, answer, most=self.transport.max_concurrent
        )
        if pages > 1 and plan is not None:
            self.paginator.pager.read_pages_ahead(pages)
            self.logger.info(
                "calls: the plan allows %.0f requests a minute and answers take %.0f ms: "
                "a first sync reads %d pages of calls together.",
                plan.per_minute,
                answer * 1000,
                pages,
            )

    def _probe(self, page: PageRequest) -> Probe:
        """The head of the list now: one call, and ``total`` (see :mod:`.batches`)."""
        return Probe.of(answer_of(self._newest_call(page.sort_style)))

    def _send(self, page: PageRequest) -> requests.Response:
        """A page asked for outside the SDK's paging, sent with its retries."""
        response: requests.Response = self.send_with_retries(
            self.prepared_request(None, page), None
        )
        return response

    def _newest_call(self, sort_style: str | None) -> requests.Response:
        """Page 1 with one call, newest first in this wire form of ``sort`` (None: no sort)."""
        return self._send(PageRequest(1, sort_style, limit=1))

    def count_visible(self) -> int | None:
        """One request for one call: the key works, and how many calls it can read."""
        total = json_body(self._newest_call(None)).get("total")
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    def page_of_calls(self, number: int) -> requests.Response:
        """One page of the list, newest first in the wire form this sync found."""
        return self._send(PageRequest(number, self.paginator.pager.current.sort_style))
