"""What real networks answer: redirects, trickling answers, odd strings, odd headers, TLS."""

from __future__ import annotations

import json
import logging
import sys
import time

import pytest

from skipcall_simulator import Fault
from tap_skipcall import cli
from tests.helpers import run_tap, tap_config, visible_truth


def test_a_redirect_to_another_origin_is_refused_naming_both(make_simulator):
    sim, elsewhere = make_simulator(n_calls=30), make_simulator(n_calls=30)
    sim.simulator.faults.append(
        Fault(kind="redirect", endpoint="list_calls", location=f"{elsewhere.url}/v1/calls")
    )
    result = run_tap(tap_config(sim), expect_error=True)
    message = str(result.error)
    assert f"Skipcall's API at {sim.url} answered /v1/calls with a redirect (HTTP 302)" in message
    assert f"to {elsewhere.url}, another origin: the tap does not follow it" in message
    assert elsewhere.simulator.stats.requests == 0  # neither followed with the key nor without
    assert result.records() == []


@pytest.mark.parametrize("other", ["scheme", "port"])
def test_another_scheme_or_port_is_another_origin(make_simulator, other):
    sim = make_simulator(n_calls=5)
    host_port = sim.url.split("://")[1]
    location = {
        "scheme": f"https://{host_port}/v1/calls",
        "port": f"http://127.0.0.1:{sim.port + 1}/v1/calls",
    }[other]
    sim.simulator.faults.append(Fault(kind="redirect", endpoint="list_calls", location=location))
    result = run_tap(tap_config(sim), expect_error=True)
    assert "another origin: the tap does not follow it" in str(result.error)


def test_a_redirect_within_the_origin_is_followed(make_simulator):
    sim = make_simulator(n_calls=150)
    sim.simulator.faults.append(Fault(kind="redirect", endpoint="list_calls", location=""))
    result = run_tap(tap_config(sim))
    assert sorted(result.ids()) == sorted(visible_truth(sim))


def test_a_trickling_answer_is_dropped_at_the_timeout_and_read_again(make_simulator, caplog):
    sim = make_simulator(n_calls=250)
    # One byte every 0.2 s: 50 s for the first page's ~40 kB, each read well within 1 s.
    sim.simulator.faults.append(
        Fault(kind="trickle", endpoint="list_calls", seconds=0.2, skip=1, times=1)
    )
    started = time.monotonic()
    result = run_tap(tap_config(sim, request_timeout=1))
    elapsed = time.monotonic() - started
    assert sorted(result.ids()) == sorted(visible_truth(sim))
    assert elapsed < 8, elapsed  # about 1 s lost, not 50
    assert sim.simulator.stats.by_endpoint["list_calls"] == 3 + 1  # the page read again
    assert (
        f"No whole answer from {sim.url} for page 2 of /v1/calls within `request_timeout`: "
        "retrying up to "
        "5 times" in caplog.text
    )


def test_an_answer_that_always_trickles_ends_in_one_sentence_about_the_timeout(
    make_simulator, monkeypatch, tmp_path, caplog
):
    sim = make_simulator(n_calls=10)
    sim.simulator.faults.append(Fault(kind="trickle", endpoint="list_calls", seconds=0.5, times=-1))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim, request_timeout=1)))
    monkeypatch.setattr(sys, "argv", ["tap-skipcall", "--config", str(config)])
    started = time.monotonic()
    with pytest.raises(SystemExit) as exit_code:
        cli.main()
    assert exit_code.value.code == 1
    assert time.monotonic() - started < 12  # six tries of a second, short retries
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        f"tap-skipcall stopped: The Skipcall API at {sim.url} did not answer page 1 of "
        "/v1/calls in full within `request_timeout`, even after retrying: raise "
        "`request_timeout` if its answers are that slow, or check that this machine reaches it "
        "at full speed (network, proxy)."
    ]


def test_strings_json_allows_but_utf8_cannot_encode_are_written_replaced(make_simulator):
    sim = make_simulator(n_calls=40)
    calls = sorted(sim.simulator.data.calls.values(), key=lambda c: c["updatedAt"])
    calls[5]["notes"] = "half an emoji \udc80 then a whole one \U0001f600"
    calls[6]["notes"] = "\ud83d"  # a high surrogate alone
    calls[7]["custom\udc81"] = "a key too"
    result = run_tap(tap_config(sim))
    assert len(result.ids()) == 40  # every call after them written too
    by_id = {record["id"]: record for record in result.records()}
    assert by_id[calls[5]["id"]]["notes"] == "half an emoji \ufffd then a whole one \U0001f600"
    assert by_id[calls[6]["id"]]["notes"] == "\ufffd"
    assert by_id[calls[7]["id"]]["extra"] == {"custom\ufffd": "a key too"}


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        (
            {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "far"},
            "X-RateLimit-Reset is 'far', not a time",
        ),
        (
            {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"},
            "X-RateLimit-Reset is",  # filled in below: an hour ahead
        ),
        ({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "Infinity"}, "not a count"),
        ({"X-RateLimit-Limit": "0", "X-RateLimit-Remaining": "0"}, "no plan allows"),
        ({"X-RateLimit-Limit": "NaN"}, "X-RateLimit-Limit is 'NaN', not a count"),
        ({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "500"}, "above Limit"),
    ],
    ids=["unreadable-reset", "reset-an-hour-away", "infinite", "limit-0", "nan", "above"],
)
def test_rate_limit_headers_that_cannot_be_true_are_not_obeyed(
    make_simulator, caplog, headers, why
):
    sim = make_simulator(n_calls=300)
    if "X-RateLimit-Reset" not in headers and "Infinity" not in headers.values():
        headers = {**headers, "X-RateLimit-Reset": str(int(time.time()) + 3600)}
    sim.simulator.faults.append(Fault(kind="headers", headers=headers, times=-1))
    started = time.monotonic()
    result = run_tap(tap_config(sim))
    assert sorted(result.ids()) == sorted(visible_truth(sim))
    assert time.monotonic() - started < 10  # no pause of a minute or more per request
    lines = [r.message for r in caplog.records if "rate-limit headers cannot be true" in r.message]
    assert len(lines) == 1, lines  # said once
    assert why in lines[0]
    assert "paces itself with its own backoff instead" in lines[0]


def test_https_to_a_plain_http_server_says_so_at_once(make_simulator):
    sim = make_simulator(n_calls=5)
    started = time.monotonic()
    result = run_tap(
        tap_config(sim, api_url=sim.url.replace("http://", "https://")), expect_error=True
    )
    assert time.monotonic() - started < 5  # no retries
    assert (
        f"The server at {sim.url.replace('http://', 'https://')} speaks plain http, not https"
        in str(result.error)
    )
