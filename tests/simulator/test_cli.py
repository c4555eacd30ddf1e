"""The command line as a new user meets it: bad files, misspellings, --test."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tap_skipcall.cli import argv_problems
from tap_skipcall.tap import TapSkipcall
from tests.helpers import catalog_selecting, run_tap, tap_config


def tap(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tap_skipcall", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )


@pytest.mark.slow  # a subprocess each
@pytest.mark.parametrize(
    ("files", "option", "expected"),
    [
        ({}, "--config", "The config file {} does not exist."),
        ({"x.json": '{"api_key": '}, "--config", "is not valid JSON (line 1, column 13"),
        ({"x.json": "[1, 2]"}, "--config", "must hold a JSON object, not list"),
        ({"x.json": "{"}, "--state", "The state file {} is not valid JSON"),
        ({}, "--state", "To start without a state, leave out `--state`"),
        ({"x.json": "null"}, "--catalog", "The catalog file {} must hold a JSON object"),
        ({"x.json": " \n"}, "--state", "The state file {} is empty. To start without a state"),
        (
            {"x.json": '{"type":"RECORD","stream":"calls","record":{}}'},
            "--state",
            "The state holds a RECORD message, not a STATE: keep the last line of a run that",
        ),
    ],
    ids=[
        "missing-config",
        "malformed-config",
        "list-config",
        "bad-state",
        "no-state",
        "null",
        "empty-state",
        "record-as-state",
    ],
)
def test_each_bad_file_is_one_sentence_naming_it(tmp_path, files, option, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    path = str(tmp_path / "x.json")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"api_key": "sk_test_x"}))
    args = [option, path] if option == "--config" else ["--config", str(good), option, path]
    assert len(argv_problems(args)) == 1
    completed = tap(*args)
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    assert "tap-skipcall stopped:" in lines[0]
    assert expected.format(path) in lines[0]


@pytest.mark.slow  # a subprocess each
def test_a_misspelled_setting_is_named_with_the_one_meant(make_simulator, tmp_path):
    sim = make_simulator(n_calls=20)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**tap_config(sim), "pagesize": 50}))
    completed = tap("--config", str(config), "--test")
    assert completed.returncode == 0
    assert "Unknown setting `pagesize` is ignored. Did you mean `page_size`?" in completed.stderr


@pytest.mark.slow  # a subprocess each
@pytest.mark.parametrize("form", ["two words", "one word"])
def test_connection_test_is_one_line_and_samples_only_what_it_needs(make_simulator, tmp_path, form):
    sim = make_simulator(n_calls=40)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    options = ["--config", str(config)] if form == "two words" else [f"--config={config}"]
    completed = tap(*options, "--test")
    assert completed.returncode == 0
    assert "ERROR" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    found = re.search(
        r"Connection test passed: the API key can read calls \(40 visible\)\. A first sync of "
        r"the selected streams needs about (\d+) requests \(estimated from 40 calls: (\d+) "
        r"requests\)\.$",
        lines[0],
    )
    assert found is not None, lines[0]
    # The count, then the sample: the one page of calls, the sequences met there, the
    # workspaces (the default streams include sequence contacts and members).
    assert sim.simulator.stats.requests == 1 + int(found[2])
    assert sim.simulator.stats.by_endpoint["list_calls"] == 2
    assert sim.simulator.stats.by_endpoint["recording"] == 0  # no transcription selected


@pytest.mark.slow  # a subprocess each
def test_connection_test_with_a_bad_key_is_the_usual_sentence(make_simulator, tmp_path):
    sim = make_simulator(n_calls=5, api_key="sk_test_right")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**tap_config(sim), "api_key": "sk_test_wrong"}))
    completed = tap("--config", str(config), "--test")
    assert completed.returncode == 1
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "tap-skipcall stopped: Skipcall rejected the API key (HTTP 401" in lines[0]
    assert "sk_test_wrong" not in completed.stderr


def test_argv_problems_leaves_good_files_and_env_alone(tmp_path):
    good = tmp_path / "c.json"
    good.write_text("{}")
    assert argv_problems(["--config", "ENV", "--config", str(good), "--discover"]) == []
    assert argv_problems([f"--state={tmp_path / 'none.json'}"]) == [
        f"The state file {tmp_path / 'none.json'} does not exist. To start without a state, "
        "leave out `--state`; to keep one for the next run, save the last STATE line the tap "
        "prints (see the README, Running without Meltano)."
    ]


def discovered_catalog(config_path) -> dict:
    return json.loads(tap("--config", str(config_path), "--discover").stdout)


@pytest.mark.slow  # a subprocess each
def test_a_catalog_without_the_parent_of_what_it_selects_is_one_sentence(make_simulator, tmp_path):
    sim = make_simulator(n_calls=10)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    catalog = discovered_catalog(config)
    for stream in catalog["streams"]:
        if stream["tap_stream_id"] == "calls":
            stream["tap_stream_id"] = stream["stream"] = "call"  # renamed by hand
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    completed = tap("--config", str(config), "--catalog", str(tmp_path / "catalog.json"))
    assert completed.returncode == 1
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    assert "has no entry for calls" in lines[0]
    assert "it names call, which this tap does not have" in lines[0]
    assert "Traceback" not in completed.stderr
    assert sim.simulator.stats.requests == 0


@pytest.mark.slow  # a subprocess each
def test_a_catalog_selecting_a_stream_the_tap_lacks_is_named_once(make_simulator, tmp_path):
    sim = make_simulator(n_calls=10)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    catalog = discovered_catalog(config)
    extra = json.loads(json.dumps(catalog["streams"][0]))
    extra["tap_stream_id"] = extra["stream"] = "tickets"
    for entry in extra["metadata"]:
        if entry["breadcrumb"] == []:
            entry["metadata"]["selected"] = True
    catalog["streams"].append(extra)
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    completed = tap("--config", str(config), "--catalog", str(tmp_path / "catalog.json"))
    assert completed.returncode == 0
    warnings = [line for line in completed.stderr.splitlines() if "tickets" in line]
    assert len(warnings) == 1
    assert "which this tap does not have" in warnings[0]
    assert "Its streams are workspaces, workspace_members" in warnings[0]
    assert "Nothing else is selected" not in warnings[0]  # the discovered defaults are
    assert completed.stderr.count("tap-skipcall v") == 1  # the version line once


@pytest.mark.slow  # a subprocess
def test_a_catalog_from_another_tap_says_it_syncs_nothing(make_simulator, tmp_path):
    sim = make_simulator(n_calls=10)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    other = {
        "streams": [
            {
                "tap_stream_id": "orders",
                "stream": "orders",
                "schema": {"type": "object", "properties": {"id": {"type": "string"}}},
                "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}],
            }
        ]
    }
    (tmp_path / "catalog.json").write_text(json.dumps(other))
    completed = tap("--config", str(config), "--catalog", str(tmp_path / "catalog.json"))
    assert completed.returncode == 0
    warnings = [line for line in completed.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1
    assert (
        "The catalog selects orders, which this tap does not have: ignored. Nothing else is "
        "selected, so this run syncs nothing." in warnings[0]
    )
    assert completed.stderr.count("tap-skipcall v") == 1
    assert sim.simulator.stats.requests == 0


@pytest.mark.slow  # a subprocess
def test_a_bad_setting_is_one_line(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": "sk_test_x", "page_size": 500}))
    completed = tap("--config", str(config))
    assert completed.returncode == 1
    errors = [line for line in completed.stderr.splitlines() if "ERROR" in line]
    assert errors == [errors[0]]
    assert "`page_size` must be a whole number from 1 to 100 (got 500)." in errors[0]
    assert "Config validation failed" not in completed.stderr


def test_an_unreachable_api_says_what_it_retries_and_ends_naming_the_host(
    monkeypatch, caplog, tmp_path
):
    import logging
    import socket
    import sys as system

    from tap_skipcall import cli

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": "sk_test_x", "api_url": f"http://127.0.0.1:{port}"}))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting({"api_key": "sk_test_x"}, ["calls"])))
    monkeypatch.setattr(
        system, "argv", ["tap-skipcall", "--config", str(config), "--catalog", str(catalog)]
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SystemExit) as exit_code:
        cli.main()
    assert exit_code.value.code == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert (
        f"Cannot reach http://127.0.0.1:{port} for page 1 of /v1/calls (connection refused): "
        "retrying up to 5 times" in warnings[0]
    )
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        f"tap-skipcall stopped: Could not reach the Skipcall API at http://127.0.0.1:{port} "
        "while asking for page 1 of /v1/calls (connection refused), even after retrying: check "
        f"`api_url` (http://127.0.0.1:{port}) and that this machine can reach it (network, "
        "proxy, firewall)."
    ]
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert not [m for m in shown if m.startswith(("Backing off", "Giving up", "An unhandled"))]


@pytest.mark.slow  # a subprocess
def test_connection_test_says_the_plan_and_what_a_first_sync_of_the_catalog_costs(
    make_simulator, tmp_path
):
    sim = make_simulator(n_calls=2_000, rate_limit=100, window_seconds=60.0)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting(tap_config(sim), ["calls", "contacts"])))
    completed = tap(f"--config={config}", "--catalog", str(catalog), "--test")
    assert completed.returncode == 0
    found = re.search(
        r"Connection test passed: the API key can read calls \(2,000 visible\) on a plan of 100 "
        r"requests a minute\. A first sync of the selected streams needs about ([\d,]+) "
        r"requests, (\d+) min at the plan's rate \(estimated from 500 calls: 5 requests\)\.",
        completed.stderr,
    )
    assert found is not None, completed.stderr
    requests = int(found[1].replace(",", ""))
    assert int(found[2]) == round(requests / 100)
    assert sim.simulator.stats.requests == 1 + 5  # the count, five pages spread over the list


@pytest.mark.slow  # a subprocess each
def test_help_describes_test_as_it_behaves_and_a_wrong_key_is_one_line(make_simulator, tmp_path):
    assert "estimate what a first sync of the selected streams costs" in " ".join(
        tap("--help").stdout.split()
    )
    sim = make_simulator(n_calls=5, api_key="sk_test_right")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**tap_config(sim), "api_key": "sk_test_wrong"}))
    completed = tap("--config", str(config))  # a sync, not --test
    assert completed.returncode == 1
    errors = [line for line in completed.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, completed.stderr
    assert "tap-skipcall stopped: Skipcall rejected the API key (HTTP 401" in errors[0]
    assert "An unhandled error occurred" not in completed.stderr


@pytest.mark.slow  # subprocesses
def test_the_readme_environment_forms_work_as_written(make_simulator, tmp_path):
    sim = make_simulator(n_calls=60)
    wanted = sorted(sim.simulator.data.workspaces)[:2]
    env = {
        **os.environ,
        "PYTHONPATH": os.getcwd(),
        "TAP_SKIPCALL_API_KEY": sim.simulator.config.api_key,
        "TAP_SKIPCALL_API_URL": sim.url,
        "TAP_SKIPCALL_WORKSPACE_IDS": json.dumps(wanted),  # as the README writes it
    }
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting(tap_config(sim), ["calls"])))

    def run(*args: str, **more: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tap_skipcall", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, **more},
        )

    synced = run("--config", "ENV", "--catalog", str(catalog))
    assert synced.returncode == 0, synced.stderr[-2000:]
    ids = {
        json.loads(line)["record"]["id"]
        for line in synced.stdout.splitlines()
        if line.startswith('{"type":"RECORD"')
    }
    in_scope = {c for c, w in sim.simulator.data.call_workspace.items() if w in wanted}
    assert ids == in_scope
    assert "DEBUG" not in synced.stderr
    debug = run("--config", "ENV", "--catalog", str(catalog), TAP_SKIPCALL_LOGLEVEL="DEBUG")
    assert debug.returncode == 0
    assert "| DEBUG    |" in debug.stderr
    about = run("--about", "--format", "markdown")
    assert about.returncode == 0
    assert "| api_key " in about.stdout
    assert "| batch_config " in about.stdout  # the SDK's own settings are listed too


@pytest.mark.slow  # a subprocess
def test_the_readme_test_commands_collect_the_tests():
    completed = subprocess.run(
        ["scripts/test", "-m", "not slow", "--collect-only", "-q", "tests/unit/test_config.py"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "tests collected" in completed.stdout or "test_config.py::" in completed.stdout


@pytest.mark.slow  # whole syncs
@pytest.mark.parametrize("streams", ["default", "every"])
def test_the_test_estimate_is_within_a_quarter_of_a_real_first_sync(make_simulator, streams):
    from tests.helpers import ALL_STREAMS, DEFAULT_STREAMS

    sim = make_simulator(n_calls=3_000, seed=11)
    config = tap_config(sim, stats_start_date="2024-06-01")
    catalog = catalog_selecting(config, DEFAULT_STREAMS if streams == "default" else ALL_STREAMS)
    sentence = TapSkipcall(
        config=config, catalog=catalog, parse_env_config=False
    ).check_connection()
    found = re.search(r"needs about ([\d,]+) requests", sentence)
    assert found is not None, sentence
    estimate = int(found[1].replace(",", ""))
    before = sim.simulator.stats.requests
    run_tap(config, catalog=catalog)
    real = sim.simulator.stats.requests - before
    assert abs(estimate - real) <= real / 4, (estimate, real)
