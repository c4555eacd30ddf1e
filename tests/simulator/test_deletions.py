"""Deleted calls leave the warehouse, no live call is ever marked deleted, BATCH stays exact.

The warehouse here is a model of target-postgres (``tests.helpers.Warehouse``); the end-to-end
tests load into the real one.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from skipcall_simulator import MutationRule
from tests.helpers import Warehouse, batch_rows, catalog_selecting, run_tap, tap_config

DAY = timedelta(days=1)


def live_truth(sim) -> set[str]:
    return {cid for cid, call in sim.simulator.data.calls.items() if not call["deletedAt"]}


def daily_runs(sim, clock, warehouse, config, days, *, each_day=None):
    """One sync a day for ``days`` days; ``each_day(day)`` changes the account before each."""
    state = None
    results = []
    for day in range(days):
        if each_day and day:
            each_day(day)
        result = run_tap(config, state=state, select=["calls"])
        warehouse.load(result)
        results.append(result)
        state = result.state
        clock.now += DAY
    return results


@pytest.mark.parametrize("hide_deleted", [False, True], ids=["listed", "hidden"])
@pytest.mark.parametrize("hard_delete", [False, True], ids=["soft", "hard"])
def test_deleted_and_erased_calls_leave_the_warehouse_within_the_period(
    make_simulator, clock, hide_deleted, hard_delete
):
    sim = make_simulator(n_calls=600, hide_deleted=hide_deleted)
    data = sim.simulator.data
    warehouse = Warehouse(hard_delete=hard_delete, live_ids=lambda: live_truth(sim))
    deleted_on, soft_deleted = {}, set()

    def churn(day: int) -> None:
        data.update_calls(10)
        data.create_calls(3)
        for call_id in data.delete_calls(4):
            deleted_on[call_id] = day
            soft_deleted.add(call_id)
        for call_id in data.erase_calls(1):  # gone for good: listed by no API behaviour
            deleted_on[call_id] = day

    results = daily_runs(sim, clock, warehouse, tap_config(sim), 10, each_day=churn)
    assert warehouse.wrongly_deleted == []
    live = warehouse.live()
    assert live_truth(sim) <= live  # every live call is live in the warehouse
    # On day 9 (the last run), calls deleted up to 7 days earlier are marked deleted.
    overdue = {cid for cid, day in deleted_on.items() if day <= 9 - 7}
    assert overdue
    assert not overdue & live
    if not hide_deleted:  # listed: marked by the very sync that read the deletion
        assert not soft_deleted & live
    reconciliations = [r for r in results if r.activations]
    assert len(reconciliations) == 1  # the first sync starts the clock; day 7 reconciles
    assert reconciliations[0] is results[7]
    if hard_delete:
        assert not overdue & set(warehouse.tables["calls"])
    bookmark = results[-1].state["bookmarks"]["calls"]
    assert bookmark["reconciled_at"].startswith(str((clock.now - 3 * DAY).date()))


def test_a_reconciliation_reads_no_child_of_an_unchanged_call(make_simulator, clock):
    sim = make_simulator(n_calls=400)
    config = tap_config(sim, contacts_max_age_days=0)  # the walk is measured on its own
    streams = ["calls", "call_recordings", "contacts"]
    first = run_tap(config, select=streams)
    clock.now += 8 * DAY
    changed = set(sim.simulator.data.update_calls(5))
    sim.simulator.stats = type(sim.simulator.stats)()
    second = run_tap(config, state=first.state, select=streams)
    assert second.activations  # a reconciliation
    assert len(second.records("calls")) == 400
    by_endpoint = sim.simulator.stats.by_endpoint
    watched = set(first.state["bookmarks"]["call_recordings"]["unfinished"])  # read once more
    assert by_endpoint["recording"] == len(changed | watched)  # no other unchanged call's
    assert by_endpoint["list_calls"] == 4 + 1  # the list, then one head pass: nothing moved
    assert {r["call_id"] for r in second.records("call_recordings")} <= changed | watched


@pytest.mark.parametrize("hide_deleted", [False, True], ids=["listed", "hidden"])
def test_calls_moving_while_the_reconciliation_pages_are_never_marked_deleted(
    make_simulator, clock, hide_deleted
):
    sim = make_simulator(n_calls=1500, hide_deleted=hide_deleted)
    warehouse = Warehouse(live_ids=lambda: live_truth(sim))
    config = tap_config(sim)
    first = run_tap(config, select=["calls"])
    warehouse.load(first)
    clock.now += 8 * DAY
    sim.simulator.new_run()
    for page in (2, 5, 9, 14):  # updates, creations and deletions between pages
        sim.simulator.mutations.append(
            MutationRule(after_page=page, update=6, create=3, delete=2, among="any")
        )
    second = run_tap(config, state=first.state, select=["calls"])
    warehouse.load(second)
    assert second.activations
    assert warehouse.wrongly_deleted == []
    assert live_truth(sim) <= warehouse.live()
    third = run_tap(config, state=second.state, select=["calls"])
    assert not third.activations  # the next run is incremental again


def test_a_reconciliation_killed_midway_resumes_with_its_version_and_deletes_nothing_early(
    make_simulator, clock
):
    from skipcall_simulator import Fault

    sim = make_simulator(n_calls=1200, hide_deleted=True)
    warehouse = Warehouse(live_ids=lambda: live_truth(sim))
    config = tap_config(sim)
    first = run_tap(config, select=["calls"])
    warehouse.load(first)
    sim.simulator.data.delete_calls(10)
    clock.now += 8 * DAY
    sim.simulator.faults.append(Fault(kind="status", status=400, endpoint="list_calls", skip=5))
    broken = run_tap(config, state=first.state, select=["calls"], expect_error=True)
    warehouse.load(broken)
    assert not broken.activations  # died before the end: nothing marked deleted
    resume = broken.state["bookmarks"]["calls"]["resume"]
    assert resume["version"]
    assert resume["rows_read"] == 500
    sim.simulator.faults.clear()
    clock.now += DAY
    resumed = run_tap(config, state=broken.state, select=["calls"])
    warehouse.load(resumed)
    assert [m["version"] for m in resumed.activations] == [resume["version"]]
    assert len(resumed.records()) < 1200 - 10  # it went on where the killed run stopped
    assert warehouse.wrongly_deleted == []
    assert warehouse.live() == live_truth(sim)


def test_full_table_forced_in_the_catalog_reads_everything_and_activates_after(
    make_simulator, clock
):
    sim = make_simulator(n_calls=300, hide_deleted=True)
    config = tap_config(sim)
    first = run_tap(config, select=["calls"])
    catalog = catalog_selecting(config, ["calls"])
    for stream in catalog["streams"]:
        if stream["tap_stream_id"] == "calls":
            stream["replication_method"] = "FULL_TABLE"
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["metadata"]["forced-replication-method"] = "FULL_TABLE"
    sim.simulator.data.delete_calls(5)
    warehouse = Warehouse(live_ids=lambda: live_truth(sim)).load(first)
    second = run_tap(config, state=first.state, catalog=catalog)
    warehouse.load(second)
    types = [m["type"] for m in second.messages if m.get("stream") == "calls"]
    assert types.index("ACTIVATE_VERSION") > max(i for i, t in enumerate(types) if t == "RECORD")
    assert len(second.records()) == 295
    assert warehouse.live() == live_truth(sim)
    assert warehouse.wrongly_deleted == []


def test_full_table_streams_activate_their_version_after_their_last_record(make_simulator):
    sim = make_simulator(n_calls=50)
    streams = ["workspaces", "workspace_members", "users"]
    result = run_tap(tap_config(sim), select=streams)
    for stream in streams:
        messages = [m for m in result.messages if m.get("stream") == stream]
        kinds = [m["type"] for m in messages]
        assert kinds[-1] == "ACTIVATE_VERSION", stream
        assert kinds.count("ACTIVATE_VERSION") == 1, stream
        versions = {m["version"] for m in messages if m["type"] in ("RECORD", "ACTIVATE_VERSION")}
        assert len(versions) == 1, stream
    off = run_tap(tap_config(sim, emit_activate_version_messages=False), select=streams)
    assert off.activations == []
    assert {m.get("version") for m in off.messages if m["type"] == "RECORD"} == {None}


def test_a_removed_member_is_marked_deleted_and_a_run_that_dies_deletes_nothing(
    make_simulator,
):
    from skipcall_simulator import Fault

    sim = make_simulator(n_calls=20)
    config = tap_config(sim)
    streams = ["workspaces", "workspace_members", "users"]
    warehouse = Warehouse().load(run_tap(config, select=streams))
    workspace = next(iter(sim.simulator.data.members))
    removed = sim.simulator.data.members[workspace].pop()
    members_before = warehouse.live("workspace_members")
    sim.simulator.faults.append(
        Fault(
            kind="status",
            status=400,
            endpoint="list_members",
            skip=len(sim.simulator.data.members) - 1,
        )
    )  # the last workspace's members fail
    died = run_tap(config, select=streams, expect_error=True)
    warehouse.load(died)
    assert warehouse.live("workspace_members") == members_before  # the run died: not yet
    users_before = warehouse.live("users")
    sim.simulator.faults.clear()
    warehouse.load(run_tap(config, select=streams))
    assert removed["id"] not in warehouse.live("workspace_members")
    assert warehouse.live("users") == users_before


def test_no_state_claims_a_row_not_yet_in_a_batch_file(make_simulator, tmp_path):
    sim = make_simulator(n_calls=1000)
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"file://{tmp_path}", "prefix": "calls-"},
        "batch_size": 250,
    }
    result = run_tap(tap_config(sim, batch_config=batch_config), select=["calls"])
    in_files = 0
    checked = 0
    for message in result.messages:
        if message["type"] == "BATCH" and message["stream"] == "calls":
            in_files += len(batch_rows(message))
        elif message["type"] == "STATE":
            resume = message["value"]["bookmarks"]["calls"].get("resume")
            if resume:
                assert resume["rows_read"] <= in_files
                checked += 1
    assert checked >= 3
    assert in_files == 1000
    assert not [m for m in result.messages if m["type"] == "RECORD" and m["stream"] == "calls"]


def test_a_resumed_reconciliation_walks_the_list_for_the_contacts_it_did_not_meet(
    make_simulator, clock
):
    """The killed run met the first calls, but its walk was not saved: every due contact."""
    from skipcall_simulator import Fault

    sim = make_simulator(n_calls=1200)
    data = sim.simulator.data
    streams = ["calls", "contacts"]
    config = tap_config(sim)
    first = run_tap(config, select=streams)
    clock.now += 8 * DAY  # a reconciliation, and a walk over every contact
    sim.simulator.faults.append(Fault(kind="status", status=400, endpoint="list_calls", skip=5))
    broken = run_tap(config, state=first.state, select=streams, expect_error=True)
    assert broken.state["bookmarks"]["calls"]["resume"]["version"]
    sim.simulator.faults.clear()
    clock.now += DAY
    before = Counter(sim.simulator.stats.by_endpoint)
    resumed = run_tap(config, state=broken.state, select=streams)
    spent = Counter(sim.simulator.stats.by_endpoint) - before
    known = {
        c["contact"]["id"]
        for c in data.calls.values()
        if c["contact"] and not c["contact"]["isUnknown"]
    }
    assert spent["get_contact"] == len(known)
    assert sorted(resumed.ids("contacts")) == sorted(known)
    assert spent["list_calls"] > 12  # the rest of the read, then the walk's 12 pages
