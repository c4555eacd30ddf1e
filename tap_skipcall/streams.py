"""Skipcall streams: one class per endpoint, and :data:`STREAM_TYPES`, the list the tap offers."""

from __future__ import annotations

import datetime as datetime_module
import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any

from singer_sdk import SchemaDirectory, StreamSchema

from tap_skipcall import schemas
from tap_skipcall.client import (
    SkipcallChildStream,
    SkipcallListStream,
    SkipcallObjectStream,
    SkipcallStream,
)
from tap_skipcall.incremental import (
    REPLICATION_KEY,
    RESUME,
    CallPager,
    Probe,
    completed_state,
    read_state,
)
from tap_skipcall.pagination import NewestFirstPaginator, answer_of, page_query
from tap_skipcall.progress import Progress
from tap_skipcall.sdk_private import OwnBookmark, write_state_now
from tap_skipcall.transport import json_body

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context

    from tap_skipcall.incremental import Checkpoint, PageRequest

SCHEMAS = SchemaDirectory(schemas)


class CallsStream(OwnBookmark, SkipcallListStream):
    """``GET /v1/calls``, newest ``updatedAt`` first, incremental on ``updatedAt``.

    The algorithm lives in :mod:`tap_skipcall.incremental`; this class adapts the SDK's
    hooks to it: the paginator relays pages to a :class:`CallPager`, ``parse_response``
    drops calls an earlier run delivered and checkpoints once a page's calls are written,
    and ``get_records`` writes the bookmark when the sync completes.
    """

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
                resume.reached,
                resume.cap,
                resume.rows_read,
            )
        pager = CallPager(
            bookmark=bookmark,
            resume=resume,
            page_size=int(self.config.get("page_size", 100)),
            sort_style=str(self.config.get("sort_style", "auto")),
            pages_ahead=int(self.config.get("calls_pages_ahead", 1))
            if self.transport.concurrent
            else 1,
        )
        #: The one object ``parse_response`` and ``get_records`` share with the paginator.
        self.paginator = NewestFirstPaginator(pager)
        return self.paginator

    @override
    def get_url_params(
        self, context: Context | None, next_page_token: PageRequest | None
    ) -> dict[str, Any]:
        """Page, size, sort by ``updatedAt`` descending in the chosen wire form, workspaces."""
        params = super().get_url_params(context, None)
        params.update(page_query(next_page_token or self.paginator.pager.current))
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
        for page in pager.batch_after(verdict) or ([verdict.next] if verdict.next else []):
            self.fetch_ahead(None, page)
        if verdict.emit:
            fresh = [call for call in calls if call.get("id") not in verdict.skip]
            self._fetch_children_ahead(fresh)
            yield from fresh
        self.progress.page(payload.get("total"), len(calls))
        if verdict.checkpoint is not None and self.selected:
            self._checkpoint(verdict.checkpoint)

    def _probe(self, page: PageRequest) -> Probe:
        """The head of the list now: one call, and ``total`` (see ``CallPager.batch_after``)."""
        return Probe.of(answer_of(self._newest_call(page)))

    def _newest_call(self, page: PageRequest | None) -> requests.Response:
        """Page 1 with one call, newest first in ``page``'s sort form (None: no sort)."""
        params = self.get_url_params(None, page) if page else super().get_url_params(None, None)
        prepared = self.build_prepared_request(
            method="GET",
            url=self.get_url(None),
            params={**params, "page": 1, "limit": 1},
            headers=self.http_headers,
        )
        return self.send_with_retries(prepared, None)

    def _fetch_children_ahead(self, calls: list[dict[str, Any]]) -> None:
        """Start the child requests of these calls, which the SDK makes as it writes them."""
        children = self._hungry_children
        if not children or not self.transport.concurrent:
            return
        for call in calls:
            context = self.get_child_context(call, None)
            for child in children:
                if child.wants(context):
                    child.fetch_ahead(context)

    def _checkpoint(self, checkpoint: Checkpoint) -> None:
        state = self.stream_state
        state[RESUME] = checkpoint.as_state()
        write_state_now(self)

    def count_visible(self) -> int | None:
        """One request for one call: the key works, and how many calls it can read."""
        total = json_body(self._newest_call(None)).get("total")
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> None:
        """No client-clock signpost: the cap comes from the API's own data (the pager)."""
        return

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Every call to emit; then the bookmark a completed sync saves, nothing to resume."""
        state = self.stream_state
        self.progress = Progress(self.name, self.transport, self.logger)
        try:
            yield from super().get_records(context)
        finally:
            self.transport.close()  # requests started ahead and not needed are dropped
        self.progress.done()
        transport = self.transport
        if transport.concurrent:
            pager = self.paginator.pager
            self.logger.info(
                "calls: requests started ahead: %d / %d not needed; %d batches of pages, "
                "%d read again because the list moved",
                transport.started_ahead,
                transport.started_ahead - transport.used_ahead,
                pager.batches,
                pager.batches_read_again,
            )
        # An older version's markers would overwrite the bookmark when the SDK finalizes.
        state.pop("progress_markers", None)
        if self.selected:
            state.update(completed_state(self.paginator.pager.final_bookmark()))

    @cached_property
    def _hungry_children(self) -> list[SkipcallChildStream]:
        return [
            child
            for child in self.child_streams
            if isinstance(child, SkipcallChildStream) and child.wanted
        ]

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        """Hand a call to its children only when one of them has something to read."""
        children = self._hungry_children
        if not children:
            return
        child_context = self.get_child_context(record, context)
        if any(child.wants(child_context) for child in children):
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


class CallRecordingsStream(SkipcallObjectStream):
    """``GET /v1/calls/{id}/recording`` for each call emitted; 404 (no recording) yields nothing."""

    name = "call_recordings"
    path = "/v1/calls/{call_id}/recording"
    parent_stream_type = CallsStream
    parent_key = "call_id"
    parent_field = "call_id"
    primary_keys = ("id",)
    selected_by_default = False  # one request per call
    schema = StreamSchema(SCHEMAS)

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        """Transcriptions only where the recording says one exists: no wasted request."""
        if record.get("hasTranscription"):
            yield {"call_id": record["call_id"]}

    @override
    def send_and_check(
        self, prepared: requests.PreparedRequest, context: Context | None = None
    ) -> requests.Response:
        """The recording; then, started ahead too, its transcription if it has one."""
        response = super().send_and_check(prepared, context)
        if response.status_code == 200 and json_body(response).get("hasTranscription"):
            for child in self.child_streams:
                if isinstance(child, SkipcallChildStream) and child.wanted and context:
                    child.fetch_ahead({"call_id": context["call_id"]})
        return response


class CallTranscriptionsStream(SkipcallObjectStream):
    """``GET /v1/calls/{id}/transcription``, asked only when the recording has one."""

    name = "call_transcriptions"
    path = "/v1/calls/{call_id}/transcription"
    parent_stream_type = CallRecordingsStream
    parent_key = "call_id"
    parent_field = "call_id"
    primary_keys = ("id",)
    selected_by_default = False
    schema = StreamSchema(SCHEMAS)


class ContactsStream(SkipcallObjectStream):
    """``GET /v1/contacts/{id}`` once per distinct known contact met in the synced calls."""

    name = "contacts"
    path = "/v1/contacts/{contact_id}"
    parent_stream_type = CallsStream
    parent_key = "contact_id"
    primary_keys = ("id",)
    selected_by_default = False  # up to one request per call
    schema = StreamSchema(SCHEMAS)


class SequenceContactsStream(SkipcallChildStream, SkipcallListStream):
    """``GET /v1/sequences/{id}/contacts`` for each distinct ``sequenceId`` met in calls."""

    name = "sequence_contacts"
    path = "/v1/sequences/{sequence_id}/contacts"
    parent_stream_type = CallsStream
    parent_key = "sequence_id"
    parent_field = "sequence_id"
    primary_keys = ("sequence_id", "id")
    narrows_by_workspace = False
    schema = StreamSchema(SCHEMAS)


class WorkspacesStream(SkipcallListStream):
    """``GET /v1/workspaces``: a bare list, a ``{data}`` wrapper or a page envelope."""

    name = "workspaces"
    path = "/v1/workspaces"
    primary_keys = ("id",)
    narrows_by_workspace = False
    schema = StreamSchema(SCHEMAS)

    @override
    def check_payload(self, payload: Any) -> None:
        """A list is a documented-enough answer too (the shape is not documented)."""
        if not isinstance(payload, list):
            super().check_payload(payload)

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """Items of whichever shape arrived; only workspaces in ``workspace_ids`` if set."""
        payload = json_body(response)
        wanted = set(self.config.get("workspace_ids") or ())
        for item in payload if isinstance(payload, list) else payload["data"]:
            if not wanted or item.get("id") in wanted:
                yield item

    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> Context:
        """Members are read per workspace."""
        return {"workspace_id": record["id"]}


class WorkspaceMembersStream(SkipcallChildStream, SkipcallListStream):
    """``GET /v1/workspaces/{id}/members``: every status, as documented."""

    name = "workspace_members"
    path = "/v1/workspaces/{workspace_id}/members"
    parent_stream_type = WorkspacesStream
    parent_key = "workspace_id"
    parent_field = "workspace_id"
    primary_keys = ("workspace_id", "id")
    narrows_by_workspace = False
    schema = StreamSchema(SCHEMAS)


class UsersStream(SkipcallListStream):
    """``GET /v1/users``: organization users with access to an in-scope workspace."""

    name = "users"
    path = "/v1/users"
    primary_keys = ("organizationMembershipId",)
    schema = StreamSchema(SCHEMAS)


class StatsStream(SkipcallStream):
    """An opt-in report over the window ``stats_start_date`` .. ``stats_end_date``."""

    selected_by_default = False

    @property
    def window(self) -> tuple[str, str]:
        """The report window as ISO dates (default: the last 30 days)."""
        today = datetime_module.datetime.now(datetime_module.timezone.utc).date()
        start = self.config.get("stats_start_date") or str(today - datetime_module.timedelta(30))
        return str(start)[:10], str(self.config.get("stats_end_date") or today)[:10]

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """Window and granularity, for each stats endpoint alike."""
        start, end = self.window
        return {
            "startDate": start,
            "endDate": end,
            "granularity": self.config.get("stats_granularity", "day"),
        }

    @override
    def get_new_paginator(self) -> None:
        """Reports are not paginated."""
        return

    def labelled(self, row: dict[str, Any]) -> dict[str, Any]:
        """The window and bucket make rows of different runs and days distinct."""
        start, end = self.window
        return {
            "window_start": start,
            "window_end": end,
            "granularity": self.config.get("stats_granularity", "day"),
            "bucket": row.get("date") or "total",
            **row,
        }


class TagRepartitionStream(StatsStream):
    """``GET /v1/stats/tag-repartition``."""

    name = "stats_tag_repartition"
    path = "/v1/stats/tag-repartition"
    primary_keys = ("window_start", "window_end", "granularity", "bucket", "tagId")
    schema = StreamSchema(SCHEMAS)

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """One row per tag and bucket."""
        for row in json_body(response).get("data") or []:
            yield self.labelled(row)


class StatusRepartitionStream(StatsStream):
    """``GET /v1/stats/status-repartition``; ``nonCalledCount`` repeated on each row."""

    name = "stats_status_repartition"
    path = "/v1/stats/status-repartition"
    primary_keys = ("window_start", "window_end", "granularity", "bucket", "status")
    schema = StreamSchema(SCHEMAS)

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """One row per status and bucket."""
        payload = json_body(response)
        for row in payload.get("data") or []:
            yield {**self.labelled(row), "nonCalledCount": payload.get("nonCalledCount")}


class TeamStatsStream(StatsStream):
    """``GET /v1/teams/stats`` with ``period=custom`` over the window."""

    name = "stats_teams"
    path = "/v1/teams/stats"
    primary_keys = ("window_start", "window_end", "teamId")
    schema = StreamSchema(SCHEMAS)

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """``period`` is required; ``custom`` takes the window's dates."""
        start, end = self.window
        return {"period": "custom", "startDate": start, "endDate": end}

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """One row per team, each carrying the response's aggregate."""
        payload = json_body(response)
        start, end = self.window
        for team in payload.get("teams") or []:
            yield {
                "window_start": start,
                "window_end": end,
                **team,
                "aggregate": payload.get("aggregate"),
            }


#: Every stream the tap offers, parents before their children: the one list that
#: ``discover_streams``, the tests and the README's stream table are held to.
STREAM_TYPES: tuple[type[SkipcallStream], ...] = (
    WorkspacesStream,
    WorkspaceMembersStream,
    UsersStream,
    CallsStream,
    CallRecordingsStream,
    CallTranscriptionsStream,
    ContactsStream,
    SequenceContactsStream,
    TagRepartitionStream,
    StatusRepartitionStream,
    TeamStatsStream,
)
