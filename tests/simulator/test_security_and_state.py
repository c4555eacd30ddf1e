"""Secrets never leak; states the tap did not write are refused before any request."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from skipcall_simulator import Fault
from tap_skipcall.tap import StateError, TapSkipcall
from tests.helpers import catalog_selecting, run_tap, tap_config

SECRET = "sk_live_S3CRET_never_print_me_4242"


def cli(args: list[str], config: dict, tmp_path, **env: str) -> str:
    (tmp_path / "config.json").write_text(json.dumps(config))
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tap_skipcall",
            "--config",
            str(tmp_path / "config.json"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TAP_SKIPCALL_LOGLEVEL": "DEBUG", "LOGLEVEL": "DEBUG", **env},
    )
    return completed.stdout + completed.stderr


@pytest.mark.slow
def test_the_key_never_appears_in_anything_the_tap_writes(make_simulator, tmp_path):
    sim = make_simulator(n_calls=150, api_key=SECRET)
    sim.simulator.faults += [
        Fault(kind="status", status=500, endpoint="list_calls", times=1),
        Fault(kind="drop", endpoint="recording", times=1),
    ]
    config = tap_config(sim, stats_start_date="2025-01-01")
    streams = [s["tap_stream_id"] for s in catalog_selecting(config, [])["streams"]]
    (tmp_path / "catalog.json").write_text(json.dumps(catalog_selecting(config, streams)))
    written = cli(["--catalog", str(tmp_path / "catalog.json")], config, tmp_path)
    assert '"type":"RECORD","stream":"call_transcriptions"' in written  # it really synced
    assert "retrying up to 5 times" in written  # and went through retries
    written += cli(["--about", "--format", "json"], config, tmp_path)
    written += cli(["--discover"], config, tmp_path)
    written += cli(["--test"], config, tmp_path)
    wrong = make_simulator(n_calls=5, api_key="sk_test_other")  # a 401 that quotes nothing
    written += cli([], tap_config(wrong, api_key=SECRET), tmp_path)
    assert "DEBUG" in written
    assert SECRET not in written
    assert SECRET[8:] not in written


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            {"bookmarks": {"issues": {"replication_key_value": "2024-01-01"}}},
            "bookmarks only for streams this tap does not have (issues)",
        ),
        (
            {
                "bookmarks": {
                    "calls": {
                        "replication_key": "createdAt",
                        "replication_key_value": "2024-01-01T00:00:00Z",
                    }
                }
            },
            "bookmarks calls by 'createdAt', not `updatedAt`",
        ),
        (
            {
                "bookmarks": {
                    "calls": {"replication_key": "updatedAt", "replication_key_value": 1712}
                }
            },
            "calls bookmark '1712' is not an ISO 8601 timestamp",
        ),
        ({"bookmarks": ["calls"]}, "not a Singer state"),
    ],
)
def test_foreign_or_old_states_are_refused_before_any_request(make_simulator, state, expected):
    sim = make_simulator(n_calls=10)
    with pytest.raises(StateError) as error:
        TapSkipcall(config=tap_config(sim), state=state, parse_env_config=False)
    assert expected in str(error.value)
    assert "Give tap-skipcall its own state" in str(error.value)
    assert sim.simulator.stats.requests == 0


def test_a_state_of_this_tap_is_accepted(make_simulator):
    sim = make_simulator(n_calls=50)
    first = run_tap(tap_config(sim))
    second = run_tap(tap_config(sim), state=first.state)
    assert second.ids() == []


def test_cli_reports_a_foreign_state_in_one_line(make_simulator, tmp_path):
    sim = make_simulator(n_calls=10)
    (tmp_path / "state.json").write_text(json.dumps({"bookmarks": {"issues": {}}}))
    written = cli(["--state", str(tmp_path / "state.json")], tap_config(sim), tmp_path)
    assert "tap-skipcall stopped: The state holds bookmarks only for streams" in written
    assert "Traceback" not in written
    assert sim.simulator.stats.requests == 0
