"""The calls state's one owner: RECORD or BATCH, checkpoints written only when true."""

from __future__ import annotations

from types import SimpleNamespace

from tap_skipcall.calls.reconcile import RunPlan
from tap_skipcall.calls.state import Checkpoint, UpdatedRange
from tap_skipcall.calls.state_keeper import StateKeeper

INCREMENTAL = RunPlan(None, False, "incremental")
RECONCILING = RunPlan(1_700_000_000_000, True, "due")
BATCH_CONFIG = object()
CHECKPOINT = Checkpoint(
    UpdatedRange("2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z", frozenset({"c1"})),
    rows_read=100,
    since=None,
)


class FakeStream:
    """The state and STATE writer of a stream, as the keeper uses them."""

    def __init__(self, state=None):
        self.stream_state = dict(state or {})
        self.state_manager = SimpleNamespace(is_flushed=True)
        self.written: list[dict] = []

    def _write_state_message(self):
        if not self.state_manager.is_flushed:
            self.written.append(dict(self.stream_state))
            self.state_manager.is_flushed = True


def test_it_reads_the_saved_state_once():
    stream = FakeStream({"replication_key_value": "2026-01-01T00:00:00.000Z", "x": 1})
    keeper = StateKeeper(stream, start_date=None)
    stream.stream_state["replication_key_value"] = "2099-01-01T00:00:00.000Z"
    assert keeper.saved.bookmark.value == "2026-01-01T00:00:00.000Z"
    assert keeper.saved.has_bookmark
    assert keeper.entries["x"] == 1


def test_record_messages_write_each_checkpoint_at_once():
    stream = FakeStream()
    keeper = StateKeeper(stream, None)
    assert keeper.messages(INCREMENTAL, None) is None
    keeper.checkpoint(CHECKPOINT)
    assert stream.written == [{"resume": CHECKPOINT.as_state()}]


def test_a_reconciliation_writes_record_messages_even_when_batch_files_are_set():
    keeper = StateKeeper(FakeStream(), None)
    assert keeper.messages(RECONCILING, BATCH_CONFIG) is None  # type: ignore[arg-type]
    assert keeper.messages(INCREMENTAL, BATCH_CONFIG) is BATCH_CONFIG  # type: ignore[arg-type]


def test_batch_files_hold_every_state_back_until_the_file_with_its_rows_is_written():
    stream = FakeStream()
    keeper = StateKeeper(stream, None)
    keeper.messages(INCREMENTAL, BATCH_CONFIG)  # type: ignore[arg-type]
    seen = []

    def sdk_batches():
        keeper.checkpoint(CHECKPOINT)  # rows of the first file read, its checkpoint stated
        seen.append(dict(stream.stream_state))
        yield ("encoding", ["file-1"])
        keeper.finish({"replication_key_value": "2026-01-02T00:00:00.000Z"})
        yield ("encoding", ["file-2"])

    batches = keeper.batches(sdk_batches())
    assert next(batches) == ("encoding", ["file-1"])
    assert seen == [{}]  # not while its file was being filled
    assert stream.written == []  # never written at once in BATCH mode
    assert next(batches) == ("encoding", ["file-2"])
    assert stream.stream_state == {"resume": CHECKPOINT.as_state()}  # after file 1 only
    assert list(batches) == []
    assert stream.stream_state["replication_key_value"] == "2026-01-02T00:00:00.000Z"


def test_finishing_drops_the_sdk_progress_markers_and_saves_the_final_state():
    stream = FakeStream({"progress_markers": {"x": 1}, "resume": {"cap": "…"}})
    keeper = StateKeeper(stream, None)
    keeper.messages(INCREMENTAL, None)
    keeper.finish({"resume": None})
    assert stream.stream_state == {"resume": None}


def test_finishing_without_a_final_state_leaves_the_bookmarks_alone():
    stream = FakeStream({"progress_markers": {"x": 1}, "replication_key_value": "a"})
    StateKeeper(stream, None).finish(None)
    assert stream.stream_state == {"replication_key_value": "a"}
