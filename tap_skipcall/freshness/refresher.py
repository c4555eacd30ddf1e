"""The reads that keep children fresh, at the end of a sync of calls.

First the watch lists (:mod:`.unfinished`): each recording and transcription still
unfinished is read again, once. Then the sequences due in the rotation (:mod:`.rotation`),
and the walk (:mod:`.walk`): this run's share of the calls list, whose contacts are read
again (each once per sync). Every read goes through the child stream's own sync, so
records, BATCH files and errors are the same as when a call brings them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tap_skipcall.calls.paginator import answer_from
from tap_skipcall.freshness.rotation import due_for_refresh
from tap_skipcall.freshness.walk import (
    Walk,
    landed_at_or_above,
    landing_row,
    rows_this_run,
    take,
)
from tap_skipcall.network.body import json_body

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime, timedelta

    import requests
    from singer_sdk.helpers.types import Context

    from tap_skipcall.client.children import SkipcallChildStream

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

    def walk(self, walk: Walk, *, total: int, interval: timedelta, period: timedelta) -> Walk:
        """Pass the share of the walk due in this run; the walk as it then stands."""
        target = rows_this_run(walk, now=self.now, interval=interval, period=period, total=total)
        if target <= 0:
            return walk
        size = int(self.calls.config["page_size"])
        number = landing_row(walk, total) // size + 1
        landed, passed = False, 0
        while True:
            payload = json_body(self.calls.page_of_calls(number))
            answer = answer_from(payload)
            total = answer.total if answer.total is not None else total
            if not landed and number > 1 and not landed_at_or_above(walk, answer.rows):
                number -= 1  # rows left the list and moved up: step back
                continue
            landed = True
            start = (number - 1) * size
            walk, taken = take(walk, answer.rows, start, total, target - passed)
            for index in taken:
                self._read_contact_of(payload["data"][index])
            passed += len(taken)
            if not payload["data"] or (
                start + len(answer.rows) >= total and walk.rows_done >= total
            ):
                logger.info("contacts: a full pass of the walk down the calls list ended.")
                return Walk(self.now, total=total)
            if passed >= target:
                return walk
            number += 1

    def rotate_sequences(
        self, sequences: Rotated, *, interval: timedelta, period: timedelta
    ) -> int:
        """Read again the sequences due in the rotation; the reads made."""
        due = due_for_refresh(sequences.read_at(), now=self.now, interval=interval, period=period)
        return sum(sync_once(sequences, {"sequence_id": sequence_id}) for sequence_id in due)

    def _read_contact_of(self, call: dict[str, Any]) -> None:
        contacts = self.children.get("contacts")
        if contacts is not None:
            sync_once(contacts, self.calls.get_child_context(call, None))


def sync_once(child: Watched | Rotated | SkipcallChildStream, context: Context) -> int:
    """The child's own sync for this parent, unless this sync read it already; reads made."""
    if not child.has_work_for(context):
        return 0
    child.sync(context=context)
    return 1
