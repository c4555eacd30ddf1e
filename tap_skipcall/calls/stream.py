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
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from singer_sdk import StreamSchema

from tap_skipcall import clock
from tap_skipcall.calls.batches import pages_ahead_for
from tap_skipcall.calls.pager import CallPager
from tap_skipcall.calls.paginator import NewestFirstPaginator, answer_of, page_query
from tap_skipcall.calls.position import PageRequest
from tap_skipcall.calls.progress import Progress
from tap_skipcall.calls.reconcile import MAX_HEAD_PASSES, RunPlan, plan_run
from tap_skipcall.calls.rows import REPLICATION_KEY, Probe, Row
from tap_skipcall.calls.state import (
    RESUME,
    Bookmark,
    SavedState,
    completed_state,
    read_state,
)
from tap_skipcall.client.base import SCHEMAS
from tap_skipcall.client.children import SkipcallChildStream, WatchedObjectStream
from tap_skipcall.client.pages import SkipcallListStream
from tap_skipcall.freshness.refresher import Refresher, Rotated
from tap_skipcall.freshness.walk import WALK, Walk
from tap_skipcall.network.body import json_body
from tap_skipcall.sdk_private import (
    OwnBookmark,
    activate_version,
    set_table_version,
    write_state_now,
)

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Mapping

    import requests
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
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

    #: Deleted calls are marked so in this column, the one SDK loaders keep for soft deletes.
    DELETED_AT = "_sdc_deleted_at"
    #: Set while a reconciliation reads the head again (see :meth:`_head_passes`).
    _pass_bookmark: Bookmark | None = None
    #: Whether the pages read together were chosen (once per sync, after the first page).
    _pages_ahead_chosen = False
    #: In BATCH mode, the state that holds once the batch being filled is written.
    _held_back: dict[str, Any] = {}  # noqa: RUF012  (replaced, never mutated)

    @cached_property
    def saved(self) -> SavedState:
        """The calls state this run started from."""
        return read_state(self.stream_state, self.config.get("start_date"))

    @cached_property
    def started_at(self) -> datetime:
        """When this sync of calls began (the tap's clock)."""
        return clock.now()

    @cached_property
    def plan(self) -> RunPlan:
        """Incremental, backfill or reconciliation (see :mod:`.reconcile`)."""
        days = self.config["deletions_within_days"]
        plan = plan_run(
            self.saved,
            now=self.started_at,
            period=timedelta(days=days) if days else None,
            versions=self.versions_on,
            full_table=self.replication_method == "FULL_TABLE",
            batching=super().get_batch_config(self.config) is not None,
        )
        if plan.reconciles:
            self.logger.info(
                "calls: reading the whole list (%s), so that deleted calls leave the warehouse.",
                plan.why,
            )
        return plan

    @override
    def get_batch_config(self, config: Mapping[str, Any]) -> BatchConfig | None:
        """RECORD messages for a reconciliation: ``ACTIVATE_VERSION`` needs versioned rows."""
        return None if self.plan.reconciles else super().get_batch_config(config)

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
            if self._unchanged(call):
                continue
            context = self.get_child_context(call, None)
            for child in children:
                if child.has_work_for(context):
                    child.fetch_ahead(context)

    def _checkpoint(self, checkpoint: Checkpoint) -> None:
        """Record what is delivered: written now, or, in BATCH mode, once it is true."""
        self._save({RESUME: checkpoint.as_state()})

    def _save(self, update: dict[str, Any]) -> None:
        """Apply a calls state that holds once the rows read so far are written.

        With RECORD messages that is now. With BATCH files it is once the BATCH message
        holding the last of those rows is written (:meth:`get_batches`): any STATE the SDK
        writes before, also on SIGTERM, must not claim rows still in a file being filled.
        """
        if self.get_batch_config(self.config) is None:
            self.stream_state.update(update)
            if RESUME in update and len(update) == 1:
                write_state_now(self)
        else:
            self._held_back = {**self._held_back, **update}

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """Each batch, then the state its rows make true (see :meth:`_save`)."""
        self._held_back = {}
        for batch in super().get_batches(batch_config, context):
            true_now = self._held_back  # the rows it claims are in this file or earlier ones
            self._held_back = {}
            yield batch  # the SDK writes the BATCH message, then a STATE
            self.stream_state.update(true_now)
        self.stream_state.update(self._held_back)  # every file is written

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
        walk = self._refresh_children()
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

    def _refresh_children(self) -> Walk | None:
        """Read again what changed without its call (see :mod:`tap_skipcall.freshness`)."""
        children = self.descendants_in_use
        if not children:
            return None
        refresher = Refresher(self, children, clock.now())
        refresher.read_unfinished(
            [c for c in children.values() if isinstance(c, WatchedObjectStream)]
        )
        days = self.config["contacts_max_age_days"]
        total = self.paginator.pager.position.cursor.total
        walk = Walk.from_state(self.stream_state.get(WALK), self.started_at)
        if not days or total is None or not self.saved.has_bookmark:
            return Walk(self.started_at, total=total or 0)  # a first sync read them all
        period = timedelta(days=days)
        last = self.saved.last_run_at
        interval = self.started_at - last if last is not None else period
        sequences = children.get("sequence_contacts")
        if sequences is not None:
            if not isinstance(sequences, Rotated):
                msg = f"{type(sequences).__name__} cannot be read in rotation"
                raise TypeError(msg)
            refresher.rotate_sequences(sequences, interval=interval, period=period)
        if "contacts" not in children:
            return walk
        return refresher.walk(walk, total=total, interval=interval, period=period)

    @cached_property
    def descendants_in_use(self) -> dict[str, SkipcallChildStream]:
        """The child streams, and theirs, that this run reads: by name."""
        found: dict[str, SkipcallChildStream] = {}
        parents: list[Any] = [self]
        while parents:
            for child in parents.pop().child_streams:
                if isinstance(child, SkipcallChildStream) and child.in_use:
                    found[child.name] = child
                    parents.append(child)
        return found

    def page_of_calls(self, number: int) -> requests.Response:
        """One page of the list, newest first in the wire form this sync found."""
        style = self.paginator.pager.current.sort_style
        prepared = self.prepared_request(None, PageRequest(number, style))
        response: requests.Response = self.send_with_retries(prepared, None)
        return response

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

    def _unchanged(self, call: Mapping[str, Any]) -> bool:
        """Whether a call is written only for a complete read, unchanged since the bookmark.

        Its children were read when it changed.
        """
        saved = self.saved
        return self.plan.complete_read and saved.has_bookmark and saved.bookmark.holds(Row.of(call))

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
        if not children or self._unchanged(record):
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
            "ended_at": record.get("endedAt"),  # how long a missing recording may still come
        }

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
