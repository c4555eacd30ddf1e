"""Every use of a private singer-sdk method or attribute, in one place.

The SDK offers no public hook for these needs. Each method is pinned by
``tests/unit/test_sdk_private.py``, which fails if the SDK renames a method or changes its
signature, so an SDK upgrade cannot silently turn one of them into dead code.

They are functions: those the SDK calls in place of its own private methods are put on a
class by a class decorator here (``@records_without_selection_walk`` …), so that no other
module names a private method and no stream inherits a mixin for them.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, TypeVar

import singer_sdk.singerlib as singer
from singer_sdk import Stream, Tap
from singer_sdk.helpers._util import utc_now
from singer_sdk.streams import RESTStream

if TYPE_CHECKING:
    from collections.abc import Callable, Generator
    from types import FrameType

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
    (Tap, "_handle_termination", ["signum", "frame"]),
]
#: Private SDK attributes used here, checked to exist on a stream.
PRIVATE_ATTRIBUTES = ["_stream_version"]
#: Private SDK attributes used here, checked to exist on the tap's class.
PRIVATE_TAP_ATTRIBUTES = ["_env_var_config"]

#: How long a signal's handler waits for the tap's ``stopped_by`` (its run report).
STOPPED_BY_SECONDS = 5.0

StreamType = TypeVar("StreamType", bound=type[Stream])
TapType = TypeVar("TapType", bound=type[Tap])

#: What the replaced methods remember on a stream, in the stream's own ``__dict__``.
_SCHEMA_SENT = "_sdk_private_schema_sent"
_EVERY_PROPERTY_SELECTED = "_sdk_private_every_property_selected"


def signature_of(cls: type, name: str) -> list[str]:
    """The parameter names of ``cls.name`` after ``self``."""
    method: Callable[..., object] = getattr(cls, name)
    return list(inspect.signature(method).parameters)[1:]


# -- functions the tap calls -------------------------------------------------------------


def sdk_request(
    stream: RESTStream[Any],
) -> Callable[[requests.PreparedRequest, Context | None], requests.Response]:
    """The SDK's one request (authenticated, timed out, in its duration metric, validated).

    Private in the SDK (``RESTStream._request``); requests started ahead and probes send
    through it, with the SDK's retries, rather than through a copy of it.
    """
    return stream._request


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


def flush_messages(stream: Stream) -> None:
    """Write every message the tap's writer holds (``Stream._tap`` is private in the SDK).

    The tap's writer holds RECORD messages until another message comes
    (:mod:`tap_skipcall.output`); a stream's records end with a flush.
    """
    flush = getattr(stream._tap.message_writer, "flush", None)
    if flush is not None:
        flush()


def settings_from_environment(tap_class: type[Tap]) -> dict[str, Any]:
    """The settings the environment gives (``TAP_SKIPCALL_…``), as the SDK reads them.

    Private in the SDK (``PluginBase._env_var_config``); the command line checks them with
    the files' before any mode runs.
    """
    return dict(tap_class._env_var_config)


# -- the SDK's private methods, replaced on a class -----------------------------------------


def exit_codes_on_signals(tap_class: TapType) -> TapType:
    """SIGINT and SIGTERM end a run at once, as shells report it (130, 143), after its STATE.

    Replaces ``Tap._handle_termination`` (private in the SDK), which writes the tap's state
    and exits 0, so that an orchestrator would record an interrupted run as a success. The
    state it writes holds only what is true: every checkpoint is written once its rows are.
    Then the process ends at once: a request thread paused for the rate limit or between
    retries is not waited for, nor are exit handlers run (a signal during them would print a
    traceback). A second signal while the first is honoured (Ctrl-C under Meltano sends
    SIGINT, then Meltano a SIGTERM) is ignored. The tap class may provide
    ``stopped_by(signal_name)``, called after the state is written (the run's report).
    """
    sdk_handle = tap_class._handle_termination
    stopping = threading.Event()

    def _handle_termination(tap: Tap, signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            return
        stopping.set()
        name = signal.Signals(signum).name
        tap.logger.warning(
            "Stopped by %s: the state written so far is kept, and the next run goes on from "
            "its last checkpoint.",
            name,
        )
        with contextlib.suppress(SystemExit):
            sdk_handle(tap, signum, frame)  # the tap's state, then its exit 0
        stopped_by = getattr(tap, "stopped_by", None)
        if stopped_by is not None:  # in a thread of its own, waited for a while: the main
            # thread may hold a lock it needs, having been interrupted anywhere
            def report() -> None:
                try:
                    stopped_by(name)
                except Exception as error:  # the stop goes on: the report is what is lost
                    tap.logger.warning("The run's report could not be finished: %s", error)

            reporter = threading.Thread(target=report, daemon=True)
            reporter.start()
            reporter.join(STOPPED_BY_SECONDS)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        logging.shutdown()
        os._exit(128 + signum)

    setattr(tap_class, "_handle_termination", _handle_termination)  # noqa: B010
    return tap_class


def plain_sentences_first(tap_class: TapType) -> TapType:
    """The tap's own sentences for bad settings first (they never echo the key), then the SDK's.

    Replaces ``Tap._validate_config`` (private in the SDK), whose JSON-schema errors quote
    the offending value, which can be the API key. The tap class provides
    ``config_problems() -> list[str]``.
    """
    sdk_validate = tap_class._validate_config

    def _validate_config(tap: Tap, *, raise_errors: bool = True) -> list[str]:
        from singer_sdk.exceptions import ConfigValidationError

        problems: list[str] = tap.config_problems()  # type: ignore[attr-defined]
        if problems:  # also where the SDK validates without raising (discovery)
            raise ConfigValidationError("Config validation failed", errors=problems)
        return sdk_validate(tap, raise_errors=raise_errors)

    setattr(tap_class, "_validate_config", _validate_config)  # noqa: B010
    return tap_class


def schema_once_per_run(stream_class: StreamType) -> StreamType:
    """A child stream sends its SCHEMA once per run, not once per parent record.

    Replaces ``Stream._write_schema_message`` (private in the SDK), which the SDK calls for
    every parent; the schema never changes within a run.
    """
    sdk_write = stream_class._write_schema_message

    def _write_schema_message(stream: Stream) -> None:
        if not vars(stream).get(_SCHEMA_SENT):
            sdk_write(stream)
            vars(stream)[_SCHEMA_SENT] = True

    setattr(stream_class, "_write_schema_message", _write_schema_message)  # noqa: B010
    return stream_class


def own_bookmark(stream_class: StreamType) -> StreamType:
    """A stream that writes its own bookmark: the SDK's per-record max-so-far is skipped.

    Replaces ``Stream._increment_stream_state`` (private in the SDK), unused by a
    newest-first stream; it cost about a tenth of the calls stream's time in profiles.
    """

    def _increment_stream_state(
        stream: Stream, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        """Nothing: the calls stream's state is written by its own state keeper."""

    setattr(stream_class, "_increment_stream_state", _increment_stream_state)  # noqa: B010
    return stream_class


def records_without_selection_walk(stream_class: StreamType) -> StreamType:
    """RECORD messages as the SDK makes them, less its walk when it would change nothing.

    Replaces ``Stream._generate_record_messages`` (private in the SDK), which walks every
    record to drop deselected properties (about 15 % of a backfill's time in profiles) and
    to conform types, which the tap turns off.
    """
    sdk_generate = stream_class._generate_record_messages

    def _generate_record_messages(
        stream: Stream, record: dict[str, Any]
    ) -> Generator[singer.RecordMessage, None, None]:
        selected = vars(stream).get(_EVERY_PROPERTY_SELECTED)
        if selected is None:  # once per stream: the catalog does not change during a run
            selected = all(chosen for crumb, chosen in stream.mask.items() if crumb)
            vars(stream)[_EVERY_PROPERTY_SELECTED] = selected
        if not selected:
            yield from sdk_generate(stream, record)
            return
        time_extracted = utc_now()  # one moment per record, as the SDK's body has it
        for stream_map in stream.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=stream._stream_version,
                    time_extracted=time_extracted,
                )

    setattr(stream_class, "_generate_record_messages", _generate_record_messages)  # noqa: B010
    return stream_class
