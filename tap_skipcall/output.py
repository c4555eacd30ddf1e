"""The Singer messages the tap writes: RECORD messages held, and written in one go.

The SDK's writer writes and flushes every message: a system call per record, about a
quarter of a backfill's CPU in profiles (orchestrators, and this machine, often set
``PYTHONUNBUFFERED``, so standard output buffers nothing itself). Records are held here, up
to :data:`HOLD_BYTES`; any other message (a STATE above all) is written with every record
held before it, and flushed. A target never sees a STATE before the records it claims, and
a run killed outright loses only records written after its last STATE, which the next run
sends again. Each top-level stream flushes the writer when its records end, by error too
(:meth:`tap_skipcall.client.base.SkipcallStream.get_records`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import singer_sdk.singerlib as singer
from singer_sdk.contrib.msgspec import MsgSpecWriter

if TYPE_CHECKING:
    from singer_sdk.singerlib import Message

#: Bytes of RECORD messages held before they are written.
HOLD_BYTES = 1 << 16


class RecordsHeldWriter(MsgSpecWriter):
    """msgspec's writer, holding RECORD messages until another message or 64 KiB."""

    def __init__(self) -> None:
        super().__init__()
        self._held = bytearray()

    def write_message(self, message: Message) -> None:
        """Hold a record; write every held record and any other message at once."""
        self._held += self.format_message(message)
        if isinstance(message, singer.RecordMessage) and len(self._held) < HOLD_BYTES:
            return
        self.flush()

    def flush(self) -> None:
        """Write what is held, and flush standard output."""
        if self._held:
            sys.stdout.buffer.write(self._held)
            self._held.clear()
        sys.stdout.flush()
