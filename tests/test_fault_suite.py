"""Runs the fault suite (tests/fault_suite.py) and prints its table into the test output."""

from __future__ import annotations

from tests.fault_suite import CASES, run_suite, table


def test_no_case_loses_a_call(tmp_path, capsys, monkeypatch):
    outcomes = run_suite(tmp_path)
    with capsys.disabled():
        print("\n\nFault suite (calls lost must be 0 in every case):\n" + table(outcomes) + "\n")
    assert [o.name for o in outcomes] == [c.name for c in CASES]
    assert [(o.name, o.lost, o.stale) for o in outcomes if o.lost or o.stale] == []
    fired = {o.name: o.faults_fired for o in outcomes}
    assert all(fired[c.name] > 0 for c in CASES if c.faults)  # every fault really happened
    killed = [o for o in outcomes if "killed" in o.name]
    assert all(o.resent > 0 for o in killed)  # the kill landed mid-sync
