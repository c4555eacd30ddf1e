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
            elif message["type"] == "BATCH":
                rows = self.records_by_stream.setdefault(message["stream"], [])
                rows.extend(batch_rows(message))

    def records(self, stream: str = "calls") -> list[dict[str, Any]]:
        return self.records_by_stream.get(stream, [])

    def ids(self, stream: str = "calls") -> list[str]:
        return [record["id"] for record in self.records(stream)]

    @property
    def activations(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == "ACTIVATE_VERSION"]

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
    allow_error: bool = False,
) -> SyncResult:
    """Run a full sync in this process and collect the Singer messages it printed.

    ``allow_error``: an error is kept in the result, as with ``expect_error``, but a run
    without one is fine too.
    """
    if select is not None:
        catalog = catalog_selecting(config, select)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # the writer uses stdout.buffer
    error = None
    with redirect_stdout(out):
        try:
            tap = TapSkipcall(config=config, state=state, catalog=catalog, parse_env_config=False)
            tap.sync_all()
        except Exception as exc:
            if not (expect_error or allow_error):
                raise
            error = exc
    if expect_error and error is None:
        pytest.fail("the sync was expected to fail but succeeded")
    out.flush()
    text = out.buffer.getvalue().decode()  # type: ignore[attr-defined]
    messages = [json.loads(line) for line in text.split("\n") if line.strip()]  # not U+2028
    return SyncResult(messages=messages, error=error)


def tap_config(sim: RunningSimulator, **overrides: Any) -> dict[str, Any]:
    """Settings pointing the tap at a simulator."""
    return {"api_key": sim.simulator.config.api_key, "api_url": sim.url, **overrides}


def as_served(record: dict[str, Any]) -> dict[str, Any]:
    """A call record as the API served it: less ``extra`` and the soft-delete column.

    The column must say what ``deletedAt`` says.
    """
    assert record.get("_sdc_deleted_at") == record.get("deletedAt")
    return {k: v for k, v in record.items() if k not in ("extra", "_sdc_deleted_at")}


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


def batch_rows(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The records a BATCH message's files hold (local jsonl, gzipped or not)."""
    import gzip
    from urllib.parse import urlparse

    rows = []
    for url in message["manifest"]:
        path = urlparse(url).path
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as lines:
            rows.extend(json.loads(line) for line in lines if line.strip())
    return rows


@dataclass
class Warehouse:
    """What target-postgres makes of the messages: upserts by key, and ACTIVATE_VERSION
    marking (or, with ``hard_delete``, deleting) rows of an older or no version."""

    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    hard_delete: bool = False
    tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict)
    #: Rows marked deleted while their call was live, at the moment of marking.
    wrongly_deleted: list[str] = field(default_factory=list)
    live_ids: Any = None  # a callable: the ids live in the source when a deletion is applied

    def load(self, *results: SyncResult) -> Warehouse:
        for result in results:
            for message in result.messages:
                self.apply(message)
        return self

    def apply(self, message: dict[str, Any]) -> None:
        kind, stream = message["type"], message.get("stream")
        if kind == "SCHEMA":
            self.keys[stream] = tuple(message["key_properties"])
        elif kind in ("RECORD", "BATCH"):
            rows = [message["record"]] if kind == "RECORD" else batch_rows(message)
            table = self.tables.setdefault(stream, {})
            for row in rows:
                key = tuple(row.get(k) for k in self.keys[stream])
                table[key] = {
                    **row,
                    "_sdc_table_version": message.get("version"),
                    "_sdc_deleted_at": row.get("_sdc_deleted_at"),
                }
        elif kind == "ACTIVATE_VERSION":
            table = self.tables.get(stream, {})
            live = self.live_ids() if self.live_ids and stream == "calls" else None
            for key, row in list(table.items()):
                old = (
                    row["_sdc_table_version"] is None
                    or row["_sdc_table_version"] < message["version"]
                )
                if not old:
                    continue
                if live is not None and row.get("id") in live:
                    self.wrongly_deleted.append(row["id"])
                if self.hard_delete:
                    del table[key]
                elif row["_sdc_deleted_at"] is None:
                    row["_sdc_deleted_at"] = "now"

    def live(self, stream: str = "calls") -> set[Any]:
        """Ids of the rows not marked deleted."""
        return {
            row.get("id")
            for row in self.tables.get(stream, {}).values()
            if row["_sdc_deleted_at"] is None
        }


def unwritten_claims(
    state: dict[str, Any] | None, written: set[str], truth: dict[str, dict[str, Any]]
) -> set[str]:
    """The calls of ``truth`` a calls state claims delivered that are not in ``written``.

    A state claims a call through its bookmark (every call updated before it, and those at it
    named in ``ids_at_bookmark``) and through its checkpoint (every call in (reached, cap],
    and those at ``reached`` named in ``ids_at_reached``).
    """
    from tap_skipcall.values import parse_timestamp

    calls = ((state or {}).get("bookmarks") or {}).get("calls") or {}
    bookmark = parse_timestamp(calls.get("replication_key_value"))
    at_bookmark = set(calls.get("ids_at_bookmark") or ())
    resume = calls.get("resume") or {}
    cap, reached = parse_timestamp(resume.get("cap")), parse_timestamp(resume.get("reached"))
    at_reached = set(resume.get("ids_at_reached") or ())
    claimed = set()
    for call_id, call in truth.items():
        at = parse_timestamp(call.get("updatedAt"))
        if at is None:
            continue
        if bookmark is not None and (at < bookmark or (at == bookmark and call_id in at_bookmark)):
            claimed.add(call_id)
        if (
            cap is not None
            and reached is not None
            and (reached < at <= cap or (at == reached and call_id in at_reached))
        ):
            claimed.add(call_id)
    return claimed - written
