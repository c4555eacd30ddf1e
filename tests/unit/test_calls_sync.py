"""One sync of calls as a run object, with fakes for the SDK's paging, the API and the stream."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import requests

from tap_skipcall.calls.fan_out import ChildFanOut
from tap_skipcall.calls.list_client import CallsList
from tap_skipcall.calls.progress import Progress
from tap_skipcall.calls.reconcile import MAX_HEAD_PASSES, plan_run, unchanged_calls
from tap_skipcall.calls.state_keeper import StateKeeper
from tap_skipcall.calls.sync import CallsSync, ReadSettings
from tap_skipcall.network.transport import Transport
from tests.unit.test_state_keeper import FakeStream

NOW = datetime(2026, 3, 1, tzinfo=UTC)
LOG = logging.getLogger("tests.calls_sync")


def stamp(minutes: int) -> str:
    moment = NOW - timedelta(days=30) + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeApi:
    """``GET /v1/calls`` newest first over calls held in memory; ``on_page`` may change them."""

    def __init__(self, n_calls: int) -> None:
        self.calls = {f"c{i:04}": {"id": f"c{i:04}", "updatedAt": stamp(i)} for i in range(n_calls)}
        self.requests = 0
        self.on_page = None
        self.clock = n_calls

    def update(self, call_id: str) -> None:
        self.clock += 1
        self.calls[call_id] = {"id": call_id, "updatedAt": stamp(self.clock)}

    def respond(self, page) -> requests.Response:
        self.requests += 1
        limit = page.limit or 100
        rows = sorted(self.calls.values(), key=lambda c: c["updatedAt"], reverse=True)
        data = [dict(row) for row in rows[(page.number - 1) * limit : page.number * limit]]
        payload = {
            "data": data,
            "total": len(rows),
            "page": page.number,
            "limit": limit,
            "totalPages": -(-len(rows) // limit),
        }
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(payload).encode()
        response.elapsed = timedelta(milliseconds=5)
        response.request = requests.Request("GET", "http://api.test/v1/calls").prepare()
        if self.on_page is not None:
            self.on_page(self)
        return response


def sdk_pages(run: CallsSync, api: FakeApi):
    """The SDK's paging loop (``RESTStream.request_records``), as it drives the hooks."""

    def pages():
        paginator = run.read.paginator
        while not paginator.finished:
            response = api.respond(paginator.current_value)
            records = iter(run.page(response))
            first = next(records, None)
            if first is None:
                if paginator.continue_if_empty(response):
                    paginator.advance(response)
                    continue
                break
            yield first
            yield from records
            paginator.advance(response)

    return pages


def begin(api, state=None, *, days=7, versions=True):
    """A run composed as the stream composes it, from fakes."""
    stream = FakeStream(state)
    keeper = StateKeeper(stream, None)
    plan = plan_run(
        keeper.saved,
        now=NOW,
        period=timedelta(days=days) if days else None,
        versions=versions,
        full_table=False,
    )
    transport = Transport(max_concurrent_requests=1)
    activated, refreshed = [], []

    def refresh(met_every_call, page_of_calls):
        refreshed.append(met_every_call)
        return {"refresh_walk": {"walked_at": "x", "turned_to": 0}}

    run = CallsSync(
        plan=plan,
        keeper=keeper,
        calls_list=CallsList(api.respond, transport),
        fan_out=ChildFanOut([], None, unchanged_calls(plan, keeper.saved)),
        refresh=refresh,
        settings=ReadSettings(page_size=100, sort_style="deep_object", start_date=None),
        progress=Progress("calls", transport, LOG),
        started_at=NOW,
        fetch_page_ahead=lambda page: None,
        activate_version=activated.append,
        logger=LOG,
    )
    keeper.messages(plan, None)
    return run, stream, activated, refreshed


def test_a_first_sync_writes_every_call_newest_first_and_saves_the_bookmark():
    api = FakeApi(250)
    run, stream, activated, refreshed = begin(api)
    ids = [call["id"] for call in run.records(sdk_pages(run, api))]
    assert ids == [f"c{i:04}" for i in reversed(range(250))]
    assert api.requests == 3
    # A checkpoint after each page, written at once; then the completed state.
    assert [len(s) for s in stream.written] == [1, 1, 1]
    assert stream.written[-1]["resume"]["rows_read"] == 250
    assert stream.stream_state["replication_key_value"] == stamp(249)
    assert stream.stream_state["ids_at_bookmark"] == ["c0249"]
    assert stream.stream_state["resume"] is None
    assert stream.stream_state["last_run_at"] == "2026-03-01T00:00:00Z"
    assert stream.stream_state["refresh_walk"] == {"walked_at": "x", "turned_to": 0}
    assert activated == []  # a first sync starts the deletions clock; nothing to remove
    assert refreshed == [True]  # it met every call


def test_an_incremental_run_writes_the_calls_changed_since_and_stops_at_the_bookmark():
    api = FakeApi(250)
    first, stream, _, _ = begin(api)
    list(first.records(sdk_pages(first, api)))
    api.update("c0010")
    api.update("c0020")
    api.requests = 0
    run, stream, _, refreshed = begin(api, stream.stream_state)
    assert [call["id"] for call in run.records(sdk_pages(run, api))] == ["c0020", "c0010"]
    assert api.requests == 1
    assert stream.stream_state["replication_key_value"] == stamp(252)
    assert refreshed == [False]


def test_a_reconciliation_reads_the_head_again_until_nothing_moved_then_activates():
    api = FakeApi(250)
    first, stream, _, _ = begin(api)
    list(first.records(sdk_pages(first, api)))
    state = {**stream.stream_state, "reconciled_at": "2026-01-01T00:00:00Z"}

    def one_update(a):  # a call updated while page 2 of the main read is served
        if a.requests == 2:
            a.update("c0100")

    api.on_page, api.requests = one_update, 0
    run, stream, activated, _ = begin(api, state)
    assert run.plan.reconciles
    ids = [call["id"] for call in run.records(sdk_pages(run, api))]
    # The whole list, then a head pass that writes the moved call, then one that finds none.
    assert len(ids) == 251
    assert ids[-1] == "c0100"
    assert api.requests == 3 + 2
    assert activated == [run.plan.version]
    assert stream.stream_state["reconciled_at"] == "2026-03-01T00:00:00Z"  # when it began


def test_a_list_that_keeps_moving_sends_no_activate_version():
    api = FakeApi(150)
    first, stream, _, _ = begin(api)
    list(first.records(sdk_pages(first, api)))
    state = {**stream.stream_state, "reconciled_at": "2026-01-01T00:00:00Z"}
    api.on_page = lambda a: a.update(f"c{a.requests % 150:04}")  # every answer, a change
    run, stream, activated, _ = begin(api, state)
    list(run.records(sdk_pages(run, api)))
    assert activated == []
    assert stream.stream_state["reconciled_at"] == "2026-01-01T00:00:00Z"  # not renewed
    assert MAX_HEAD_PASSES == 5


def test_the_refresh_reads_pages_in_the_wire_form_the_sync_found():
    api = FakeApi(10)
    run, _, _, _ = begin(api)
    list(run.records(sdk_pages(run, api)))
    assert run.read.pager.current.sort_style == "deep_object"
    assert run.page_of_calls(1).json()["total"] == 10
