"""Runs the fault suite (tests/simulator/fault_suite.py) and prints its table."""

from __future__ import annotations

import pytest

from tests.simulator.fault_suite import BATCH_SIZE, CASES, CHURN, PAGE_SIZE, run_suite, table

pytestmark = pytest.mark.slow


def test_no_case_loses_a_call(tmp_path, capsys):
    outcomes = run_suite(tmp_path)
    with capsys.disabled():
        print("\n\nFault suite (calls lost must be 0 in every case):\n" + table(outcomes) + "\n")
    assert [o.name for o in outcomes] == [c.name for c in CASES]
    assert [(o.name, o.lost, o.stale) for o in outcomes if o.lost or o.stale] == []
    fired = {o.name: o.faults_fired for o in outcomes}
    assert all(fired[c.name] > 0 for c in CASES if c.faults)  # every fault really happened
    kills = {c.name: len(c.kill_after) for c in CASES if c.kill}
    batched = {c.name for c in CASES if c.batch}
    for outcome in (o for o in outcomes if o.name in kills):
        # The kill landed mid-sync: the killed run left pages to read. (Nothing need be
        # re-sent: records are written in blocks with the STATE after them.)
        assert outcome.pages_left, outcome.name
        # Re-sent: at most the page each killed run was in the middle of, plus rows pushed
        # back onto a page already read by the calls changed in each run (CHURN: 30 a run).
        # With BATCH files, the state written after a BATCH message claims what the file
        # before made true, and a SIGKILL may cut that STATE line: two files more per kill.
        churn = sum(r.create + r.update + r.delete for r in CHURN) * outcome.runs
        per_kill = PAGE_SIZE + (2 * BATCH_SIZE if outcome.name in batched else 0)
        assert outcome.resent <= per_kill * kills[outcome.name] + churn, outcome.name
        # and reads the pages left plus two: the head (page 1) and the page it lands on.
        assert outcome.pages_read <= outcome.pages_left + 2, outcome.name
