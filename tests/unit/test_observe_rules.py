"""The run report's rules, one table each: the budget used, the report's path, bookmarks,
what a scope attributes, the atomic write, and the shape against the shipped schema."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import jsonschema
import pytest

from tap_skipcall.observe import RunObservation, bookmarks_of
from tap_skipcall.observe.recorder import RunRecorder
from tap_skipcall.observe.report import SCHEMA, Budget, report_path, run_report, write_atomically
from tap_skipcall.settings import config_problems, secret_values

STARTED = 1_796_185_200.0  # 2026-12-02T04:20:00Z


@pytest.mark.parametrize(
    ("requests", "limit", "window", "seconds", "used"),
    [
        (20, 100, 60.0, 3.0, 0.2),  # shorter than a window: one window's allowance
        (1_000, 100, 60.0, 600.0, 1.0),  # ten minutes at the plan's pace
        (500, 100, 60.0, 600.0, 0.5),
        (100, 100, 6.0, 60.0, 0.1),  # a plan announced over 6 s: ten windows a minute
        (20, None, None, 3.0, None),  # no plan announced
        (0, 1_000, 60.0, 0.0, 0.0),
    ],
)
def test_the_budget_used_is_requests_over_what_the_plan_allowed(
    requests, limit, window, seconds, used
):
    assert Budget(None, requests, limit, window, seconds).used == used


@pytest.mark.parametrize(
    ("template", "environ", "path"),
    [
        ("r.json", {}, "r.json"),
        ("reports/{started_at}.json", {}, "reports/20261202T042000Z.json"),
        (
            "reports/$MELTANO_JOB_ID.json",
            {"MELTANO_JOB_ID": "dev:a-to-b"},
            "reports/dev:a-to-b.json",
        ),
        ("reports/${MELTANO_RUN_ID}/r.json", {"MELTANO_RUN_ID": "9f1c"}, "reports/9f1c/r.json"),
        # a variable not set is left as written: the file is still written, and visible
        ("reports/$MELTANO_JOB_ID.json", {}, "reports/$MELTANO_JOB_ID.json"),
        ("r-$lower.json", {"lower": "x"}, "r-$lower.json"),  # only names in capitals
    ],
)
def test_the_report_path_fills_in_the_start_and_variables(template, environ, path):
    assert report_path(template, STARTED, environ) == Path(path)


@pytest.mark.parametrize(
    ("state", "bookmarks"),
    [
        ({}, {}),
        (
            {
                "bookmarks": {
                    "calls": {"replication_key_value": "2026-01-01T00:00:00Z"},
                    "users": {},
                }
            },
            {("calls", None): "2026-01-01T00:00:00Z"},
        ),
        (
            {
                "accounts": {
                    "fr": {"bookmarks": {"calls": {"replication_key_value": "A"}}},
                    "de": {"bookmarks": {"calls": {"replication_key_value": None}}},
                    "it": "not an entry",
                }
            },
            {("calls", "fr"): "A"},
        ),
    ],
    ids=["empty", "one-key", "accounts"],
)
def test_bookmarks_are_read_per_stream_and_account(state, bookmarks):
    assert bookmarks_of(state) == bookmarks


def test_a_scope_attributes_requests_retries_and_waits_to_its_stream_and_thread():
    recorder = RunRecorder()
    with recorder.streaming("calls"):
        recorder.sent("GET", "u")(200, 0.1)
        recorder.retrying(1)
        recorder.sent("GET", "u")(500, 0.1)
        with recorder.streaming("call_recordings", span=False):
            recorder.sent("GET", "u")(200, 0.1)
        # a child's request started ahead by its parent is the child's, in another thread
        work = recorder.carried(lambda: recorder.sent("GET", "u")(200, 0.1), "contacts")
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        recorder.waited(2.5)
    recorder.sent("GET", "u")(200, 0.1)  # outside any stream
    counts = {key[0]: c for key, c in recorder.counts.items()}
    assert (counts["calls"].requests, counts["calls"].retries) == (2, 1)
    assert (counts["calls"].rate_limit_waits, counts["calls"].wait_seconds) == (1, 2.5)
    assert counts["call_recordings"].requests == 1
    assert counts["contacts"].requests == 1
    assert counts["(no stream)"].requests == 1
    assert (recorder.requests, recorder.retries) == (5, 1)


def test_the_report_matches_the_shipped_schema_and_says_every_count():
    recorder = RunRecorder(started_at=STARTED)
    with recorder.streaming("calls"):
        recorder.sent("GET", "u")(200, 0.1)
        recorder.written("calls", None, 3)
    recorder.warned("A warning.")
    content = run_report(
        recorder,
        outcome="succeeded",
        error=None,
        finished_at=STARTED + 2,
        bookmarks={("calls", None): (None, "2026-01-01T00:00:00Z")},
        budgets=[Budget(None, 1, 100, 60.0, 2.0)],
    )
    jsonschema.validate(content, json.loads(SCHEMA.read_text()))
    assert content["started_at"] == "2026-12-02T04:20:00Z"
    assert content["streams"] == [
        {
            "stream": "calls",
            "account": None,
            "records": 3,
            "requests": 1,
            "retries": 0,
            "rate_limit_waits": 0,
            "wait_seconds": 0.0,
            "bookmark": {"before": None, "after": "2026-01-01T00:00:00Z"},
        }
    ]
    assert content["totals"]["budget_used"] == 0.01
    assert content["warnings"] == ["A warning."]


def test_a_reader_sees_the_old_report_or_the_whole_new_one(tmp_path, monkeypatch):
    path = tmp_path / "reports" / "run.json"
    write_atomically(path, {"n": 1})
    assert json.loads(path.read_text()) == {"n": 1}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("tap_skipcall.observe.report.os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, {"n": 2})
    assert json.loads(path.read_text()) == {"n": 1}  # the old one, whole
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.json"]  # nothing left behind


def test_the_report_is_written_once_and_never_shows_a_key(tmp_path, caplog):
    key = "sk_live_0123456789abcdef"
    recorder = RunRecorder()
    observation = RunObservation(recorder, str(tmp_path / "r.json"), secrets=[key])
    logging.getLogger("tap-skipcall.calls").warning("The API quoted %s back.", key)
    observation.finish("failed", f"tap-skipcall stopped: bad {key}", state={}, budgets=[])
    observation.finish("succeeded", None, state={}, budgets=[])  # a signal after: ignored
    text = (tmp_path / "r.json").read_text()
    content = json.loads(text)
    assert key not in text
    assert content["outcome"] == "failed"
    assert content["error"] == "tap-skipcall stopped: bad ***"
    assert content["warnings"] == ["The API quoted *** back."]
    # after the run, warnings are no longer kept
    logging.getLogger("tap-skipcall").warning("Later.")
    assert recorder.warnings == ["The API quoted sk_live_0123456789abcdef back."]


def test_a_report_that_cannot_be_written_is_said_and_the_run_goes_on(tmp_path, caplog):
    (tmp_path / "file").write_text("")
    observation = RunObservation(RunRecorder(), str(tmp_path / "file" / "r.json"))
    observation.finish("succeeded", None, state={}, budgets=[])
    assert "The run report could not be written to" in caplog.text


def test_every_secret_setting_is_found_where_it_sits():
    config = {
        "api_key": "sk_live_a",
        "privacy_key": "k" * 16,
        "accounts": [{"name": "fr", "api_key": "sk_live_fr"}, {"name": "de", "api_key": "sk_de"}],
        "api_url": "https://api-public.skipcall.app",
        "user_agent": "not secret",
    }
    assert sorted(secret_values(config)) == sorted(["sk_live_a", "k" * 16, "sk_live_fr", "sk_de"])


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"run_report_path": "reports/{started_at}.json"}, None),
        ({"run_report_path": ""}, "`run_report_path` must name a file"),
        ({"run_report_path": 3}, "`run_report_path` must name a file"),
        ({"run_report_path": "."}, "`run_report_path` must name a file"),  # a folder
        ({"log_format": "json"}, None),
        ({"log_format": "JSON"}, "`log_format` must be text or json (got 'JSON')."),
    ],
)
def test_the_observation_settings_are_checked(settings, problem):
    problems = config_problems({"api_key": "sk_test_x", **settings})
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert problems[0].startswith(problem)
