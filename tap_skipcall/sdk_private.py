"""Every use of a private singer-sdk method or attribute, in one place.

The SDK offers no public hook for these needs. Each method is pinned by
``tests/unit/test_sdk_private.py``, which fails if the SDK renames a method or changes its
signature, so an SDK upgrade cannot silently turn one of them into dead code.
"""

from __future__ import annotations

import inspect
from functools import cached_property
from typing import TYPE_CHECKING, Any

import singer_sdk.singerlib as singer
from singer_sdk import Stream, Tap
from singer_sdk.helpers._util import utc_now
from singer_sdk.streams import RESTStream

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    import requests
    from singer_sdk.helpers.types import Context

#: (class, method, parameters after ``self``) for each private method used here.
PRIVATE_METHODS: list[tuple[type, str, list[str]]] = [
    (Tap, "_validate_config", ["raise_errors"]),
    (Stream, "_write_schema_message", []),
    (Stream, "_write_state_message", []),
    (Stream, "_increment_stream_state", ["latest_record", "context"]),
    (Stream, "_generate_record_messages", ["record"]),
    (RESTStream, "_request", ["prepared_request", "context"]),
    (Stream, "_write_activate_version_message", ["full_table_version"]),
]
#: Private SDK attributes used here, checked to exist on a stream.
PRIVATE_ATTRIBUTES = ["_stream_version"]


def signature_of(cls: type, name: str) -> list[str]:
    """The parameter names of ``cls.name`` after ``self``."""
    method: Callable[..., object] = getattr(cls, name)
    return list(inspect.signature(method).parameters)[1:]


def sdk_request(
    stream: RESTStream[Any],
) -> Callable[[requests.PreparedRequest, Context | None], requests.Response]:
    """The SDK's one request (authenticated, timed out, in its duration metric, validated).

    Private in the SDK (``RESTStream._request``); requests started ahead and probes send
    through it, with the SDK's retries, rather than through a copy of it.
    """
    return stream._request


class PlainSentenceConfig(Tap):
    """Config validation that first says, in plain sentences, what is wrong."""

    def config_problems(self) -> list[str]:
        """Problems to report before the SDK's JSON-schema check (overridden by the tap)."""
        return []

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The tap's own sentences first (they never echo the key), then the JSON schema.

        Private in the SDK (``Tap._validate_config``); overridden because the SDK's schema
        errors quote the offending value, which can be the API key.
        """
        from singer_sdk.exceptions import ConfigValidationError

        problems = self.config_problems()
        if problems and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=problems)
        return problems or super()._validate_config(raise_errors=raise_errors)


class SchemaOncePerRun(Stream):
    """A child stream that sends its SCHEMA once per run, not once per parent record."""

    def _write_schema_message(self) -> None:
        """Private in the SDK; the SDK calls it for every parent, the schema never changes."""
        if not self.__dict__.get("_schema_sent"):
            super()._write_schema_message()
            self._schema_sent = True


def set_table_version(stream: Stream, version: int | None) -> None:
    """The table version the stream's RECORD messages carry (None: none).

    Private in the SDK (``Stream._stream_version``), which sets it only for a full-table
    stream and writes ``ACTIVATE_VERSION`` *before* its records: a run that dies mid-stream
    would leave the table marked deleted. The tap sets it itself and writes the message
    after the last record (:func:`activate_version`).
    """
    stream._stream_version = version


def activate_version(stream: Stream, version: int) -> None:
    """Write ``ACTIVATE_VERSION``: rows of older versions are gone (private in the SDK)."""
    stream._write_activate_version_message(version)


def write_state_now(stream: Stream) -> None:
    """Emit a STATE message with the stream's state as it is (the SDK dedups repeats).

    Private in the SDK (``Stream._write_state_message``); the calls stream uses it to
    checkpoint after every page rather than every 10,000 records.
    """
    stream.state_manager.is_flushed = False
    stream._write_state_message()


class OwnBookmark(Stream):
    """A stream that writes its own bookmark: the SDK's per-record max-so-far is skipped."""

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        """Nothing: the SDK's private max-so-far per record is unused by a newest-first stream.

        It cost about a tenth of the calls stream's time in profiles.
        """


class NoSelectionWalk(Stream):
    """Records written without the SDK's per-record walk when every property is selected."""

    @cached_property
    def _every_property_selected(self) -> bool:
        return all(selected for crumb, selected in self.mask.items() if crumb)

    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[singer.RecordMessage, None, None]:
        """RECORD messages as the SDK makes them, less its walk when it would change nothing.

        The SDK's private method walks every record to drop deselected properties (about
        15 % of a backfill's time in profiles) and to conform types, which the tap turns off.
        """
        if not self._every_property_selected:
            yield from super()._generate_record_messages(record)
            return
        time_extracted = utc_now()  # one moment per record, as the SDK's body has it
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=time_extracted,
                )
