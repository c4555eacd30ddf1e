"""Requests in flight together: the same records, the same state, no 429, one budget."""

from __future__ import annotations

import pytest

from tests.helpers import ALL_STREAMS, run_tap, tap_config

pytestmark = pytest.mark.slow


def without_times(messages):
    return [{k: v for k, v in m.items() if k != "time_extracted"} for m in messages]


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
