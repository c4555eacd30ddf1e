"""Day after day, what changes without its call still reaches the warehouse, within bounds.

Each day the account lives (transcriptions finish, recordings appear late, a CRM edits
contacts, sequence contacts move on: ``skipcall_simulator.Lifecycle``) and one sync runs;
then every child table is compared with the API's truth.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from skipcall_simulator import Lifecycle
from skipcall_simulator.endpoints import sequence_contacts
from tests.helpers import Warehouse, run_tap, tap_config

DAY = timedelta(days=1)
PERIOD = 7
CHILDREN = ["call_recordings", "call_transcriptions", "contacts", "sequence_contacts"]


def differing(warehouse: Warehouse, stream: str, truth: dict) -> set:
    """Keys (the table's) whose row lacks or contradicts a field of the API's truth."""
    table = warehouse.tables.get(stream, {})
    return {
        key
        for key, item in truth.items()
        if (row := table.get(key)) is None or any(row.get(f) != v for f, v in item.items())
    }


def sequence_truth(sim) -> dict:
    api = sim.simulator
    truth = {}
    for sequence_id in api.data.sequences:
        page = 1
        while True:
            body = sequence_contacts(api, {"page": [str(page)], "limit": ["100"]}, id=sequence_id)
            for item in body["data"]:
                truth[(sequence_id, item["id"])] = {"status": item["status"]}
            if page >= body["totalPages"]:
                break
            page += 1
    return truth


def floats_in(value, path="state"):
    """Where a state holds a number with a fraction."""
    if isinstance(value, float):
        return [path]
    if isinstance(value, dict):
        return [f for key, item in value.items() for f in floats_in(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [f for i, item in enumerate(value) for f in floats_in(item, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("touch", [False, True], ids=["call-unchanged", "call-touched"])
def test_ten_days_keep_every_child_current_within_its_bounds(make_simulator, clock, touch):
    sim = make_simulator(n_calls=600, touch_call_on_transcription=touch)
    api, data = sim.simulator, sim.simulator.data
    life = Lifecycle(api)
    config = tap_config(sim)
    streams = ["calls", *CHILDREN]
    warehouse = Warehouse()
    first = run_tap(config, select=streams)
    warehouse.load(first)
    first_cost = api.stats.requests
    state = first.state
    edited_on, moved_on, costs = {}, {}, []
    for day in range(1, 11):
        clock.now += DAY
        data.clock.offset += DAY  # the API's clock moves as far as the tap's
        life.attach_late_recordings()
        life.finish_transcriptions()
        edited_on.update(dict.fromkeys(life.crm_edits(3), day))
        moved_on.update(dict.fromkeys(life.sequences_move_on(3), day))
        life.end_calls(15)
        before = api.stats.requests
        result = run_tap(config, state=state, select=streams)
        warehouse.load(result)
        state = result.state
        costs.append(api.stats.requests - before)
        # Recordings and transcriptions: every one as the API has it now.
        recordings = {(r["id"],): r for c, r in data.recordings.items() if c in data.calls}
        assert differing(warehouse, "call_recordings", recordings) == set(), day
        transcriptions = {
            (t["id"],): t for c, t in data.transcriptions.items() if c in data.recordings
        }
        assert differing(warehouse, "call_transcriptions", transcriptions) == set(), day
        # Contacts and sequence contacts: stale only if changed within the period.
        contacts = {key: data.contacts[key[0]] for key in warehouse.tables["contacts"]}
        stale = differing(warehouse, "contacts", contacts)
        assert {k for k in stale if day - edited_on.get(k[0], -99) >= PERIOD} == set(), day
        stale = differing(warehouse, "sequence_contacts", sequence_truth(sim))
        assert {k for k in stale if day - moved_on.get(k, -99) >= PERIOD} == set(), day
    assert max(costs) <= first_cost / 4, (costs, first_cost)
    # Loaders read JSON numbers with a fraction as decimals, which some cannot write back.
    assert floats_in(state) == [], floats_in(state)
    watched = state["bookmarks"]["call_transcriptions"].get("unfinished", {})
    assert len(watched) <= 15 * 2  # bounded by what is unfinished, not by the account
    assert len(state["bookmarks"]["sequence_contacts"]["refreshed_at"]) == len(data.sequences)


def test_syncs_every_eight_hours_walk_once_a_day_and_keep_contacts_within_the_period(
    make_simulator, clock
):
    """More runs than walks: the list is read for contacts once a day, the bound still holds."""
    sim = make_simulator(n_calls=600)
    api, data = sim.simulator, sim.simulator.data
    life = Lifecycle(api)
    config = tap_config(sim, deletions_within_days=0)
    streams = ["calls", "contacts"]
    warehouse = Warehouse()
    first = run_tap(config, select=streams)
    warehouse.load(first)
    state, edited_at, walks = first.state, {}, []
    step = timedelta(hours=8)
    for run in range(1, 31):
        clock.now += step
        data.clock.offset += step
        edited_at.update(dict.fromkeys(life.crm_edits(2), run * step))
        before = api.stats.by_endpoint.get("list_calls", 0)
        result = run_tap(config, state=state, select=streams)
        warehouse.load(result)
        state = result.state
        walks.append(api.stats.by_endpoint.get("list_calls", 0) - before > 1)
        contacts = {key: data.contacts[key[0]] for key in warehouse.tables["contacts"]}
        stale = differing(warehouse, "contacts", contacts)
        late = {k for k in stale if run * step - edited_at.get(k[0], -99 * DAY) >= PERIOD * DAY}
        assert late == set(), run
    assert walks == [run % 3 == 0 for run in range(1, 31)]  # every third run: once a day
