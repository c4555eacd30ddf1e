"""Skipcall streams."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk import SchemaDirectory, StreamSchema

from tap_skipcall import schemas
from tap_skipcall.client import SkipcallListStream, dumps
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
