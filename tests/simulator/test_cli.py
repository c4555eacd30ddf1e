"""The command line as a new user meets it: bad files, misspellings, --test."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tap_skipcall.cli import argv_problems
from tests.helpers import tap_config


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
    ],
    ids=["missing-config", "malformed-config", "list-config", "bad-state", "no-state", "null"],
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
def test_connection_test_is_one_line_and_one_request(make_simulator, tmp_path, form):
    sim = make_simulator(n_calls=40)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    options = ["--config", str(config)] if form == "two words" else [f"--config={config}"]
    completed = tap(*options, "--test")
    assert completed.returncode == 0
    assert "ERROR" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "Connection test passed: the API key can read calls (40 visible)." in lines[0]
    assert sim.simulator.stats.requests == 1


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
