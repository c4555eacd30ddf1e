"""Streams read whole every run: one table version, ``ACTIVATE_VERSION`` after the last record.

The SDK writes a full-table stream's ``ACTIVATE_VERSION`` *before* its records, so a loader
that acts on it (target-postgres, target-snowflake) marks the whole table deleted at once
and a run that dies mid-stream leaves it so. Here it follows the last record: rows of users
or members removed in Skipcall are marked deleted, and a run that dies deletes nothing.
BATCH files carry no version, so these (small) streams write RECORD messages when versions
are on.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from tap_skipcall.client.base import SkipcallStream
from tap_skipcall.sdk_private import activate_version, set_table_version

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from singer_sdk.helpers._batch import BatchConfig
    from singer_sdk.helpers.types import Context


class ReadWhole(SkipcallStream):
    """A stream whose every run reads all of it (or, for a child, all of it per parent).

    A child read whole is versioned by its :class:`VersionedFullTable` parent.
    """

    @override
    def get_batch_config(self, config: Mapping[str, Any]) -> BatchConfig | None:
        """RECORD messages when versions are on: a BATCH row carries no version."""
        return None if self.versions_on else super().get_batch_config(config)


class VersionedFullTable(ReadWhole):
    """A top-level stream read whole every run, versioned with the children read with it."""

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The records with one version; then ``ACTIVATE_VERSION`` for each stream read whole."""
        if not self.versions_on:
            yield from super().get_records(context)
            return
        version = int(time.time() * 1000)  # milliseconds: runs a second apart differ
        streams: list[SkipcallStream] = [self, *self._children_read_whole]
        for stream in streams:
            set_table_version(stream, version)
        yield from super().get_records(context)  # children are synced as each record goes
        for stream in streams:
            if stream.selected:
                activate_version(stream, version)

    @property
    def _children_read_whole(self) -> list[SkipcallStream]:
        return [
            child
            for child in self.child_streams
            if isinstance(child, ReadWhole) and (child.selected or child.has_selected_descendents)
        ]
