"""Helpers shared by the tests: run the tap in-process, select streams, compare with the truth."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from tap_skipcall.streams import STREAM_TYPES
from tap_skipcall.tap import TapSkipcall

if TYPE_CHECKING:
    from skipcall_simulator import RunningSimulator

#: Every stream, and those selected by default, from the tap's one list of streams.
ALL_STREAMS = [stream_type.name for stream_type in STREAM_TYPES]
DEFAULT_STREAMS = [t.name for t in STREAM_TYPES if t.selected_by_default]


@dataclass
class SyncResult:
    """Everything one tap run wrote, parsed."""

    messages: list[dict[str, Any]]
    error: BaseException | None = None
    stderr: str = ""
    records_by_stream: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for message in self.messages:
            if message["type"] == "RECORD":
                self.records_by_stream.setdefault(message["stream"], []).append(message["record"])

    def records(self, stream: str = "calls") -> list[dict[str, Any]]:
        return self.records_by_stream.get(stream, [])

    def ids(self, stream: str = "calls") -> list[str]:
        return [record["id"] for record in self.records(stream)]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def state(self) -> dict[str, Any] | None:
        return self.states[-1] if self.states else None


def catalog_selecting(config: dict[str, Any], streams: list[str]) -> dict[str, Any]:
    """The discovered catalog with exactly these streams selected."""
    catalog = TapSkipcall(config=config, parse_env_config=False).catalog_dict
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in streams
    return catalog


def run_tap(
    config: dict[str, Any],
    state: dict | None = None,
    catalog: dict | None = None,
    *,
    expect_error: bool = False,
    select: list[str] | None = None,
) -> SyncResult:
    """Run a full sync in this process and collect the Singer messages it printed."""
    if select is not None:
        catalog = catalog_selecting(config, select)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # the writer uses stdout.buffer
    error = None
    with redirect_stdout(out):
        try:
            tap = TapSkipcall(config=config, state=state, catalog=catalog, parse_env_config=False)
            tap.sync_all()
        except Exception as exc:
            if not expect_error:
                raise
            error = exc
    if expect_error and error is None:
        pytest.fail("the sync was expected to fail but succeeded")
    out.flush()
    text = out.buffer.getvalue().decode()  # type: ignore[attr-defined]
    messages = [json.loads(line) for line in text.splitlines() if line.strip()]
    return SyncResult(messages=messages, error=error)


def tap_config(sim: RunningSimulator, **overrides: Any) -> dict[str, Any]:
    """Settings pointing the tap at a simulator."""
    return {"api_key": sim.simulator.config.api_key, "api_url": sim.url, **overrides}


def visible_truth(sim: RunningSimulator) -> dict[str, dict[str, Any]]:
    """The calls the API would list right now, with their current content."""
    data = sim.simulator.data
    hide = sim.simulator.config.hide_deleted
    return {
        cid: call for cid, call in data.snapshot_calls().items() if not (hide and call["deletedAt"])
    }


def loaded_latest(*results: SyncResult) -> dict[str, dict[str, Any]]:
    """What a target would hold after loading these runs in order (upsert by id)."""
    table: dict[str, dict[str, Any]] = {}
    for result in results:
        for record in result.records():
            table[record["id"]] = record
    return table
