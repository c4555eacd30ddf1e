"""The children of calls: read for each call written, and started ahead of need.

They are read again later when they change without their call (:mod:`tap_skipcall.freshness`).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tap_skipcall import clock
from tap_skipcall.calls.checkpoints import HeldBackState
from tap_skipcall.calls.rows import Row
from tap_skipcall.client.children import SkipcallChildStream, WatchedObjectStream
from tap_skipcall.freshness.refresher import Refresher, Rotated, due_contact, sync_once
from tap_skipcall.freshness.walk import WALK, DueArc, Walk, due_this_run

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from singer_sdk.helpers.types import Context


class CallChildren(HeldBackState):
    """The children of calls: which to read for a call, ahead of need, and again later."""

    @cached_property
    def _children_in_use(self) -> list[SkipcallChildStream]:
        return [
            child
            for child in self.child_streams
            if isinstance(child, SkipcallChildStream) and child.in_use
        ]

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

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        """Hand a call to its children only when one of them has something to read."""
        children = self._children_in_use
        if not children:
            return
        if self._unchanged(record):
            due = self._due_contact_context(record)
            if due is not None:
                sync_once(self.descendants_in_use["contacts"], due)
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

    def _unchanged(self, call: Mapping[str, Any]) -> bool:
        """Whether a call is written only for a complete read, unchanged since the bookmark.

        Its children were read when it changed.
        """
        saved = self.saved
        return self.plan.complete_read and saved.has_bookmark and saved.bookmark.holds(Row.of(call))

    def _fetch_children_ahead(self, calls: list[dict[str, Any]]) -> None:
        """Start the child requests of these calls, which the SDK makes as it writes them."""
        children = self._children_in_use
        if not children or not self.transport.concurrent:
            return
        for call in calls:
            if self._unchanged(call):
                due = self._due_contact_context(call)
                contacts = self.descendants_in_use.get("contacts")
                if due is not None and contacts is not None and contacts.has_work_for(due):
                    contacts.fetch_ahead(due)
                continue
            context = self.get_child_context(call, None)
            for child in children:
                if child.has_work_for(context):
                    child.fetch_ahead(context)

    @cached_property
    def _period(self) -> timedelta | None:
        days = self.config["contacts_max_age_days"]
        return timedelta(days=days) if days and self.saved.has_bookmark else None

    @cached_property
    def _interval(self) -> timedelta:
        """The time since the last run: how far away the next one probably is."""
        last = self.saved.last_run_at
        return self.started_at - last if last is not None else self._period or timedelta(0)

    @cached_property
    def _walk(self) -> Walk:
        return Walk.from_state(self.stream_state.get(WALK), self.started_at)

    @cached_property
    def walk_due(self) -> DueArc | None:
        """The contacts whose turn it is in this run (None: no walk this run)."""
        if self._period is None or "contacts" not in self.descendants_in_use:
            return None
        return due_this_run(
            self._walk, now=self.started_at, interval=self._interval, period=self._period
        )

    def _due_contact_context(self, call: Mapping[str, Any]) -> Context | None:
        """The context to read a call's contact in, if the walk's turn came to it this run.

        A complete read meets every call: the walk reads what it meets there.
        """
        if self.walk_due is None:  # also: contacts not in use
            return None
        context = self.get_child_context(dict(call), None)
        return context if due_contact(context, self.walk_due) else None

    def _refresh_children(self, *, met_every_call: bool) -> Walk | None:
        """Read again what changed without its call (see :mod:`tap_skipcall.freshness`).

        ``met_every_call``: this run wrote every call of the list, so the contacts whose
        turn it is were read on the way and the walk need not read the list again.
        """
        children = self.descendants_in_use
        if not children:
            return None
        refresher = Refresher(self, children, clock.now())
        refresher.read_unfinished(
            [c for c in children.values() if isinstance(c, WatchedObjectStream)]
        )
        period, interval = self._period, self._interval
        if period is None:
            return Walk(self.started_at)  # a first sync read them all
        sequences = children.get("sequence_contacts")
        if sequences is not None:
            if not isinstance(sequences, Rotated):
                msg = f"{type(sequences).__name__} cannot be read in rotation"
                raise TypeError(msg)
            refresher.rotate_sequences(sequences, interval=interval, period=period)
        due = self.walk_due
        if due is None:
            return self._walk
        if met_every_call:
            self.logger.info(
                "contacts: %.0f %% of them were read again, met in the complete read of calls.",
                100 * due.share,
            )
        else:
            pages = refresher.walk(due, synced_since=self.config.get("start_date"))
            self.logger.info(
                "contacts: the walk read %s pages of calls for the %.0f %% of contacts due.",
                f"{pages:,}",
                100 * due.share,
            )
        return self._walk.after(due, self.started_at)
