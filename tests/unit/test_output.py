"""The tap's message writer: records held, any other message writes them first, in order."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
import singer_sdk.singerlib as singer

from tap_skipcall.output import HOLD_BYTES, RecordsHeldWriter


def record(n: int, size: int = 10) -> singer.RecordMessage:
    return singer.RecordMessage(stream="calls", record={"id": str(n), "pad": "x" * size})


def state(n: int) -> singer.StateMessage:
    return singer.StateMessage(value={"n": n})


def written(messages: list[singer.Message], *, flush: bool = False) -> list[dict]:
    """The lines standard output received while the writer got these messages."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        writer = RecordsHeldWriter()
        for message in messages:
            writer.write_message(message)
        if flush:
            writer.flush()
        out.flush()
        text = out.buffer.getvalue().decode()  # type: ignore[attr-defined]
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize(
    ("messages", "flush", "expected"),
    [
        # records alone, under the hold: nothing yet
        ([record(1), record(2)], False, []),
        # a STATE writes the records before it, then itself
        ([record(1), record(2), state(2)], False, ["1", "2", "state 2"]),
        # records after the last STATE wait for the next message or a flush
        ([record(1), state(1), record(2)], False, ["1", "state 1"]),
        ([record(1), state(1), record(2)], True, ["1", "state 1", "2"]),
        # a SCHEMA is written at once too
        (
            [record(1), singer.SchemaMessage(stream="c", schema={}, key_properties=[])],
            False,
            ["1", "schema"],
        ),
    ],
)
def test_records_are_held_until_another_message_or_a_flush(messages, flush, expected):
    def name(line: dict) -> str:
        if line["type"] == "RECORD":
            return line["record"]["id"]
        return "state " + str(line["value"]["n"]) if line["type"] == "STATE" else "schema"

    assert [name(line) for line in written(messages, flush=flush)] == expected


def test_records_past_the_hold_are_written_without_waiting():
    size = HOLD_BYTES // 4
    lines = written([record(n, size) for n in range(6)])
    assert 4 <= len(lines) < 6  # written once 64 KiB are held, in order
    assert [line["record"]["id"] for line in lines] == [str(n) for n in range(len(lines))]
