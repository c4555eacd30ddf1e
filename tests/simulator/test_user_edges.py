"""What users type and do: settings in every form, state files, flags, Ctrl-C, selections."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from tap_skipcall.values import parse_timestamp
from tests.helpers import catalog_selecting, run_tap, tap_config, visible_truth
from tests.simulator.test_cli import tap

BAD_PAGE_SIZE = "`page_size` must be a whole number from 1 to 100 (got 'lots')."


@pytest.mark.slow  # a subprocess each
@pytest.mark.parametrize("mode", [["--discover"], ["--about"], ["--test"], []])
def test_every_mode_answers_a_bad_setting_with_the_same_sentence(tmp_path, mode):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": "sk_test_x", "page_size": "lots"}))
    completed = tap("--config", str(config), *mode)
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    assert lines[0].endswith(f"tap-skipcall stopped: invalid settings: {BAD_PAGE_SIZE}")
    assert completed.stdout == ""


@pytest.mark.slow  # a subprocess each
def test_settings_from_the_environment_are_checked_the_same_way(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "tap_skipcall", "--config", "ENV", "--discover"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TAP_SKIPCALL_API_KEY": "sk_test_x", "TAP_SKIPCALL_PAGE_SIZE": "0"},
    )
    assert completed.returncode == 1
    assert "invalid settings: `page_size` must be a whole number from 1 to 100 (got 0)." in (
        completed.stderr
    )


@pytest.mark.slow  # a subprocess each
@pytest.mark.parametrize("value", ["foo", "ALL", "true"])
def test_test_takes_only_the_values_the_sdk_documents(make_simulator, tmp_path, value):
    sim = make_simulator(n_calls=5)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    completed = tap("--config", str(config), f"--test={value}")
    assert completed.returncode == 2
    assert (
        "tap-skipcall stopped: `--test` takes no value (it checks the key and estimates a "
        f"first sync) or `--test=schema` (the schemas only), not {value!r}."
    ) in completed.stderr
    assert sim.simulator.stats.requests == 0
    schemas = tap("--config", str(config), "--test=schema")
    assert schemas.returncode == 0
    assert '"type":"SCHEMA"' in schemas.stdout


def test_a_state_holding_a_whole_state_message_is_read_as_its_value(make_simulator, caplog):
    caplog.set_level(logging.INFO, logger="tap-skipcall")
    sim = make_simulator(n_calls=120)
    first = run_tap(tap_config(sim))
    message = next(m for m in reversed(first.messages) if m["type"] == "STATE")
    second = run_tap(tap_config(sim), state=message)
    assert second.ids() == []  # incremental: nothing changed, nothing sent again
    assert "The state holds a whole STATE message: reading its value." in caplog.text


@pytest.mark.parametrize(
    "form",
    ["{date}", "{date}T00:00:00", "{date}T00:00:00Z", "{date}T02:00:00+02:00", " {date} "],
    ids=["date", "no-offset", "utc", "offset", "spaces"],
)
def test_start_date_as_a_date_or_a_time_with_or_without_offset(make_simulator, form):
    sim = make_simulator(n_calls=300)
    stamps = sorted(parse_timestamp(c["updatedAt"]) for c in visible_truth(sim).values())
    last = stamps[-1]  # the calls span a day and a half: the last day's midnight splits them
    day = datetime(last.year, last.month, last.day, tzinfo=UTC)
    result = run_tap(tap_config(sim, start_date=form.format(date=day.date().isoformat())))
    expected = {
        cid for cid, c in visible_truth(sim).items() if parse_timestamp(c["updatedAt"]) >= day
    }
    assert set(result.ids()) == expected  # midnight UTC, whichever way it was written
    assert 0 < len(expected) < 300
    second = run_tap(
        tap_config(sim, start_date=form.format(date=day.date().isoformat())), state=result.state
    )
    assert second.ids() == []


def test_a_child_selected_without_calls_keeps_the_calls_bookmark(make_simulator, caplog):
    caplog.set_level(logging.INFO, logger="tap-skipcall")
    sim = make_simulator(n_calls=200)
    config = tap_config(sim)
    first = run_tap(config, select=["call_recordings"])
    assert first.records("calls") == []
    bookmark = first.state["bookmarks"]["calls"]
    assert bookmark["replication_key_value"] == max(
        c["updatedAt"] for c in visible_truth(sim).values()
    )
    assert bookmark["resume"] is None
    notes = [r.message for r in caplog.records if "calls: not selected" in r.message]
    assert notes == [
        "calls: not selected, so calls are read for call_recordings but not written; their "
        "bookmark is kept, so the next run reads only the calls changed since."
    ]
    changed = set(sim.simulator.data.update_calls(5))
    watched = set(first.state["bookmarks"]["call_recordings"].get("unfinished", {})) | set(
        first.state["bookmarks"]["call_recordings"].get("not_attached", {})
    )
    before = sim.simulator.stats.by_endpoint["recording"]
    second = run_tap(config, select=["call_recordings"], state=first.state)
    assert sim.simulator.stats.by_endpoint["recording"] - before == len(changed | watched)
    assert sim.simulator.stats.by_endpoint["list_calls"] <= 2 + 1  # one page for the changes
    assert {r["call_id"] for r in second.records("call_recordings")} <= changed | watched


def test_a_deleted_call_takes_its_recording_and_transcription_along(make_simulator):
    sim = make_simulator(n_calls=150)
    streams = ["calls", "call_recordings", "call_transcriptions"]
    first = run_tap(tap_config(sim), select=streams)
    with_both = sorted(set(sim.simulator.data.recordings) & set(sim.simulator.data.transcriptions))
    deleted = sim.simulator.data.delete_calls(3, among=with_both)
    second = run_tap(tap_config(sim), select=streams, state=first.state)
    deleted_at = {cid: sim.simulator.data.calls[cid]["deletedAt"] for cid in deleted}
    for stream in ("call_recordings", "call_transcriptions"):
        rows = {r["call_id"]: r for r in second.records(stream)}
        assert {cid: rows[cid]["_sdc_deleted_at"] for cid in deleted} == deleted_at, stream
        assert all(r["_sdc_deleted_at"] is None for cid, r in rows.items() if cid not in deleted)
        kept = second.state["bookmarks"][stream]
        assert not set(deleted) & set(kept.get("unfinished", {}))  # never read again


def test_rows_with_a_missing_or_broken_key_follow_the_stated_rule(make_simulator, caplog):
    sim = make_simulator(n_calls=120)
    calls = sorted(sim.simulator.data.calls.values(), key=lambda c: c["updatedAt"], reverse=True)
    no_id, null_stamp, bad_stamp, twice = calls[3], calls[10], calls[11], calls[20]
    no_id["id"] = None
    null_stamp["updatedAt"] = None
    bad_stamp["updatedAt"] = "yesterday"
    data = sim.simulator.data
    data.calls["listed-twice"] = dict(twice)  # the API lists it twice
    data.call_workspace["listed-twice"] = data.call_workspace[twice["id"]]
    result = run_tap(tap_config(sim))
    ids = result.ids()
    assert None not in ids
    assert ids.count(twice["id"]) == 1  # written once
    assert len(ids) == len(set(ids)) == 120 - 1  # every call with an id, once
    rows = {r["id"]: r for r in result.records()}
    assert rows[null_stamp["id"]]["updatedAt"] is None
    assert rows[bad_stamp["id"]]["updatedAt"] is None
    assert rows[bad_stamp["id"]]["extra"] == {"updatedAt_as_sent": "yesterday"}
    warnings = [r.message for r in caplog.records if r.levelname == "WARNING"]
    (without_id,) = [w for w in warnings if "without a usable id" in w]
    assert without_id.startswith(
        "calls: 1 row without a usable id was not written (a target keys calls on id): row "
    )
    assert without_id.endswith(f"of page 1 (updatedAt {no_id['updatedAt']!r}).")
    assert any(
        w.startswith("calls: 2 calls without a readable updatedAt were written with it null")
        and null_stamp["id"] in w
        and bad_stamp["id"] in w
        for w in warnings
    )


def run_until_states(args: list[str], states: int, sig: int, tmp_path) -> tuple[int, str, str]:
    """Run the tap's command; once it wrote ``states`` STATE lines, send it ``sig``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tap_skipcall", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert process.stdout is not None
    seen, lines = 0, []
    for line in process.stdout:
        lines.append(line)
        if line.startswith('{"type":"STATE"'):
            seen += 1
            if seen == states:
                process.send_signal(sig)
                break
    rest, errors = process.communicate(timeout=120)
    return process.returncode, "".join(lines) + rest, errors


@pytest.mark.slow  # subprocesses
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_the_run_non_zero_after_its_last_checkpoint_and_the_next_resumes(
    make_simulator, tmp_path, sig, code
):
    sim = make_simulator(n_calls=2_000, latency=0.02)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim, max_concurrent_requests=1)))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting(tap_config(sim), ["calls"])))
    base = ["--config", str(config), "--catalog", str(catalog)]
    returncode, output, errors = run_until_states(base, 5, sig, tmp_path)
    assert returncode == code, errors[-2000:]
    assert f"Stopped by {signal.Signals(sig).name}" in errors
    assert "Traceback" not in errors
    messages = [json.loads(line) for line in output.splitlines() if line.strip()]
    first_ids = {m["record"]["id"] for m in messages if m["type"] == "RECORD"}
    state = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    assert state["bookmarks"]["calls"]["resume"] is not None  # a checkpoint, not the end
    assert 0 < len(first_ids) < 2_000
    (tmp_path / "state.json").write_text(json.dumps(state))
    resumed = subprocess.run(
        [sys.executable, "-m", "tap_skipcall", *base, "--state", str(tmp_path / "state.json")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resuming an interrupted sync of calls" in resumed.stderr
    second_ids = {
        json.loads(line)["record"]["id"]
        for line in resumed.stdout.splitlines()
        if line.startswith('{"type":"RECORD"')
    }
    assert first_ids | second_ids == set(visible_truth(sim))  # nothing lost
    assert len(first_ids & second_ids) <= 100  # at most about the page it was in


@pytest.mark.slow  # subprocesses
@pytest.mark.parametrize(
    "signals", [["SIGTERM"], ["SIGINT", "SIGTERM"]], ids=["sigterm", "ctrl-c-then-sigterm"]
)
def test_a_signal_ends_a_rate_limit_pause_at_once_and_is_said_once(
    make_simulator, tmp_path, signals
):
    # 5 requests a minute: the sixth waits most of a minute for the window.
    sim = make_simulator(n_calls=2_000, rate_limit=5)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting(tap_config(sim), ["calls"])))
    process = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "dev",
            "-m",
            "tap_skipcall",
            "--config",
            str(config),
            "--catalog",
            str(catalog),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if "Rate limit: pausing" in line:
            break
    started = time.monotonic()
    for name in signals:
        process.send_signal(getattr(signal, name))
    rest = process.communicate(timeout=30)[1]
    took = time.monotonic() - started
    errors = "".join(lines) + rest
    assert process.returncode == 128 + getattr(signal, signals[0])
    assert took < 3, f"the pause held the stop for {took:.1f} s"
    assert errors.count("Stopped by") == 1, errors[-2000:]
    assert "Exception ignored" not in errors
    assert "ResourceWarning" not in errors  # -X dev shows every one
    assert "Traceback" not in errors
