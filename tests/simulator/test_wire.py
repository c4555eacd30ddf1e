"""When the wire misbehaves: lists whose answers cannot all be true.

Each case ends with one sentence, in bounded time, and a final STATE that claims no call the
run did not write; a second run from that STATE against a healthy API delivers everything.
"""

from __future__ import annotations

import json
import sys
import time

import pytest

from tap_skipcall import cli
from tests.helpers import run_tap, tap_config, unwritten_claims, visible_truth

CASES = {
    "page_ignored": "page 2 was answered as page 1: the API does not take `page`",
    "page_ignored_echoed": "the pages repeat, page 2 holding only calls already read",
    "total_zero": "page 1 says `total` 0 beside 100 rows",
    "total_negative": "page 1 says `total` -1, which is below 0",
    "total_fraction": "page 1 says `total` 300.5, which is not a whole number",
    "total_huge": "page 4 holds no rows where its `total`, 1,000,000,000,000, says 100",
    "endless": "the pages repeat, page 4 holding only calls already read",
}


@pytest.mark.parametrize("quirk", list(CASES))
def test_a_list_that_cannot_be_true_stops_claiming_only_what_was_written(make_simulator, quirk):
    sim = make_simulator(n_calls=300, list_quirk=quirk)
    truth = visible_truth(sim)
    started = time.monotonic()
    first = run_tap(tap_config(sim), select=["calls"], expect_error=True)
    assert time.monotonic() - started < 10
    assert CASES[quirk] in str(first.error)
    assert "cannot all be true" in str(first.error)
    assert sim.simulator.stats.requests <= 6  # it stops at once, it does not page on
    assert unwritten_claims(first.state, set(first.ids()), truth) == set()
    # The check: from that state, a healthy API delivers everything.
    sim.simulator.config.list_quirk = None
    second = run_tap(tap_config(sim), state=first.state, select=["calls"])
    assert set(first.ids()) | set(second.ids()) == set(truth)
    assert unwritten_claims(second.state, set(first.ids()) | set(second.ids()), truth) == set()


def test_a_page_of_calls_already_read_is_believed_when_calls_moved_to_the_head(make_simulator):
    from skipcall_simulator import MutationRule

    sim = make_simulator(n_calls=500)
    # Between pages 1 and 2, exactly a page of calls below page 1 is updated: they jump to
    # the head and push page 1's calls onto page 2, which then holds only calls already
    # read. One look at the head shows the calls that pushed them: the read goes on.
    sim.simulator.mutations.append(MutationRule(after_page=1, update=100, among="unserved"))
    result = run_tap(tap_config(sim, max_concurrent_requests=1), select=["calls"])
    truth = visible_truth(sim)
    log = [query for endpoint, query, _ in sim.simulator.stats.log if endpoint == "list_calls"]
    assert log[1].startswith("page=2&")
    assert log[2].startswith("page=1&")
    later = run_tap(tap_config(sim), state=result.state, select=["calls"])
    assert set(result.ids()) | set(later.ids()) == set(truth)
    moved = set(later.ids())
    assert len(moved) == 100
    assert unwritten_claims(result.state, set(result.ids()), truth) == set()


@pytest.mark.parametrize("quirk", ["page_ignored", "page_ignored_echoed", "total_zero"])
def test_a_full_table_list_that_cannot_be_true_marks_nothing_deleted(make_simulator, quirk):
    sim = make_simulator(
        n_calls=50, list_quirk=quirk, quirk_endpoints=("list_users",), n_workspaces=3
    )
    result = run_tap(tap_config(sim, page_size=3), select=["users"], expect_error=True)
    assert "Skipcall's answers for /v1/users cannot all be true" in str(result.error)
    assert "before any of its rows is marked deleted" in str(result.error)
    assert result.activations == []


def test_the_command_line_ends_with_the_sentence_and_exit_1(
    make_simulator, tmp_path, monkeypatch, capsys
):
    sim = make_simulator(n_calls=300, list_quirk="page_ignored_echoed")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    monkeypatch.setattr(sys, "argv", ["tap-skipcall", "--config", str(config)])
    with pytest.raises(SystemExit) as exit_code:
        cli.main()
    assert exit_code.value.code == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert "tap-skipcall stopped: Skipcall's answers for /v1/calls cannot all be true" in lines[-1]
