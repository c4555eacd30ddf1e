"""Several Skipcall organisations through one config, against simulators of each.

Three simulated organisations, each with its own key and API: a first sync, an incremental
one, one key revoked, then working again; deletions in each, with reconciliations. After
every run a loader that applies ACTIVATE_VERSION (the Warehouse model) holds every
organisation's live rows, none crossed, none of one marked deleted because of another.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import pytest

from tap_skipcall import cli
from tests.helpers import Warehouse, run_tap, visible_truth

NAMES = ("fr", "de", "it")
STREAMS = ["calls", "users", "workspaces", "workspace_members", "sequence_contacts"]


@pytest.fixture
def organisations(make_simulator):
    """Three organisations, each a simulator of its own with its own key and data."""
    return {
        name: make_simulator(n_calls=250, seed=20 + index, api_key=f"sk_test_{name}")
        for index, name in enumerate(NAMES)
    }


def accounts_config(organisations, **shared) -> dict:
    return {
        "accounts": [
            {"name": name, "api_key": f"sk_test_{name}", "api_url": sim.url}
            for name, sim in organisations.items()
        ],
        **shared,
    }


def kept(state: dict, account: str) -> dict:
    """An account's bookmarks that hold something (the SDK adds empty ones as it syncs)."""
    bookmarks = state["accounts"][account]["bookmarks"]
    return {stream: entry for stream, entry in bookmarks.items() if entry}


def rows_of(warehouse: Warehouse, stream: str, account: str, *, live: bool = True) -> set:
    return {
        row["id"]
        for row in warehouse.tables.get(stream, {}).values()
        if row["skipcall_account"] == account and (row["_sdc_deleted_at"] is None or not live)
    }


def assert_each_organisation_whole(warehouse: Warehouse, organisations) -> None:
    for name, sim in organisations.items():
        assert rows_of(warehouse, "calls", name) == set(visible_truth(sim)), name
        truth_users = {u["organizationMembershipId"] for u in sim.simulator.data.users.values()}
        users = {
            row["organizationMembershipId"]
            for row in warehouse.tables["users"].values()
            if row["skipcall_account"] == name and row["_sdc_deleted_at"] is None
        }
        assert users == truth_users, name


def test_three_organisations_sync_apart_through_one_config(organisations, clock):
    config = accounts_config(organisations)
    warehouse = Warehouse()
    first = run_tap(config, select=STREAMS)
    warehouse.load(first)
    assert_each_organisation_whole(warehouse, organisations)
    assert warehouse.keys["calls"] == ("skipcall_account", "id")
    assert warehouse.keys["workspace_members"] == ("skipcall_account", "workspace_id", "id")
    # every key reached its own API only
    for name, sim in organisations.items():
        assert set(sim.simulator.stats.tokens) == {f"sk_test_{name}"}

    # incremental: only what changed, in each
    for sim in organisations.values():
        sim.simulator.data.update_calls(4)
    clock.now += timedelta(hours=6)
    second = run_tap(config, state=first.state, select=STREAMS)
    assert len(second.records("calls")) == 12
    warehouse.load(second)
    assert_each_organisation_whole(warehouse, organisations)

    # one key revoked: the others finish and keep their state; its own is left as it was
    organisations["de"].simulator.config.api_key = "sk_test_revoked"
    for sim in organisations.values():
        sim.simulator.data.update_calls(3)
    clock.now += timedelta(hours=6)
    third = run_tap(config, state=second.state, select=STREAMS, expect_error=True)
    assert str(third.error).startswith(
        "1 of 3 accounts failed, the others finished and their state is saved: de: Skipcall "
        "rejected the API key (HTTP 401"
    )
    assert kept(third.state, "de") == kept(second.state, "de")
    assert third.state["accounts"]["fr"] != second.state["accounts"]["fr"]
    assert {r["skipcall_account"] for r in third.records("calls")} == {"fr", "it"}
    assert third.activations == []  # de did not read users, members, workspaces whole
    warehouse.load(third)
    assert not warehouse.wrongly_deleted

    # working again: de catches up from its own bookmark, nothing lost
    organisations["de"].simulator.config.api_key = "sk_test_de"
    clock.now += timedelta(hours=6)
    fourth = run_tap(config, state=third.state, select=STREAMS)
    assert {r["skipcall_account"] for r in fourth.records("calls")} == {"de"}
    assert len(fourth.records("calls")) == 3  # the 3 that changed while its key was revoked
    warehouse.load(fourth)
    assert_each_organisation_whole(warehouse, organisations)
    assert {m["stream"] for m in fourth.activations} == {
        "users",
        "workspaces",
        "workspace_members",
    }


@pytest.mark.parametrize("hard_delete", [False, True], ids=["soft", "hard"])
def test_deletions_in_each_organisation_never_touch_another(organisations, clock, hard_delete):
    """Nine days, deletions every day in each; it's key fails on the reconciliation day."""
    for sim in organisations.values():
        sim.simulator.config.hide_deleted = True
    config = accounts_config(organisations, deletions_within_days=7)

    def live_ids() -> set:  # every organisation's live calls, whoever's rows are marked
        return set().union(*(set(visible_truth(sim)) for sim in organisations.values()))

    warehouse = Warehouse(hard_delete=hard_delete, live_ids=live_ids)
    state, reconciled_on = None, []
    for day in range(9):
        for sim in organisations.values():  # each organisation hides and erases some calls
            sim.simulator.data.delete_calls(2)
            sim.simulator.data.erase_calls(1)
            sim.simulator.data.update_calls(3)
        organisations["it"].simulator.config.api_key = (
            "sk_test_revoked" if day == 7 else "sk_test_it"
        )
        result = run_tap(config, state=state, select=["calls", "users"], expect_error=day == 7)
        state = result.state
        warehouse.load(result)
        assert not warehouse.wrongly_deleted, day
        for name, sim in organisations.items():
            # every live call is there and live, whatever the others did
            assert set(visible_truth(sim)) <= rows_of(warehouse, "calls", name), (day, name)
        if any(m["stream"] == "calls" for m in result.activations):
            reconciled_on.append(day)
            for name, sim in organisations.items():  # deleted calls gone, every account's
                assert rows_of(warehouse, "calls", name) == set(visible_truth(sim)), (day, name)
        clock.now += timedelta(days=1)
    # due on day 7, when it failed: no account's calls were activated; all together on day 8
    assert reconciled_on == [8]
    for name in NAMES:
        calls = state["accounts"][name]["bookmarks"]["calls"]
        assert calls["reconciled_at"].startswith((clock.now - timedelta(days=1)).date().isoformat())


def test_two_keys_of_one_organisation_keep_two_rows_of_what_both_see(make_simulator):
    sim = make_simulator(n_calls=200, n_workspaces=3)
    workspaces = sorted(sim.simulator.data.workspaces)
    sim.simulator.config.scope = workspaces[:2]
    sim.simulator.config.more_keys = {"sk_test_other": workspaces[1:]}
    config = {
        "accounts": [
            {"name": "sales", "api_key": "sk_test_simulator", "api_url": sim.url},
            {"name": "support", "api_key": "sk_test_other", "api_url": sim.url},
        ]
    }
    result = run_tap(config, select=["users", "workspaces"])
    warehouse = Warehouse().load(result)
    shared = {row["id"] for row in warehouse.tables["workspaces"].values()}
    assert workspaces[1] in shared
    both = [row for row in warehouse.tables["workspaces"].values() if row["id"] == workspaces[1]]
    assert {row["skipcall_account"] for row in both} == {"sales", "support"}  # two rows
    users = warehouse.tables["users"]
    seen_twice = {
        key[1] for key in users if (("sales", key[1]) in users and ("support", key[1]) in users)
    }
    assert seen_twice  # users of the shared workspace: a row per account


def test_accounts_read_one_at_a_time_or_together_send_the_same(organisations):
    alone = run_tap(accounts_config(organisations, max_concurrent_accounts=1), select=["calls"])
    for sim in organisations.values():
        sim.simulator.new_run()
    together = run_tap(accounts_config(organisations, max_concurrent_accounts=3), select=["calls"])
    key = lambda r: (r["skipcall_account"], r["id"])  # noqa: E731
    assert sorted(map(key, alone.records())) == sorted(map(key, together.records()))
    assert len(together.records()) == 750


def test_the_state_grows_with_accounts_not_with_calls(make_simulator):
    sizes = {}
    for calls in (200, 2_000):
        sims = {
            name: make_simulator(n_calls=calls, seed=30 + i, api_key=f"sk_test_{name}")
            for i, name in enumerate(NAMES)
        }
        result = run_tap(accounts_config(sims), select=["calls"])
        sizes[calls] = len(json.dumps(result.state))
    assert abs(sizes[2_000] - sizes[200]) < 200, sizes


def test_an_account_failing_mid_list_keeps_its_last_checkpoint(organisations):
    from skipcall_simulator import Fault

    # de answers 500 forever from its third page of calls on: it keeps page 2's checkpoint
    organisations["de"].simulator.faults.append(
        Fault(kind="status", status=500, endpoint="list_calls", skip=2, times=-1)
    )
    config = accounts_config(organisations, max_concurrent_requests=1)
    first = run_tap(config, select=["calls"], expect_error=True)
    assert "de: Skipcall answered HTTP 500" in str(first.error)
    resume = first.state["accounts"]["de"]["bookmarks"]["calls"]["resume"]
    assert resume["rows_read"] == 200
    for name in ("fr", "it"):
        assert first.state["accounts"][name]["bookmarks"]["calls"]["resume"] is None
    organisations["de"].simulator.faults.clear()
    second = run_tap(config, state=first.state, select=["calls"])
    assert {r["skipcall_account"] for r in second.records()} == {"de"}
    de_ids = {r["id"] for r in first.records() + second.records() if r["skipcall_account"] == "de"}
    assert de_ids == set(visible_truth(organisations["de"]))


def test_the_test_checks_every_account(organisations, tmp_path, monkeypatch, caplog):
    import logging

    organisations["it"].simulator.config.subscription = "SUBSCRIPTION_REQUIRED"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(accounts_config(organisations)))
    monkeypatch.setattr(sys, "argv", ["tap-skipcall", "--config", str(path), "--test"])
    caplog.set_level(logging.INFO)
    with pytest.raises(SystemExit) as exit_code:
        cli.main()
    assert exit_code.value.code == 1
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        line.startswith("fr: Connection test passed: the API key can read calls (250")
        for line in lines
    )
    assert any(line.startswith("de: Connection test passed") for line in lines)
    assert lines[-1] == (
        "tap-skipcall stopped: 1 of 3 accounts failed the connection test: it: Skipcall refused "
        "access (HTTP 403 SUBSCRIPTION_REQUIRED: An active subscription is required to access "
        "the API): the organization needs an active Skipcall subscription."
    )
