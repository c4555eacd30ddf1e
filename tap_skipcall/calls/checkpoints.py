"""The calls state, written when it is true.

With RECORD messages that is at once; with BATCH files, after the BATCH message holding the
rows it claims.
"""

from __future__ import annotations

import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tap_skipcall.calls.head import ListHead
from tap_skipcall.calls.state import (
    RESUME,
)
from tap_skipcall.sdk_private import (
    write_state_now,
)

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context

    from tap_skipcall.calls.state import Checkpoint


class HeldBackState(ListHead):
    """Checkpoints and the bookmark, written when they are true (see ``_save``)."""

    #: In BATCH mode, the state that holds once the batch being filled is written.
    _held_back: dict[str, Any] = {}  # noqa: RUF012  (replaced, never mutated)

    @cached_property
    def _writes_batches(self) -> bool:
        """Whether this run writes BATCH files (fixed for the run: see the plan)."""
        return self.get_batch_config(self.config) is not None

    def _checkpoint(self, checkpoint: Checkpoint) -> None:
        """Record what is delivered, and write it at once when it is already true."""
        self._save({RESUME: checkpoint.as_state()}, write_now=True)

    def _save(self, update: dict[str, Any], *, write_now: bool = False) -> None:
        """Apply a calls state that holds once the rows read so far are written.

        With RECORD messages that is now (``write_now``: in a STATE at once, not at the
        SDK's next one). With BATCH files it is once the BATCH message holding the last of
        those rows is written (:meth:`get_batches`): any STATE the SDK writes before, also
        on SIGTERM, must not claim rows still in a file being filled.
        """
        if self._writes_batches:
            self._held_back = {**self._held_back, **update}
            return
        self.stream_state.update(update)
        if write_now:
            write_state_now(self)

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """Each batch, then the state its rows make true (see :meth:`_save`)."""
        self._held_back = {}
        for batch in super().get_batches(batch_config, context):
            true_now = self._held_back  # the rows it claims are in this file or earlier ones
            self._held_back = {}
            yield batch  # the SDK writes the BATCH message, then a STATE
            self.stream_state.update(true_now)
        self.stream_state.update(self._held_back)  # every file is written
