"""What hangs off a call: its recording and transcription, its contact, its sequence."""

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
from tap_skipcall.calls.rows import parse_timestamp
from tap_skipcall.calls.state import iso
from tap_skipcall.calls.stream import CallsStream
from tap_skipcall.client.base import SCHEMAS
from tap_skipcall.client.children import (
    SkipcallChildStream,
    SkipcallObjectStream,
    WatchedObjectStream,
)
from tap_skipcall.client.pages import SkipcallListStream
from tap_skipcall.freshness.unfinished import (
    HORIZON,
    NOT_ATTACHED,
    UNFINISHED,
    attachment_deadline,
    recording_unfinished,
    transcription_unfinished,
)
from tap_skipcall.network.body import json_body


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
            yield {"call_id": record["call_id"]}

    watch_list_names = (UNFINISHED, NOT_ATTACHED)

    @override
    def after_read(self, key: str, record: dict[str, Any] | None, context: Context) -> None:
        """Watched while not attached (for an hour), or while its transcription runs."""
        now = clock.now()
        deadline = attachment_deadline(context.get("ended_at"), now)
        absent, _ = self.watch_list(NOT_ATTACHED).after_read(
            key, unfinished=record is None, deadline=deadline, now=now
        )
        self.keep(NOT_ATTACHED, absent)
        if record is not None:
            watch, gave_up = self.watch_list().after_read(
                key, unfinished=recording_unfinished(record), deadline=now + HORIZON, now=now
            )
            self.keep(UNFINISHED, watch)
            if gave_up:
                self.logger.warning(
                    "%s: gave up on %s, still not final after 7 days.", self.name, key
                )

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
        now = clock.now()
        watch, gave_up = self.watch_list().after_read(
            key, unfinished=transcription_unfinished(record), deadline=now + HORIZON, now=now
        )
        self.keep(UNFINISHED, watch)
        if gave_up:
            self.logger.warning("%s: gave up on %s, still not final after 7 days.", self.name, key)


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

    #: The state key: sequence id → when its contacts were last read.
    READ_AT = "refreshed_at"

    def read_at(self) -> dict[str, datetime]:
        """When each sequence's contacts were last read (see :mod:`.freshness.rotation`)."""
        saved = self.stream_state.get(self.READ_AT)
        stamps = {str(k): parse_timestamp(v) for k, v in (saved or {}).items()}
        return {k: v for k, v in stamps.items() if v is not None}

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The sequence's contacts; then when they were read, for the walk."""
        if context is None or not self.has_work_for(context):
            return
        yield from super().get_records(context)
        read_at = dict(self.stream_state.get(self.READ_AT) or {})
        read_at[str(context["sequence_id"])] = iso(clock.now())
        self.stream_state[self.READ_AT] = read_at
