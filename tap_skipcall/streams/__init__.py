"""The streams the tap offers: one class per endpoint, and :data:`STREAM_TYPES`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_skipcall.streams.account import UsersStream, WorkspaceMembersStream, WorkspacesStream
from tap_skipcall.streams.call_children import (
    CallRecordingsStream,
    CallTranscriptionsStream,
    ContactsStream,
    SequenceContactsStream,
)
from tap_skipcall.streams.calls import CallsStream
from tap_skipcall.streams.stats import (
    StatusRepartitionStream,
    TagRepartitionStream,
    TeamStatsStream,
)

if TYPE_CHECKING:
    from tap_skipcall.client.base import SkipcallStream

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


def _declared(stream_type: type[Any], attribute: str) -> Any:
    """A class attribute each stream declares (``name`` is an instance one to type checkers)."""
    return next(vars(cls)[attribute] for cls in stream_type.__mro__ if attribute in vars(cls))


#: The streams' names, and each child's parent, in the order of :data:`STREAM_TYPES`.
STREAM_NAMES: tuple[str, ...] = tuple(_declared(t, "name") for t in STREAM_TYPES)
PARENT_OF: dict[str, str] = {
    _declared(t, "name"): _declared(t.parent_stream_type, "name")
    for t in STREAM_TYPES
    if t.parent_stream_type is not None
}
