"""``GET /v1/calls`` as an SDK stream: the SDK's hooks adapted to the pager.

One sync of calls, as the SDK drives it: :meth:`CallsStream.get_new_paginator` builds a
:class:`~tap_skipcall.calls.pager.CallPager` from the state; for each answer,
:meth:`CallsStream.parse_response` asks the pager what to write and what to read next,
starts those requests ahead, writes the page's new calls (their children follow, per call)
and then states the checkpoint; :meth:`CallsStream.get_records` saves the bookmark once
the list is read to the end.
"""

from __future__ import annotations

import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any

from singer_sdk import StreamSchema

from tap_skipcall.calls.pager import CallPager
from tap_skipcall.calls.paginator import NewestFirstPaginator, answer_of, page_query
from tap_skipcall.calls.position import PageRequest
from tap_skipcall.calls.progress import Progress
from tap_skipcall.calls.rows import REPLICATION_KEY, Probe
from tap_skipcall.calls.state import RESUME, completed_state, read_state
from tap_skipcall.client.base import SCHEMAS
from tap_skipcall.client.children import SkipcallChildStream
from tap_skipcall.client.pages import SkipcallListStream
from tap_skipcall.network.body import json_body
from tap_skipcall.sdk_private import OwnBookmark, write_state_now

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context

    from tap_skipcall.calls.state import Checkpoint


class CallsStream(OwnBookmark, SkipcallListStream):
    """``GET /v1/calls``, newest ``updatedAt`` first, incremental on ``updatedAt``."""

    name = "calls"
    path = "/v1/calls"
    primary_keys = ("id",)
    replication_key = REPLICATION_KEY
    #: Newest-first is not what the SDK calls sorted: the bookmark is written by this class.
    is_sorted = False
    schema = StreamSchema(SCHEMAS)

    @override
    def get_new_paginator(self) -> NewestFirstPaginator:
        """A paginator over a pager that knows the bookmark and what to resume."""
        bookmark, resume = read_state(self.stream_state, self.config.get("start_date"))
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
            page_size=int(self.config["page_size"]),
            sort_style=str(self.config["sort_style"]),
            pages_ahead=int(self.config["calls_pages_ahead"]) if self.transport.concurrent else 1,
        )
        #: The one object ``parse_response`` and ``get_records`` share with the paginator.
        self.paginator = NewestFirstPaginator(pager)
        return self.paginator

    @override
    def get_url_params(
        self, context: Context | None, next_page_token: PageRequest | None
    ) -> dict[str, Any]:
        """Page, size, newest ``updatedAt`` first in the page's wire form, workspaces."""
        params = super().get_url_params(context, None)
        if next_page_token is not None:
            params.update(page_query(next_page_token))
        return params

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The page's calls less those already delivered, then a checkpoint.

        The code after the loop runs only once the SDK asks for the row after the page's
        last one: by then every call of the page, and its children, are written.
        """
        pager = self.paginator.pager
        probe = self._probe(pager.current) if pager.wants_probe() else None
        verdict = self.paginator.read(response, probe)
        payload = json_body(response)
        calls = payload["data"]
        next_pages = pager.batch_after(verdict)
        if not next_pages and verdict.next_page is not None:
            next_pages = [verdict.next_page]
        for page in next_pages:
            self.fetch_ahead(None, page)
        if verdict.keep_rows:
            fresh = [call for call in calls if call.get("id") not in verdict.already_delivered]
            self._fetch_children_ahead(fresh)
            yield from fresh
        self.progress.page(payload.get("total"), len(calls))
        if verdict.checkpoint is not None and self.selected:
            self._checkpoint(verdict.checkpoint)

    def _probe(self, page: PageRequest) -> Probe:
        """The head of the list now: one call, and ``total`` (see :mod:`.batches`)."""
        return Probe.of(answer_of(self._newest_call(page.sort_style)))

    def _newest_call(self, sort_style: str | None) -> requests.Response:
        """Page 1 with one call, newest first in this wire form of ``sort`` (None: no sort)."""
        prepared = self.prepared_request(None, PageRequest(1, sort_style, limit=1))
        response: requests.Response = self.send_with_retries(prepared, None)
        return response

    def count_visible(self) -> int | None:
        """One request for one call: the key works, and how many calls it can read."""
        total = json_body(self._newest_call(None)).get("total")
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    def _fetch_children_ahead(self, calls: list[dict[str, Any]]) -> None:
        """Start the child requests of these calls, which the SDK makes as it writes them."""
        children = self._children_in_use
        if not children or not self.transport.concurrent:
            return
        for call in calls:
            context = self.get_child_context(call, None)
            for child in children:
                if child.has_work_for(context):
                    child.fetch_ahead(context)

    def _checkpoint(self, checkpoint: Checkpoint) -> None:
        self.stream_state[RESUME] = checkpoint.as_state()
        write_state_now(self)

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> None:
        """No client-clock signpost: the bookmark comes from the API's own data (the pager)."""
        return

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Every call to write; then the bookmark a completed sync saves, nothing to resume."""
        state = self.stream_state
        self.progress = Progress(self.name, self.transport, self.logger)
        try:
            yield from super().get_records(context)
        finally:
            self.transport.close()  # requests started ahead and not needed are dropped
        self.progress.done()
        transport = self.transport
        if transport.concurrent:
            batching = self.paginator.pager.position.batching
            self.logger.info(
                "calls: requests started ahead: %d / %d not needed; %d batches of pages, "
                "%d read again because the list moved",
                transport.started_ahead,
                transport.started_ahead - transport.used_ahead,
                batching.batches,
                batching.read_again,
            )
        # An older version's markers would overwrite the bookmark when the SDK finalizes.
        state.pop("progress_markers", None)
        if self.selected:
            state.update(completed_state(self.paginator.pager.final_bookmark()))

    @cached_property
    def _children_in_use(self) -> list[SkipcallChildStream]:
        return [
            child
            for child in self.child_streams
            if isinstance(child, SkipcallChildStream) and child.in_use
        ]

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        """Hand a call to its children only when one of them has something to read."""
        children = self._children_in_use
        if not children:
            return
        child_context = self.get_child_context(record, context)
        if any(child.has_work_for(child_context) for child in children):
            yield child_context

    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> Context:
        """What the children of a call are read for: the call, its contact, its sequence."""
        contact = record.get("contact") or {}
        return {
            "call_id": record["id"],
            "contact_id": None if contact.get("isUnknown") else contact.get("id"),
            "sequence_id": record.get("sequenceId"),
        }

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Keep undeclared fields; a call without ``updatedAt`` still carries the column."""
        row.setdefault(REPLICATION_KEY, None)
        return super().post_process(row, context)
