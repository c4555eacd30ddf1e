"""Requests in flight together: the same records, the same state, no 429, one budget."""

from __future__ import annotations

import logging
import math

import pytest

from tests.helpers import ALL_STREAMS, loaded_latest, run_tap, tap_config, visible_truth

pytestmark = pytest.mark.slow


#: State entries that map ids to moments: only their ids are compared.
CLOCK_MAPS = ("refreshed_at", "unfinished", "not_attached")


def without_times(messages):
    """The messages less what depends on the clock: extraction times, table versions (the
    moment a read began) and the calls state's clock readings."""
    clockless = []
    for message in messages:
        message = {k: v for k, v in message.items() if k not in ("time_extracted", "version")}
        for stream, bookmark in message.get("value", {}).get("bookmarks", {}).items():
            message["value"]["bookmarks"][stream] = {
                key: sorted(value) if key in CLOCK_MAPS else value
                for key, value in bookmark.items()
                if key not in ("reconciled_at", "last_run_at", "refresh_walk")
            }
        clockless.append(message)
    return clockless


def test_concurrency_changes_nothing_in_what_is_written(make_simulator):
    results = {}
    for concurrency in (1, 8):
        # Same data, answers a little slow so that requests really overlap.
        sim = make_simulator(n_calls=450, seed=21, latency=0.003)
        config = tap_config(sim, stats_start_date="2024-06-01")
        results[concurrency] = (
            run_tap({**config, "max_concurrent_requests": concurrency}, select=ALL_STREAMS),
            sim.simulator.stats.requests,
        )
    (serial, serial_requests), (parallel, parallel_requests) = results[1], results[8]
    for stream in ALL_STREAMS:
        assert parallel.records(stream) == serial.records(stream), stream
        assert serial.records(stream), stream
    assert without_times(parallel.messages) == without_times(serial.messages)
    assert parallel_requests == serial_requests  # nothing started ahead was wasted


def test_no_429_when_the_window_runs_out_with_requests_in_flight(make_simulator):
    # 40 requests per 1-second window, 10 ms answers, 8 in flight: the window runs out
    # many times while requests are on their way.
    sim = make_simulator(
        n_calls=300, rate_limit=40, window_seconds=1.0, reset_unit="ms", latency=0.01
    )
    config = tap_config(sim, stats_start_date="2024-06-01", max_concurrent_requests=8)
    result = run_tap(config, select=ALL_STREAMS)
    assert len(result.records("calls")) == 300
    assert sim.simulator.stats.requests > 200
    assert sim.simulator.stats.by_status[429] == 0


def test_pages_read_together_write_what_pages_read_one_by_one_write(make_simulator):
    results = {}
    for ahead in (1, 8):
        sim = make_simulator(n_calls=2_500, seed=5, latency=0.002)
        config = tap_config(sim, max_concurrent_requests=8, calls_pages_ahead=ahead)
        results[ahead] = (run_tap(config, select=["calls"]), sim.simulator.stats)
    (one, one_stats), (many, many_stats) = results[1], results[8]
    assert many.records() == one.records()
    assert without_times([{"value": many.state}]) == without_times([{"value": one.state}])
    # 25 pages: page 1, then batches of pages 2-9, 10-17, 18-25, each with one probe.
    assert one_stats.by_endpoint["list_calls"] == 25
    assert many_stats.by_endpoint["list_calls"] == 25 + 3


@pytest.mark.parametrize("hide_deleted", [False, True])
def test_calls_moving_while_pages_are_read_together_are_never_lost(make_simulator, hide_deleted):
    from skipcall_simulator import MutationRule

    sim = make_simulator(n_calls=3_000, seed=9, latency=0.002, hide_deleted=hide_deleted)
    for after_page in (3, 7, 12, 20):
        sim.simulator.mutations.append(
            MutationRule(after_page=after_page, update=4, create=2, delete=2)
        )
    config = tap_config(sim, max_concurrent_requests=8, calls_pages_ahead=8)
    first = run_tap(config, select=["calls"])
    first_requests = sim.simulator.stats.by_endpoint["list_calls"]
    second = run_tap(config, select=["calls"], state=first.state)  # the next scheduled run
    latest = loaded_latest(first, second)
    truth = visible_truth(sim)
    assert set(truth) - set(latest) == set()
    assert [c for c in truth if latest[c]["updatedAt"] != truth[c]["updatedAt"]] == []
    # 31 pages and 4 probes if nothing had moved; the batches that saw calls move were
    # read again, one page at a time.
    assert first_requests > 31 + 4 + 8


@pytest.mark.parametrize(
    ("limit", "batches"),
    [(1000, True), (100, False)],
    ids=["1000-a-minute", "100-a-minute"],
)
def test_pages_read_together_are_chosen_from_the_plan_by_default(make_simulator, limit, batches):
    # A minute shortened tenfold: 100 or 10 requests per 6-second window; 80 ms answers.
    sim = make_simulator(
        n_calls=1_500,
        seed=3,
        latency=0.08,
        rate_limit=limit // 10,
        window_seconds=6.0,
        reset_unit="ms",
    )
    result = run_tap(tap_config(sim), select=["calls"])  # calls_pages_ahead not set
    assert len(result.records()) == 1_500
    list_requests = sim.simulator.stats.by_endpoint["list_calls"]
    probes = [q for e, q, _ in sim.simulator.stats.log if e == "list_calls" and "limit=1&" in q]
    if batches:  # 100 a window: 16.7 a second x 80 ms > 1 page, so 8 pages together
        assert probes
        assert list_requests == 15 + len(probes)
    else:  # 10 a window: the budget sets the pace, batches would only add probes
        assert probes == []
        assert list_requests == 15
    assert sim.simulator.stats.by_status[429] == 0


def test_a_backfill_from_start_date_reads_pages_together_to_the_edge(make_simulator, caplog):
    sim = make_simulator(n_calls=3_000, seed=5, latency=0.002)
    stamps = sorted(c["updatedAt"] for c in visible_truth(sim).values())
    start = stamps[1_450]  # 1,550 calls from it: the edge on page 16 of 30
    config = tap_config(sim, max_concurrent_requests=8, calls_pages_ahead=8, start_date=start)
    caplog.set_level(logging.INFO)
    result = run_tap(config, select=["calls"])
    expected = {cid for cid, c in visible_truth(sim).items() if c["updatedAt"] >= start}
    assert sorted(result.ids()) == sorted(expected)
    served = [q for endpoint, q, _ in sim.simulator.stats.log if endpoint == "list_calls"]
    probes = sum("limit=1&" in q or q.endswith("limit=1") for q in served)
    pages = len(served) - probes
    # Pages 1, 2-9 and 10-17 (the edge on 16): at most one batch past the edge, one probe
    # per batch, and nothing read again.
    assert pages == 17
    assert probes == 2
    assert "pages read together: 2 batches, 0 read again because the list moved." in caplog.text


def test_a_resumed_backfill_reads_pages_together_after_it_lands(make_simulator):
    sim = make_simulator(n_calls=3_000, seed=5, latency=0.002)
    config = tap_config(sim, max_concurrent_requests=8, calls_pages_ahead=8)
    first = run_tap(config, select=["calls"])
    checkpoint = next(  # the state a run killed after a third of the list had written
        s
        for s in first.states
        if (s["bookmarks"]["calls"].get("resume") or {}).get("rows_read", 0) >= 1_000
    )
    before = sim.simulator.stats.by_endpoint["list_calls"]
    resumed = run_tap(config, state=checkpoint, select=["calls"])
    rows_read = checkpoint["bookmarks"]["calls"]["resume"]["rows_read"]
    assert set(resumed.ids()) | set(first.ids()[:rows_read]) == set(visible_truth(sim))
    read = sim.simulator.stats.by_endpoint["list_calls"] - before
    pages_left = math.ceil((3_000 - rows_read) / 100)
    batches = math.ceil((pages_left - 1) / 8)
    assert read <= pages_left + 2 + batches  # the head, the landing, a probe per batch
    assert read > pages_left + 2  # probes: the pages left were read together
