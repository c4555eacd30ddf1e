"""``GET /v1/calls`` as an SDK stream: the SDK's hooks adapted to the pager.

One sync of calls, as the SDK drives it: :attr:`CallsStream.plan` says from the state
whether the run is incremental, a backfill or a reconciliation
(:mod:`~tap_skipcall.calls.reconcile`); :meth:`CallsStream.get_new_paginator` builds a
:class:`~tap_skipcall.calls.pager.CallPager` for it; for each answer,
:meth:`CallsStream.parse_response` asks the pager what to write and what to read next,
starts those requests ahead, writes the page's new calls (their children follow, per call)
and then states the checkpoint; :meth:`CallsStream.get_records` saves the bookmark once the
list is read to the end (and, after a reconciliation, writes ``ACTIVATE_VERSION``).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from singer_sdk import StreamSchema

from tap_skipcall.calls.children import CallChildren
from tap_skipcall.calls.pager import CallPager
from tap_skipcall.calls.paginator import NewestFirstPaginator, page_query
from tap_skipcall.calls.progress import Progress
from tap_skipcall.calls.reconcile import MAX_HEAD_PASSES
from tap_skipcall.calls.rows import REPLICATION_KEY
from tap_skipcall.calls.state import (
    Bookmark,
    completed_state,
)
from tap_skipcall.client.base import SCHEMAS
from tap_skipcall.freshness.walk import WALK
from tap_skipcall.network.body import json_body
from tap_skipcall.sdk_private import (
    activate_version,
    set_table_version,
)

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable

    import requests
    from singer_sdk.helpers.types import Context

    from tap_skipcall.calls.position import PageRequest


class CallsStream(CallChildren):
    """``GET /v1/calls``, newest ``updatedAt`` first, incremental on ``updatedAt``."""

    name = "calls"
    path = "/v1/calls"
    primary_keys = ("id",)
    replication_key = REPLICATION_KEY
    #: Newest-first is not what the SDK calls sorted: the bookmark is written by this class.
    is_sorted = False
    schema = StreamSchema(SCHEMAS)

    #: Deleted calls are marked so in this column, the one SDK loaders keep for soft deletes.
    DELETED_AT = "_sdc_deleted_at"

    @override
    def get_new_paginator(self) -> NewestFirstPaginator:
        """A paginator over a pager that knows where this run starts and what to resume."""
        saved, plan = self.saved, self.plan
        if self._pass_bookmark is not None:  # a head pass of a reconciliation
            bookmark, resume = self._pass_bookmark, None
        else:
            bookmark = (
                Bookmark(self.config.get("start_date")) if plan.complete_read else saved.bookmark
            )
            resume = saved.resume
            if resume is not None and (
                resume.since != bookmark.value or resume.version != plan.version
            ):
                resume = None  # a checkpoint of another kind of run: this one reads anew
        if resume is not None and self._pass_bookmark is None:
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
            sort_style=self._sort_style,
            pages_ahead=self._pages_ahead if self._pass_bookmark is None else 1,
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
        self._choose_pages_ahead(response)
        payload = json_body(response)
        calls = payload["data"]
        next_pages = pager.batch_after(verdict)
        if not next_pages and verdict.next_page is not None:
            next_pages = [verdict.next_page]
        for page in next_pages:
            self.fetch_ahead(None, page)
        if verdict.keep_rows:
            fresh = [call for call in calls if call.get("id") not in verdict.already_delivered]
            if self.plan.reconciles:  # left out, so that ACTIVATE_VERSION removes them
                fresh = [call for call in fresh if not call.get("deletedAt")]
            self.rows_written += len(fresh)
            self._fetch_children_ahead(fresh)
            yield from fresh
        self.progress.page(payload.get("total"), len(calls))
        if verdict.checkpoint is not None and self.selected and self._pass_bookmark is None:
            self._checkpoint(replace(verdict.checkpoint, version=self.plan.version))

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> None:
        """No client-clock signpost: the bookmark comes from the API's own data (the pager)."""
        return

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Every call to write; then the state a completed sync saves, nothing to resume."""
        plan = self.plan
        set_table_version(self, plan.version)
        self.progress = Progress(self.name, self.transport, self.logger)
        self.rows_written = 0
        try:
            yield from super().get_records(context)
            bookmark = self.paginator.pager.final_bookmark()
            complete = plan.complete_read and self.paginator.pager.ordered
            if plan.reconciles and complete:
                settled = yield from self._head_passes(context, bookmark)
                complete, bookmark = settled is not None, settled or bookmark
        finally:
            self.transport.close()  # requests started ahead and not needed are dropped
        self.progress.done()
        self._log_requests_ahead()
        # A resumed read met only the calls after its checkpoint.
        walk = self._refresh_children(met_every_call=complete and self.saved.resume is None)
        if plan.reconciles and plan.version is not None:
            if complete:
                activate_version(self, plan.version)
            else:
                self.logger.warning(
                    "calls: the list did not stay ordered and still while it was read, so "
                    "deleted calls are not marked this run; the next run tries again."
                )
        # An older version's markers would overwrite the bookmark when the SDK finalizes.
        state = self.stream_state
        state.pop("progress_markers", None)
        if self.selected:
            reconciled_at = self.saved.reconciled_at
            if complete:
                reconciled_at = plan.began_at or self.started_at
            final = completed_state(
                bookmark, reconciled_at=reconciled_at, last_run_at=self.started_at
            )
            self._save({**final, WALK: walk.as_state()} if walk else final)

    def _head_passes(
        self, context: Context | None, bookmark: Bookmark
    ) -> Generator[dict[str, Any], None, Bookmark | None]:
        """Read the head again until nothing moved: the bookmark then, or None if it kept moving.

        A call updated or created while the list was read is newer than the read's cap and
        was not written with this version; each pass writes those, and a pass that finds
        none proves that nothing moved after the one before it.
        """
        for _ in range(MAX_HEAD_PASSES):
            self._pass_bookmark = bookmark
            written = self.rows_written
            yield from super().get_records(context)
            pager = self.paginator.pager
            if not pager.ordered:
                return None
            if self.rows_written == written:
                return bookmark
            bookmark = pager.final_bookmark()
        return None

    def _log_requests_ahead(self) -> None:
        transport = self.transport
        if transport.concurrent:
            batching = self.paginator.pager.position.batching
            unused = transport.started_ahead - transport.used_ahead
            self.logger.info(
                "calls: %d requests were started before they were needed (%s); pages read "
                "together: %d batches, %d read again because the list moved.",
                transport.started_ahead,
                "all of them used" if not unused else f"{unused} not needed",
                batching.batches,
                batching.read_again,
            )

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Keep undeclared fields; a call without ``updatedAt`` still carries the column.

        A soft-deleted call carries its ``deletedAt`` in ``_sdc_deleted_at`` too.
        """
        row.setdefault(REPLICATION_KEY, None)
        row[self.DELETED_AT] = row.get("deletedAt")
        return super().post_process(row, context)
