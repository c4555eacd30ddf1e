"""What the tap does with every documented error, fault and malformed answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from skipcall_simulator import Fault
from tap_skipcall.cli import main as cli
from tap_skipcall.errors import SkipcallAPIError
from tests.helpers import loaded_latest, run_tap, tap_config, visible_truth

SECRET = "sk_live_do_not_print_me_0123456789"


def list_calls_served(sim) -> int:
    return sum(
        1
        for endpoint, _, status in sim.simulator.stats.log
        if endpoint == "list_calls" and status == 200
    )


def run_cli(config: dict, *args: str) -> subprocess.CompletedProcess:
    """Run the installed console script the way Meltano does."""
    return subprocess.run(
        [sys.executable, "-m", "tap_skipcall", "--config", "ENV", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            **{
                f"TAP_SKIPCALL_{k.upper()}": (json.dumps(v) if isinstance(v, list) else str(v))
                for k, v in config.items()
            },
        },
    )


@pytest.mark.parametrize(
    ("subscription", "expected"),
    [
        ("SUBSCRIPTION_REQUIRED", "needs an active Skipcall subscription"),
        ("PLAN_NOT_ELIGIBLE", "needs the STARTER, INTERMÉDIAIRE or EXPERT plan"),
    ],
)
def test_subscription_errors_stop_with_what_to_fix(make_simulator, subscription, expected):
    sim = make_simulator(n_calls=10, subscription=subscription)
    result = run_tap(tap_config(sim), expect_error=True)
    assert isinstance(result.error, SkipcallAPIError)
    assert f"HTTP 403 {subscription}" in str(result.error)
    assert expected in str(result.error)
    assert sim.simulator.stats.requests == 1  # not retried


def test_invalid_key_is_one_line_without_traceback_or_key(make_simulator):
    sim = make_simulator(n_calls=10, api_key="sk_test_the_right_one")
    completed = run_cli({"api_key": SECRET, "api_url": sim.url})
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert SECRET not in completed.stderr + completed.stdout
    stopped = [line for line in completed.stderr.splitlines() if "tap-skipcall stopped" in line]
    assert len(stopped) == 1
    assert (
        "Skipcall rejected the API key (HTTP 401 UNAUTHORIZED: Invalid or revoked API key)"
        in stopped[0]
    )
    assert "Set `api_key`" in stopped[0]
    assert sim.simulator.stats.by_status[401] == 1


def test_workspace_outside_scope_names_the_setting(make_simulator):
    sim = make_simulator(n_calls=10)
    result = run_tap(
        tap_config(sim, workspace_ids=["not-a-workspace-of-this-key"]), expect_error=True
    )
    assert "HTTP 403" in str(result.error)
    assert "`workspace_ids`" in str(result.error)


def test_bad_request_is_fatal_and_quotes_the_api(make_simulator):
    sim = make_simulator(n_calls=10, max_limit=50)
    result = run_tap(tap_config(sim, page_size=100), expect_error=True)
    assert isinstance(result.error, FatalAPIError)
    assert "HTTP 400" in str(result.error)
    assert "limit must not be greater than 50" in str(result.error)
    assert "`page_size`" in str(result.error)
    assert sim.simulator.stats.requests == 1


def test_wrong_api_url_path_gives_a_404_hint(make_simulator):
    sim = make_simulator(n_calls=10)
    result = run_tap(tap_config(sim, api_url=sim.url + "/skipcall"), expect_error=True)
    assert "HTTP 404" in str(result.error)
    assert "Check `api_url`" in str(result.error)


@pytest.mark.parametrize("suffix", ["/", "/v1", "/v1/", " "])
def test_an_api_url_ending_in_the_version_or_a_slash_is_read_as_the_host(make_simulator, suffix):
    sim = make_simulator(n_calls=10)
    result = run_tap(tap_config(sim, api_url=sim.url + suffix))
    assert len(result.ids()) == 10
    paths = {query for endpoint, query, _ in sim.simulator.stats.log}
    assert sim.simulator.stats.by_endpoint["unknown"] == 0, paths


@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind="status", status=500, endpoint="list_calls", skip=2, times=3),
        Fault(kind="status", status=503, endpoint="list_calls", skip=0, times=1),
        Fault(kind="drop", endpoint="list_calls", skip=1, times=2),
        Fault(kind="bad_json", endpoint="list_calls", skip=3, times=2),
        Fault(kind="slow", seconds=1.5, endpoint="list_calls", skip=1, times=1),
    ],
    ids=["500", "503", "dropped-connection", "bad-json", "timeout"],
)
def test_transient_faults_are_retried_and_lose_nothing(make_simulator, fault):
    sim = make_simulator(n_calls=520)
    sim.simulator.faults.append(fault)
    result = run_tap(tap_config(sim, request_timeout=1))
    assert sorted(set(result.ids())) == sorted(visible_truth(sim))
    assert fault.fired == fault.times
    # Every page was eventually served once successfully.
    assert list_calls_served(sim) == 6


def test_429_storm_waits_for_each_reset_and_loses_nothing(make_simulator):
    # A short window (0.5 s, reset in ms) keeps the test fast; the logic is the same at 60 s.
    sim = make_simulator(n_calls=520, window_seconds=0.5, reset_unit="ms")
    storm = Fault(kind="rate_limit", endpoint="list_calls", skip=2, times=3)
    sim.simulator.faults.append(storm)
    started = time.monotonic()
    result = run_tap(tap_config(sim))
    assert sorted(set(result.ids())) == sorted(visible_truth(sim))
    assert storm.fired == 3
    assert sim.simulator.stats.by_status[429] == 3
    assert list_calls_served(sim) == 6
    assert time.monotonic() - started < 10


def test_persistent_server_error_gives_up_after_bounded_retries(make_simulator):
    sim = make_simulator(n_calls=10)
    sim.simulator.faults.append(Fault(kind="status", status=500, endpoint="*", times=-1))
    result = run_tap(tap_config(sim), expect_error=True)
    assert isinstance(result.error, RetriableAPIError)
    assert "HTTP 500" in str(result.error)
    assert sim.simulator.stats.requests == 6  # retry_max_tries, then stop


def test_persistent_bad_json_is_a_clear_error_not_a_key_error(make_simulator):
    sim = make_simulator(n_calls=10)
    sim.simulator.faults.append(Fault(kind="bad_json", endpoint="*", times=-1))
    result = run_tap(tap_config(sim), expect_error=True)
    assert isinstance(result.error, RetriableAPIError)
    assert "not valid JSON" in str(result.error)


def test_unexpected_json_shape_is_a_clear_error(make_simulator):
    sim = make_simulator(n_calls=10)
    sim.simulator.faults.append(Fault(kind="wrong_shape", endpoint="*", times=-1))
    result = run_tap(tap_config(sim), expect_error=True)
    assert isinstance(result.error, SkipcallAPIError)
    assert "without the documented `data` list (got keys: count, items)" in str(result.error)


def test_cli_reports_exhausted_retries_in_one_line(make_simulator, monkeypatch, tmp_path, caplog):
    sim = make_simulator(n_calls=10)
    sim.simulator.faults.append(Fault(kind="bad_json", endpoint="*", times=-1))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    monkeypatch.setattr(sys, "argv", ["tap-skipcall", "--config", str(config)])
    with pytest.raises(SystemExit) as exit_info:
        cli()
    assert exit_info.value.code == 1
    stopped = [r for r in caplog.records if "tap-skipcall stopped" in r.getMessage()]
    assert len(stopped) == 1
    assert stopped[0].exc_info is None  # no traceback
    assert "not valid JSON" in stopped[0].getMessage()
    assert "gave up after retrying" in stopped[0].getMessage()


def test_faults_during_incremental_sync_lose_nothing(make_simulator):
    sim = make_simulator(n_calls=800)
    first = run_tap(tap_config(sim, page_size=50))
    sim.simulator.data.update_calls(140)
    sim.simulator.faults.append(
        Fault(kind="status", status=502, endpoint="list_calls", probability=0.4, times=-1)
    )
    second = run_tap(tap_config(sim, page_size=50), state=first.state)
    latest = loaded_latest(first, second)
    assert {k for k in latest} == set(visible_truth(sim))
    assert all(latest[k]["updatedAt"] == v["updatedAt"] for k, v in visible_truth(sim).items())
