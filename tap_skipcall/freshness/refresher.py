"""The reads that keep children fresh, at the end of a sync of calls.

First the watch lists (:mod:`.unfinished`): each recording and transcription still
unfinished is read again, once. Then the sequences due in the rotation (:mod:`.rotation`),
and the walk (:mod:`.walk`): the calls list, read for the contacts whose turn it is (each
once per sync). Every read goes through the child stream's own sync, so
records, BATCH files and errors are the same as when a call brings them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tap_skipcall.calls.paginator import answer_from
from tap_skipcall.calls.rows import parse_timestamp
from tap_skipcall.freshness.rotation import due_for_refresh
from tap_skipcall.network.body import json_body

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime, timedelta

    import requests
    from singer_sdk.helpers.types import Context

    from tap_skipcall.client.children import SkipcallChildStream
    from tap_skipcall.freshness.walk import DueArc

logger = logging.getLogger("tap-skipcall")


class CallsList(Protocol):
    """What the refresher needs of the calls stream."""

    @property
    def config(self) -> Mapping[str, Any]:
        """The tap's settings."""

    def page_of_calls(self, number: int) -> requests.Response:
        """One page of the list, newest first in the wire form the sync found."""

    def get_child_context(self, record: dict[str, Any], context: Context | None) -> Context:
        """What the children of a call are read for."""


@runtime_checkable
class Watched(Protocol):
    """A child stream that keeps watch lists of unfinished children."""

    def watched(self) -> list[str]:
        """Every parent whose child to read again."""

    def has_work_for(self, context: Context) -> bool:
        """Whether this sync has not read it yet."""

    def sync(self, context: Context | None = None) -> None:
        """The SDK's sync of one parent."""


@runtime_checkable
class Rotated(Protocol):
    """A child stream re-read in rotation (sequence contacts)."""

    def read_at(self) -> dict[str, datetime]:
        """When each parent was last read."""

    def has_work_for(self, context: Context) -> bool:
        """Whether this sync has not read it yet."""

    def sync(self, context: Context | None = None) -> None:
        """The SDK's sync of one parent."""


class Refresher:
    """Reads again what changed without its call, for the child streams in use."""

    def __init__(
        self, calls: CallsList, children: Mapping[str, SkipcallChildStream], now: datetime
    ) -> None:
        self.calls = calls
        self.children = children
        self.now = now

    def read_unfinished(self, watched: list[Watched]) -> int:
        """Read each unfinished recording and transcription again, once; the reads made."""
        return sum(
            sync_once(child, {"call_id": call_id})
            for child in watched
            for call_id in child.watched()
        )

    def walk(self, due: DueArc, *, synced_since: str | None = None) -> int:
        """Read the whole calls list; re-read the contacts of ``due`` met there. Pages read.

        The list's order does not matter, only that every call is met: when the list got
        shorter between two pages (calls left it), rows may have moved up past the page
        boundary, so the page before is read again. Calls updated before ``synced_since``
        (``start_date``) were never synced: their contacts are not read.
        """
        since = parse_timestamp(synced_since)
        contacts = self.children["contacts"]
        size = int(self.calls.config["page_size"])
        number, pages, total, resume_after = 1, 0, None, None
        while True:
            payload = json_body(self.calls.page_of_calls(number))
            pages += 1
            answer = answer_from(payload)
            for call, row in zip(payload["data"], answer.rows, strict=True):
                context = self.calls.get_child_context(call, None)
                synced = since is None or row.at is None or row.at >= since
                if synced and due_contact(context, due):
                    sync_once(contacts, context)
            shrank = total is not None and answer.total is not None and answer.total < total
            total = answer.total if answer.total is not None else total
            size = answer.limit or size
            if resume_after is not None:
                number, resume_after = resume_after, None  # the page read again: go on
            elif shrank and number > 1:
                number, resume_after = number - 1, number
                continue
            last = number * size >= total if total is not None else len(answer.rows) < size
            if not answer.rows or last:
                return pages
            number += 1

    def rotate_sequences(
        self, sequences: Rotated, *, interval: timedelta, period: timedelta
    ) -> int:
        """Read again the sequences due in the rotation; the reads made."""
        due = due_for_refresh(sequences.read_at(), now=self.now, interval=interval, period=period)
        return sum(sync_once(sequences, {"sequence_id": sequence_id}) for sequence_id in due)


def due_contact(context: Context, due: DueArc | None) -> bool:
    """Whether the walk re-reads the contact of this call's context in this run."""
    contact_id = context.get("contact_id")
    return due is not None and contact_id is not None and due.holds(str(contact_id))


def sync_once(child: Watched | Rotated | SkipcallChildStream, context: Context) -> int:
    """The child's own sync for this parent, unless this sync read it already; reads made."""
    if not child.has_work_for(context):
        return 0
    child.sync(context=context)
    return 1
