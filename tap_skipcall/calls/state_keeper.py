"""The one owner of the calls stream's Singer state: read once, written when it is true.

Nothing else reads or writes ``bookmarks.calls`` (the child streams' watch lists and the
sequences' rotation have their own keeper, :mod:`tap_skipcall.freshness.child_state`). The
keeper decides whether a run writes RECORD messages or BATCH files, and when each state it
is given may be written: with RECORD messages at once, with BATCH files only after the
BATCH message holding the rows it claims (the SDK writes the tap's state on SIGTERM too, so
no STATE may run ahead of the files).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_skipcall.calls.state import RESUME, SavedState, read_state
from tap_skipcall.sdk_private import write_state_now

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk import Stream
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig

    from tap_skipcall.calls.reconcile import RunPlan
    from tap_skipcall.calls.state import Checkpoint

#: The SDK's own key for a sync under way; an older version's would overwrite the bookmark
#: when the SDK finalizes.
PROGRESS_MARKERS = "progress_markers"

Batch = tuple["BaseBatchFileEncoding", list[str]]


class StateKeeper:
    """Reads the calls state once, and writes checkpoints and the final bookmark when true."""

    def __init__(self, stream: Stream, start_date: str | None) -> None:
        self._stream = stream
        state = stream.stream_state
        #: What the state said when the run began.
        self.saved: SavedState = read_state(state, start_date)
        #: The raw entries other parts keep in the calls state (the contacts walk's).
        self.entries: dict[str, Any] = dict(state)
        self._batches = False
        self._held_back: dict[str, Any] = {}

    def messages(self, plan: RunPlan, batch_config: BatchConfig | None) -> BatchConfig | None:
        """RECORD messages (None) or the BATCH files configured, for this run.

        A reconciliation writes RECORD messages: ``ACTIVATE_VERSION`` needs versioned rows.
        """
        chosen = None if plan.reconciles else batch_config
        self._batches = chosen is not None
        return chosen

    def checkpoint(self, checkpoint: Checkpoint) -> None:
        """Record what is delivered, and write it at once when it is already true."""
        self._save({RESUME: checkpoint.as_state()}, write_now=True)

    def finish(self, final: dict[str, Any] | None) -> None:
        """The state a finished read leaves (None: the calls are not written this run)."""
        self._stream.stream_state.pop(PROGRESS_MARKERS, None)
        if final is not None:
            self._save(final)

    def _save(self, update: dict[str, Any], *, write_now: bool = False) -> None:
        """Apply a state that holds once the rows read so far are written.

        With RECORD messages that is now (``write_now``: in a STATE at once, not at the
        SDK's next one). With BATCH files it is once the BATCH message holding the last of
        those rows is written (:meth:`batches`).
        """
        if self._batches:
            self._held_back = {**self._held_back, **update}
            return
        self._stream.stream_state.update(update)
        if write_now:
            write_state_now(self._stream)

    def batches(self, batches: Iterable[Batch]) -> Iterator[Batch]:
        """Each BATCH file the SDK makes, then the state its rows make true."""
        self._held_back = {}
        for batch in batches:
            true_now = self._held_back  # the rows it claims are in this file or earlier ones
            self._held_back = {}
            yield batch  # the SDK writes the BATCH message, then a STATE
            self._stream.stream_state.update(true_now)
        self._stream.stream_state.update(self._held_back)  # every file is written
