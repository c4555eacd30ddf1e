"""What hangs off a call: its recording and transcription, its contact, its sequence.

Recordings and transcriptions not final when read are watched (read again by later syncs,
:mod:`tap_skipcall.freshness.unfinished`), sequences re-read in rotation
(:mod:`tap_skipcall.freshness.rotation`); both keep their lists through
:mod:`tap_skipcall.freshness.child_state`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from singer_sdk import StreamSchema

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    import requests
    from singer_sdk.helpers.types import Context

from tap_skipcall import clock
from tap_skipcall.client.base import SCHEMAS
from tap_skipcall.client.children import SkipcallChildStream
from tap_skipcall.client.pages import SkipcallListStream
from tap_skipcall.freshness import child_state
from tap_skipcall.freshness.unfinished import (
    HORIZON,
    NOT_ATTACHED,
    UNFINISHED,
    attachment_deadline,
    recording_unfinished,
    transcription_unfinished,
)
from tap_skipcall.network.body import json_body
from tap_skipcall.streams.calls import CallsStream

#: The column SDK loaders keep for soft deletes.
DELETED_AT = "_sdc_deleted_at"


class WatchedObjectStream(SkipcallChildStream):
    """One object per call, read again by later syncs until it is final (a watch list)."""

    #: The state keys of this stream's watch lists.
    watch_list_names: tuple[str, ...] = (UNFINISHED,)

    def after_read(self, key: str, record: dict[str, Any] | None, context: Context) -> None:
        """Update the watch lists once ``key``'s object was read (None: 404)."""

    def watched(self) -> list[str]:
        """Every call whose object this sync reads again."""
        return child_state.watched(self, self.watch_list_names)

    def _watch_until_final(self, key: str, *, unfinished: bool, now: datetime) -> None:
        """Keep ``key`` on the unfinished list while its child is not final (7 days at most)."""
        watch, gave_up = child_state.watch_list(self, UNFINISHED).after_read(
            key, unfinished=unfinished, deadline=now + HORIZON, now=now
        )
        child_state.keep_watch_list(self, UNFINISHED, watch)
        if gave_up:
            self.logger.warning("%s: gave up on %s, still not final after 7 days.", self.name, key)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The object; then whether it is final (off the lists) or to read again (on them).

        The child of a deleted call is never read again: it went with its call.
        """
        if context is None or not self.has_work_for(context):
            return
        records = list(super().get_records(context))
        record = records[0] if records else None
        key = str(context[self.parent_key])
        if context.get("deleted_at"):
            for name in self.watch_list_names:
                child_state.keep_watch_list(
                    self, name, child_state.watch_list(self, name).without(key)
                )
        else:
            self.after_read(key, record, context)
        yield from records

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """A deleted call's child carries the call's ``deletedAt`` in ``_sdc_deleted_at``."""
        row[DELETED_AT] = (context or {}).get("deleted_at")
        return super().post_process(row, context)


class CallRecordingsStream(WatchedObjectStream):
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
            yield {"call_id": record["call_id"], "deleted_at": (context or {}).get("deleted_at")}

    watch_list_names = (UNFINISHED, NOT_ATTACHED)

    @override
    def after_read(self, key: str, record: dict[str, Any] | None, context: Context) -> None:
        """Watched while not attached (for an hour), or while its transcription runs."""
        now = clock.now()
        deadline = attachment_deadline(context.get("ended_at"), now)
        absent, _ = child_state.watch_list(self, NOT_ATTACHED).after_read(
            key, unfinished=record is None, deadline=deadline, now=now
        )
        child_state.keep_watch_list(self, NOT_ATTACHED, absent)
        if record is not None:
            self._watch_until_final(key, unfinished=recording_unfinished(record), now=now)

    @override
    def answered_ahead(
        self, response: requests.Response, context: Context | None
    ) -> requests.Response:
        """Once a recording started ahead is answered, start its transcription too."""
        if response.status_code == 200 and json_body(response).get("hasTranscription"):
            for child in self.child_streams:
                if isinstance(child, SkipcallChildStream) and child.in_use and context:
                    child.fetch_ahead({"call_id": context["call_id"]})
        return response


class CallTranscriptionsStream(WatchedObjectStream):
    """``GET /v1/calls/{id}/transcription``, asked only when the recording has one."""

    name = "call_transcriptions"
    path = "/v1/calls/{call_id}/transcription"
    parent_stream_type = CallRecordingsStream
    parent_key = "call_id"
    parent_field = "call_id"
    primary_keys = ("id",)
    selected_by_default = False
    schema = StreamSchema(SCHEMAS)

    @override
    def after_read(self, key: str, record: dict[str, Any] | None, context: Context) -> None:
        """Watched until ``COMPLETED`` or ``FAILED``, or 7 days."""
        self._watch_until_final(key, unfinished=transcription_unfinished(record), now=clock.now())


class ContactsStream(SkipcallChildStream):
    """``GET /v1/contacts/{id}`` once per distinct known contact met in the synced calls."""

    name = "contacts"
    path = "/v1/contacts/{contact_id}"
    parent_stream_type = CallsStream
    parent_key = "contact_id"
    primary_keys = ("id",)
    selected_by_default = False  # up to one request per call
    schema = StreamSchema(SCHEMAS)


class SequenceContactsStream(SkipcallListStream, SkipcallChildStream):
    """``GET /v1/sequences/{id}/contacts`` for each distinct ``sequenceId`` met in calls."""

    name = "sequence_contacts"
    path = "/v1/sequences/{sequence_id}/contacts"
    parent_stream_type = CallsStream
    parent_key = "sequence_id"
    parent_field = "sequence_id"
    primary_keys = ("sequence_id", "id")
    narrows_by_workspace = False
    schema = StreamSchema(SCHEMAS)

    def read_at(self) -> dict[str, datetime]:
        """When each sequence's contacts were last read (see :mod:`.freshness.rotation`)."""
        return child_state.sequences_read_at(self)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The sequence's contacts; then when they were read, for the rotation."""
        if context is None or not self.has_work_for(context):
            return
        yield from super().get_records(context)
        child_state.sequence_read(self, str(context["sequence_id"]), clock.now())
