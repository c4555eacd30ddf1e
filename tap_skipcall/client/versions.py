"""Streams read whole every run: one table version, ``ACTIVATE_VERSION`` after the last record.

The SDK writes a full-table stream's ``ACTIVATE_VERSION`` *before* its records, so a loader
that acts on it (target-postgres, target-snowflake) marks the whole table deleted at once
and a run that dies mid-stream leaves it so. Here it follows the last record: rows of users
or members removed in Skipcall are marked deleted, and a run that dies deletes nothing.
BATCH files carry no version, so these (small) streams write RECORD messages when versions
are on (``SkipcallStream.get_batch_config``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tap_skipcall.sdk_private import activate_version, set_table_version

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk import Stream


def with_one_version(stream: Stream, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The records of a stream read whole, with one version; then ``ACTIVATE_VERSION``.

    Its children read whole (members of each workspace) carry the same version and are
    activated with it: they are synced as each record goes.
    """
    if not bool(stream.config.get("emit_activate_version_messages")):
        yield from records
        return
    # Milliseconds: runs a second apart differ. With `accounts`, the run's one version, so
    # that one ACTIVATE_VERSION can follow every account's read (`tap_skipcall.accounts`).
    version = getattr(stream, "run_context", None) and stream.run_context.version  # type: ignore[attr-defined]
    version = version or int(time.time() * 1000)
    streams = [stream, *read_whole_children(stream)]
    for each in streams:
        set_table_version(each, version)
    yield from records
    for each in streams:
        if each.selected:
            activate_version(each, version)


def read_whole_children(stream: Stream) -> list[Stream]:
    """The children of a stream read whole per parent, in use this run."""
    return [
        child
        for child in stream.child_streams
        if getattr(child, "read_whole", False)
        and (child.selected or child.has_selected_descendents)
    ]
