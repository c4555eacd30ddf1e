"""Skipcall streams."""

from __future__ import annotations

import datetime as datetime_module
from typing import TYPE_CHECKING, Any

from singer_sdk import SchemaDirectory, StreamSchema

from tap_skipcall import schemas
from tap_skipcall.client import (
    SkipcallChildStream,
    SkipcallListStream,
    SkipcallObjectStream,
    SkipcallStream,
    dumps,
)
from tap_skipcall.pagination import NewestFirstPaginator, PageRequest, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    import requests
    from singer_sdk.helpers.types import Context

SCHEMAS = SchemaDirectory(schemas)


class CallsStream(SkipcallListStream):
    """``GET /v1/calls``, newest ``updatedAt`` first, incremental on ``updatedAt``.

    The SDK treats the stream as unsorted (records arrive newest-first), so the bookmark
    only moves when a sync completes: an interrupted sync resumes from the previous one.
    """

    name = "calls"
    path = "/v1/calls"
    primary_keys = ("id",)
    replication_key = "updatedAt"
    is_sorted = False
    schema = StreamSchema(SCHEMAS)

    #: State key for the ids already emitted at the bookmark's exact instant.
    IDS_AT_BOOKMARK = "ids_at_bookmark"

    def get_new_paginator(self) -> NewestFirstPaginator:
        """A fresh newest-first paginator that knows where this sync may stop."""
        self._bookmark = self.get_starting_timestamp(self.context)
        state = self.get_context_state(self.context)
        saved = parse_timestamp(state.get("replication_key_value"))
        self._seen_at_bookmark = frozenset(
            state.get(self.IDS_AT_BOOKMARK) or () if saved == self._bookmark else ()
        )
        self._newest: tuple[datetime | None, set[str]] = (None, set())
        self._paginator = NewestFirstPaginator(
            payload_of=self.payload_of,
            bookmark=self._bookmark,
            page_size=int(self.config.get("page_size", 100)),
            sort_style=str(self.config.get("sort_style", "auto")),
        )
        return self._paginator

    def get_url_params(
        self, context: Context | None, next_page_token: PageRequest | None
    ) -> dict[str, Any]:
        """Page, size, sort by ``updatedAt`` descending in the chosen wire form, workspaces."""
        page = next_page_token or self._paginator.current_value
        params = super().get_url_params(context, page.number)
        params.update(sort_params(page.sort_style, "updatedAt", "desc"))
        return params

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The page's calls, unless the paginator drops the page (a sort-form probe)."""
        if self._paginator.accept(response):
            yield from super().parse_response(response)

    def get_replication_key_signpost(self, context: Context | None = None) -> None:
        """No client-clock signpost: the cap comes from the API's own data (see get_records)."""
        return

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Records, then cap the bookmark at the newest ``updatedAt`` seen on the first page.

        Calls changed after that first page may have been skipped by page shifts; their
        ``updatedAt`` is newer than the cap, so the next sync reads them.
        """
        yield from super().get_records(context)
        head = self._paginator.head
        if head is None:
            return
        self.state_manager.write_replication_key_signpost(head, context=context)
        newest, ids = self._newest
        state = self.get_context_state(context)
        if newest is not None and newest <= (parse_timestamp(head) or newest):
            state[self.IDS_AT_BOOKMARK] = sorted(ids)
        else:  # the bookmark will be capped below the newest value: nothing to skip there
            state.pop(self.IDS_AT_BOOKMARK, None)

    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        """Hand a call to its children only when one of them has something to read."""
        child_context = self.get_child_context(record, context)
        if any(
            isinstance(child, SkipcallChildStream) and child.wants(child_context)
            for child in self.child_streams
        ):
            yield child_context

    def get_child_context(self, record: dict[str, Any], context: Context | None) -> Context:
        """What the children of a call are read for: the call, its contact, its sequence."""
        contact = record.get("contact") or {}
        return {
            "call_id": record["id"],
            "contact_id": None if contact.get("isUnknown") else contact.get("id"),
            "sequence_id": record.get("sequenceId"),
        }

    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Skip calls the last sync already delivered; keep undeclared fields.

        That is every call older than the bookmark (or ``start_date``), and those at the
        bookmark's exact instant whose ids the last sync saved.
        """
        updated = parse_timestamp(row.get("updatedAt"))
        if (
            updated is not None
            and self._bookmark is not None
            and (
                updated < self._bookmark
                or (updated == self._bookmark and row.get("id") in self._seen_at_bookmark)
            )
        ):
            return None
        if updated is not None:
            newest, ids = self._newest
            if newest is None or updated > newest:
                self._newest = (updated, {row["id"]})
            elif updated == newest:
                ids.add(row["id"])
        row.setdefault("updatedAt", None)
        return super().post_process(row, context)


def sort_params(style: str, field: str, order: str) -> dict[str, str]:
    """``sort`` as the API may expect it; the docs give its schema but not its encoding."""
    if style == "json":
        return {"sort": dumps({"orderBy": field, "order": order})}
    if style == "flat":
        return {"orderBy": field, "order": order}
    return {"sort[orderBy]": field, "sort[order]": order}


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

    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        """Transcriptions only where the recording says one exists: no wasted request."""
        if record.get("hasTranscription"):
            yield {"call_id": record["call_id"]}


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

    def check_payload(self, payload: Any) -> None:
        """A list is a documented-enough answer too (the shape is not documented)."""
        if not isinstance(payload, list):
            super().check_payload(payload)

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """Items of whichever shape arrived; only workspaces in ``workspace_ids`` if set."""
        payload = self.payload_of(response)
        wanted = set(self.config.get("workspace_ids") or ())
        for item in payload if isinstance(payload, list) else payload["data"]:
            if not wanted or item.get("id") in wanted:
                yield item

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

    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """Window and granularity, for each stats endpoint alike."""
        start, end = self.window
        return {
            "startDate": start,
            "endDate": end,
            "granularity": self.config.get("stats_granularity", "day"),
        }

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

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """One row per tag and bucket."""
        for row in self.payload_of(response).get("data") or []:
            yield self.labelled(row)


class StatusRepartitionStream(StatsStream):
    """``GET /v1/stats/status-repartition``; ``nonCalledCount`` repeated on each row."""

    name = "stats_status_repartition"
    path = "/v1/stats/status-repartition"
    primary_keys = ("window_start", "window_end", "granularity", "bucket", "status")
    schema = StreamSchema(SCHEMAS)

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """One row per status and bucket."""
        payload = self.payload_of(response)
        for row in payload.get("data") or []:
            yield {**self.labelled(row), "nonCalledCount": payload.get("nonCalledCount")}


class TeamStatsStream(StatsStream):
    """``GET /v1/teams/stats`` with ``period=custom`` over the window."""

    name = "stats_teams"
    path = "/v1/teams/stats"
    primary_keys = ("window_start", "window_end", "teamId")
    schema = StreamSchema(SCHEMAS)

    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """``period`` is required; ``custom`` takes the window's dates."""
        start, end = self.window
        return {"period": "custom", "startDate": start, "endDate": end}

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """One row per team, each carrying the response's aggregate."""
        payload = self.payload_of(response)
        start, end = self.window
        for team in payload.get("teams") or []:
            yield {
                "window_start": start,
                "window_end": end,
                **team,
                "aggregate": payload.get("aggregate"),
            }
