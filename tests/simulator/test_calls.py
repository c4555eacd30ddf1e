"""The calls stream against the simulator: records, pages, state, and rows moving mid-sync."""

from __future__ import annotations

import math
from urllib.parse import parse_qs

import jsonschema
import pytest
import requests

from skipcall_simulator import MutationRule
from tests.helpers import as_served, loaded_latest, run_tap, tap_config, visible_truth


def list_requests(sim):
    return [
        parse_qs(query)
        for endpoint, query, _ in sim.simulator.stats.log
        if endpoint == "list_calls"
    ]


def test_full_sync_emits_every_call_once_with_the_api_content(make_simulator):
    sim = make_simulator(n_calls=1234)
    result = run_tap(tap_config(sim))
    truth = visible_truth(sim)
    assert sorted(result.ids()) == sorted(truth)
    for record in result.records():
        assert as_served(record) == truth[record["id"]]
    # 1234 calls at 100 a page: 13 pages, one request each, asked newest-first.
    assert sim.simulator.stats.by_endpoint["list_calls"] == math.ceil(1234 / 100)
    first = list_requests(sim)[0]
    assert first["sort[orderBy]"] == ["updatedAt"]
    assert first["sort[order]"] == ["desc"]
    assert first["page"] == ["1"]
    assert first["limit"] == ["100"]


def test_records_conform_to_the_declared_schema(make_simulator):
    sim = make_simulator(n_calls=400)
    result = run_tap(tap_config(sim))
    schema = next(m["schema"] for m in result.messages if m["type"] == "SCHEMA")
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    for record in result.records():
        assert list(validator.iter_errors(record)) == []
    # Nullable documented fields really arrive null sometimes, and the schema allows it.
    assert any(r["startedAt"] is None for r in result.records())
    assert any(r["contact"] is None or r["contact"]["isUnknown"] for r in result.records())
    assert set(schema["properties"]) >= {
        "id",
        "callType",
        "status",
        "type",
        "startedAt",
        "endedAt",
        "createdAt",
        "updatedAt",
        "contact",
        "phoneNumber",
        "caller",
        "callerPhoneNumber",
        "phoneNumberId",
        "userProviderSid",
        "adminProviderSid",
        "providerConferenceId",
        "transferred",
        "sequenceRunId",
        "sequenceId",
        "syncedWithCrmDate",
        "deletedAt",
        "organizationId",
        "organizationMembershipId",
        "managedPhoneNumberId",
        "notes",
    }
    assert "null" in schema["properties"]["deletedAt"]["type"]
    assert "null" in schema["properties"]["contact"]["type"]
    assert schema["properties"]["createdAt"]["type"] == "string"


def test_undeclared_fields_are_kept_in_extra(make_simulator):
    sim = make_simulator(n_calls=20)
    for call in sim.simulator.data.calls.values():
        call["workspaceId"] = "w-1"
    result = run_tap(tap_config(sim))
    assert all(r["extra"] == {"workspaceId": "w-1"} for r in result.records())


@pytest.mark.parametrize("page_size", [1, 7, 100])
def test_page_size_sets_limit_and_request_count(make_simulator, page_size):
    sim = make_simulator(n_calls=50)
    result = run_tap(tap_config(sim, page_size=page_size))
    assert len(set(result.ids())) == 50
    assert sim.simulator.stats.by_endpoint["list_calls"] == math.ceil(50 / page_size)
    assert {q["limit"][0] for q in list_requests(sim)} == {str(page_size)}


def test_server_capping_limit_is_followed_through_the_echoed_limit(make_simulator):
    sim = make_simulator(n_calls=230, clamp_limit=40)
    result = run_tap(tap_config(sim))
    assert sorted(result.ids()) == sorted(visible_truth(sim))
    assert sim.simulator.stats.by_endpoint["list_calls"] == math.ceil(230 / 40)


def test_workspace_ids_are_sent_comma_separated_and_narrow_the_calls(make_simulator):
    sim = make_simulator(n_calls=300)
    wanted = sorted(sim.simulator.data.workspaces)[:2]
    result = run_tap(tap_config(sim, workspace_ids=wanted))
    assert list_requests(sim)[0]["workspaceIds"] == [",".join(wanted)]
    expected = {cid for cid, ws in sim.simulator.data.call_workspace.items() if ws in wanted}
    assert set(result.ids()) == expected
    assert 0 < len(expected) < 300


@pytest.mark.slow
def test_incremental_sync_returns_exactly_the_calls_changed_in_between(make_simulator):
    sim = make_simulator(n_calls=20_000)
    first = run_tap(tap_config(sim))
    assert len(first.ids()) == 20_000
    assert sim.simulator.stats.by_endpoint["list_calls"] == 200
    bookmark = first.state["bookmarks"]["calls"]
    assert bookmark["replication_key"] == "updatedAt"
    assert bookmark["replication_key_value"] == max(c["updatedAt"] for c in first.records())

    data = sim.simulator.data
    changed = set(data.update_calls(37)) | set(data.create_calls(5)) | set(data.delete_calls(3))
    before = sim.simulator.stats.by_endpoint["list_calls"]
    second = run_tap(tap_config(sim), state=first.state)
    assert sorted(second.ids()) == sorted(changed)
    assert sim.simulator.stats.by_endpoint["list_calls"] - before == 1  # 45 changes: one page
    latest = loaded_latest(first, second)
    assert {k: as_served(v) for k, v in latest.items()} == visible_truth(sim)

    third = run_tap(tap_config(sim), state=second.state)
    assert third.ids() == []  # nothing changed: nothing re-emitted, not even the bookmark row


def test_start_date_limits_the_first_sync(make_simulator):
    sim = make_simulator(n_calls=500)
    calls = sorted(sim.simulator.data.calls.values(), key=lambda c: c["updatedAt"])
    start = calls[400]["updatedAt"]
    result = run_tap(tap_config(sim, start_date=start))
    assert sorted(result.ids()) == sorted(c["id"] for c in calls if c["updatedAt"] >= start)
    # Page 1 holds the 100 newest and ends exactly at start_date; page 2 shows an older
    # row, and paging stops there.
    assert sim.simulator.stats.by_endpoint["list_calls"] == 2


def test_incremental_stops_paging_at_the_bookmark(make_simulator):
    sim = make_simulator(n_calls=2000)
    first = run_tap(tap_config(sim, page_size=50))
    sim.simulator.data.update_calls(120)
    before = sim.simulator.stats.by_endpoint["list_calls"]
    second = run_tap(tap_config(sim, page_size=50), state=first.state)
    assert len(second.ids()) == 120
    # 120 changed rows fill 2.4 pages; the 3rd page reaches the bookmark: 3 requests, not 40.
    assert sim.simulator.stats.by_endpoint["list_calls"] - before == 3


def naive_ascending_reader(sim, page_size):
    """What a careless tap does: oldest-first pages, bookmark = newest seen. For contrast."""
    seen = {}
    page = 1
    while True:
        body = requests.get(
            f"{sim.url}/v1/calls",
            params={
                "page": page,
                "limit": page_size,
                "sort[orderBy]": "updatedAt",
                "sort[order]": "asc",
            },
            headers={"Authorization": f"Bearer {sim.simulator.config.api_key}"},
            timeout=10,
        ).json()
        for row in body["data"]:
            seen[row["id"]] = row
        if page >= body["totalPages"]:
            return seen
        page += 1


MOVING_ROWS = [
    pytest.param(dict(update=6, among="served"), False, id="updates-of-read-rows"),
    pytest.param(dict(update=6, among="any"), False, id="updates-anywhere"),
    pytest.param(dict(create=9), False, id="creations"),
    pytest.param(dict(delete=4, among="served"), False, id="soft-deletes-listed"),
    pytest.param(dict(delete=4, among="served"), True, id="soft-deletes-hidden"),
    pytest.param(dict(update=3, create=3, delete=3, among="served"), True, id="mixed-hidden"),
]


@pytest.mark.parametrize(("change", "hide_deleted"), MOVING_ROWS)
def test_rows_moving_while_paging_are_never_lost(make_simulator, change, hide_deleted):
    sim = make_simulator(n_calls=600, hide_deleted=hide_deleted)
    for after_page in (1, 3, 5):
        sim.simulator.mutations.append(MutationRule(after_page=after_page, **change))
    first = run_tap(tap_config(sim, page_size=50))
    # Whatever moved during the first sync is picked up by the next one, nothing is lost.
    second = run_tap(tap_config(sim, page_size=50), state=first.state)
    latest = loaded_latest(first, second)
    truth = visible_truth(sim)
    missing = set(truth) - set(latest)
    assert missing == set()
    stale = [cid for cid, call in truth.items() if as_served(latest[cid]) != call]
    assert stale == []


@pytest.mark.parametrize(("change", "hide_deleted"), MOVING_ROWS)
def test_rows_moving_during_an_incremental_sync_are_never_lost(
    make_simulator, change, hide_deleted
):
    # Found by the fault suite: rows sliding back past a page boundary while the next page
    # already reaches below the bookmark must be re-read before stopping.
    sim = make_simulator(n_calls=3000, hide_deleted=hide_deleted)
    first = run_tap(tap_config(sim))
    sim.simulator.data.update_calls(300)
    sim.simulator.new_run()
    sim.simulator.mutations.append(MutationRule(after_page=2, **change))
    second = run_tap(tap_config(sim), state=first.state)
    third = run_tap(tap_config(sim), state=second.state)
    latest = loaded_latest(first, second, third)
    truth = visible_truth(sim)
    assert set(truth) <= set(latest)
    assert [c for c in truth if latest[c]["updatedAt"] != truth[c]["updatedAt"]] == []


def test_careless_ascending_order_really_loses_rows_in_that_scenario(make_simulator):
    """The scenario above is a real hazard: oldest-first paging misses shifted rows."""
    sim = make_simulator(n_calls=600)
    sim.simulator.mutations.append(MutationRule(after_page=1, update=6, among="served"))
    seen = naive_ascending_reader(sim, page_size=50)
    assert len(set(visible_truth(sim)) - set(seen)) > 0


def test_interrupted_sync_checkpoints_every_page_and_the_next_run_resumes(make_simulator):
    from skipcall_simulator import Fault

    sim = make_simulator(n_calls=1500)
    first = run_tap(tap_config(sim))
    sim.simulator.data.update_calls(700)
    # The next sync dies on its 5th page (a 400 stops it), after emitting 400 records.
    sim.simulator.faults.append(Fault(kind="status", status=400, endpoint="list_calls", skip=4))
    broken = run_tap(tap_config(sim), state=first.state, expect_error=True)
    assert len(broken.ids()) == 400
    # One STATE per page, each claiming only what was written before it.
    resumes = [s["bookmarks"]["calls"].get("resume") for s in broken.states]
    assert [r["rows_read"] for r in resumes if r] == [100, 200, 300, 400]
    saved = broken.state["bookmarks"]["calls"]
    # The bookmark itself did not move: progress is in `resume`, on top of that bookmark.
    assert (
        saved["replication_key_value"] == first.state["bookmarks"]["calls"]["replication_key_value"]
    )
    assert saved["resume"]["since"] == saved["replication_key_value"]
    before = sim.simulator.stats.by_endpoint["list_calls"]
    resumed = run_tap(tap_config(sim), state=broken.state)
    latest = loaded_latest(first, broken, resumed)
    assert {k: as_served(v) for k, v in latest.items()} == visible_truth(sim)
    assert len(resumed.ids()) == 300  # only what the broken run had not delivered
    assert set(resumed.ids()).isdisjoint(broken.ids())
    # Page 1 (nothing new at the head), page 4 (the overlap), then pages 5 to 8.
    assert sim.simulator.stats.by_endpoint["list_calls"] - before == 6
    final = resumed.state["bookmarks"]["calls"]
    assert final["resume"] is None
    assert final["replication_key_value"] == max(
        c["updatedAt"] for c in visible_truth(sim).values()
    )


def test_sort_style_auto_finds_the_form_the_api_understands(make_simulator):
    sim = make_simulator(n_calls=450, sort_styles=("json",))
    result = run_tap(tap_config(sim))
    assert sorted(set(result.ids())) == sorted(visible_truth(sim))
    styles = [
        ("sort[orderBy]" in q and "deep") or ("sort" in q and "json") or "other"
        for q in list_requests(sim)
    ]
    # deep_object is tried on page 1, found unsorted, then json works for all 5 pages.
    assert styles == ["deep", "json", "json", "json", "json", "json"]
    sim.simulator.data.update_calls(10)
    second = run_tap(tap_config(sim), state=result.state)
    assert len(second.ids()) == 10


def test_unsorted_api_falls_back_to_reading_every_page(make_simulator, caplog):
    sim = make_simulator(n_calls=450, sort_styles=())
    first = run_tap(tap_config(sim))
    assert sorted(set(first.ids())) == sorted(visible_truth(sim))
    assert "reads every page" in caplog.text
    changed = set(sim.simulator.data.update_calls(10))
    before = sim.simulator.stats.by_endpoint["list_calls"]
    second = run_tap(tap_config(sim), state=first.state)
    assert changed <= set(second.ids())  # still correct, just not cheap
    # deep_object and json are probed and dropped, then flat (page 1) and pages 2-5.
    assert sim.simulator.stats.by_endpoint["list_calls"] - before == 2 + 5
    latest = loaded_latest(first, second)
    assert {k: as_served(v) for k, v in latest.items()} == visible_truth(sim)


def test_an_incremental_run_that_finds_nothing_says_nothing_contradictory(make_simulator, caplog):
    import logging

    sim = make_simulator(n_calls=150)
    first = run_tap(tap_config(sim), select=["calls"])
    caplog.clear()
    caplog.set_level(logging.INFO)
    second = run_tap(tap_config(sim), state=first.state, select=["calls"])
    assert second.ids() == []
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert not [m for m in shown if m.startswith("Pagination stopped after")]
    assert any(
        m.startswith("calls: nothing changed since the last run (1 page read") for m in shown
    )
