"""What the children of one call read: one decision, for the sync and the requests ahead.

A call's children (its recording and transcription, its contact, its sequence's contacts)
are read when the call changed since the bookmark. A call met unchanged (a complete read
writes every call again) has its children already; only its contact may be due, when the
contacts refresh's turn came to it (:mod:`tap_skipcall.freshness.walk`). :meth:`ChildFanOut.plan`
decides both; the SDK's child sync and the requests started ahead follow the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from singer_sdk.helpers.types import Context


class ChildReader(Protocol):
    """A child stream as the fan-out sees it."""

    def has_work_for(self, context: Context) -> bool:
        """Whether syncing this context would cost a request worth making."""

    def fetch_ahead(self, context: Context | None, token: Any = None) -> None:
        """Start the request the SDK will make for this context."""


@dataclass(frozen=True)
class ChildReads:
    """The context the children of one call are synced with, and the children that read."""

    context: Context
    readers: tuple[ChildReader, ...]


def child_context_of(call: Mapping[str, Any]) -> Context:
    """What the children of a call are read for: the call, its contact, its sequence."""
    contact = call.get("contact") or {}
    return {
        "call_id": call["id"],
        "contact_id": None if contact.get("isUnknown") else contact.get("id"),
        "sequence_id": call.get("sequenceId"),
        "ended_at": call.get("endedAt"),  # how long a missing recording may still come
        "deleted_at": call.get("deletedAt"),  # its recording and transcription go with it
    }


def contact_only(context: Context) -> Context:
    """The context that reads a call's contact and none of its other children."""
    return {"call_id": None, "contact_id": context["contact_id"], "sequence_id": None}


@dataclass(frozen=True)
class ChildFanOut:
    """Which children of a call read, and with what context.

    ``children`` are the child streams in use this run; ``contacts`` the contacts stream if
    in use; ``unchanged`` says whether a call is written again unchanged (its children read
    when it changed); ``contact_due`` whether the refresh re-reads a contact this run (None:
    no refresh this run).
    """

    children: Sequence[ChildReader]
    contacts: ChildReader | None
    unchanged: Callable[[Mapping[str, Any]], bool]
    contact_due: Callable[[str], bool] | None = None

    def plan(self, call: Mapping[str, Any]) -> ChildReads | None:
        """The children of this call that read, and their context (None: none reads)."""
        if not self.children:
            return None
        context = child_context_of(call)
        if self.unchanged(call):
            contact = context["contact_id"]
            if self.contacts is None or self.contact_due is None or contact is None:
                return None
            if not self.contact_due(str(contact)):
                return None
            context = contact_only(context)
            readers: tuple[ChildReader, ...] = (self.contacts,)
        else:
            readers = tuple(self.children)
        readers = tuple(child for child in readers if child.has_work_for(context))
        return ChildReads(context, readers) if readers else None

    def contexts(self, call: Mapping[str, Any]) -> Iterator[Context]:
        """The context to hand the SDK's child sync for this call, if any child reads."""
        reads = self.plan(call)
        if reads is not None:
            yield reads.context

    def fetch_ahead(self, calls: Iterable[Mapping[str, Any]]) -> None:
        """Start the child requests of these calls, which the SDK makes as it writes them."""
        for call in calls:
            reads = self.plan(call)
            if reads is not None:
                for child in reads.readers:
                    child.fetch_ahead(reads.context)
