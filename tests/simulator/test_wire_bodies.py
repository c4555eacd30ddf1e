"""Bodies on the wire: compressed bombs, huge pages, bodies cut short, and proxies.

Bounded memory whatever arrives, and sentences that point at the cause: what the tap asked
for, where, and why it failed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys

import pytest

from skipcall_simulator import Fault
from tap_skipcall import cli
from tests.helpers import run_tap, tap_config, visible_truth

MB = 1 << 20


def free_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(config: dict, tmp_path, monkeypatch, caplog) -> tuple[int, list[str]]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    monkeypatch.setattr(sys, "argv", ["tap-skipcall", "--config", str(path)])
    caplog.set_level(logging.INFO)
    with pytest.raises(SystemExit) as exit_code:
        cli.main()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    return int(exit_code.value.code or 0), errors


@pytest.mark.slow  # a subprocess, and a 1 GiB bomb
def test_a_gzip_bomb_is_refused_in_bounded_memory(make_simulator, tmp_path):
    """1 MB on the wire inflating to 1 GiB: one sentence, and the peak resident memory of the
    tap's process (read by its parent with ``wait4``) stays under 500 MB."""
    sim = make_simulator(n_calls=50)
    sim.simulator.faults.append(
        Fault(kind="gzip_bomb", endpoint="list_calls", size=1 << 30, times=-1)
    )
    (tmp_path / "config.json").write_text(json.dumps(tap_config(sim)))
    pid = os.posix_spawn(
        sys.executable,
        [sys.executable, "-m", "tap_skipcall", "--config", str(tmp_path / "config.json")],
        dict(os.environ),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, str(tmp_path / "stderr"), os.O_WRONLY | os.O_CREAT, 0o600),
        ],
    )
    _, status, usage = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 1
    assert usage.ru_maxrss < 500 * 1024, f"{usage.ru_maxrss / 1024:.0f} MB resident"
    last = (tmp_path / "stderr").read_text().strip().splitlines()[-1]
    assert f"Skipcall answered page 1 of /v1/calls at {sim.url} with more than 64 MB" in last
    assert "once decompressed (1.0 MB on the wire, compressed)" in last
    assert "`max_answer_megabytes`" in last
    assert sim.simulator.stats.by_endpoint["list_calls"] == 1  # refused at once, not retried


@pytest.mark.parametrize(
    ("size", "cap", "passes"),
    [(900_000, 1, True), (2 * MB, 1, False), (200 * MB, 64, False)],
    ids=["under-the-cap", "over-a-small-cap", "200-mb-over-the-default"],
)
def test_a_large_page_passes_under_the_cap_or_gets_the_sentence(make_simulator, size, cap, passes):
    sim = make_simulator(n_calls=150)
    sim.simulator.faults.append(Fault(kind="pad", endpoint="list_calls", size=size, times=1))
    config = tap_config(sim, max_answer_megabytes=cap)
    if passes:
        result = run_tap(config, select=["calls"])
        assert sorted(result.ids()) == sorted(visible_truth(sim))
        assert max(len(c.get("notes") or "") for c in result.records()) > size // 2
        return
    result = run_tap(config, select=["calls"], expect_error=True)
    message = str(result.error)
    assert f"Skipcall answered page 1 of /v1/calls at {sim.url} with more than {cap} MB" in message
    assert result.records() == []
    assert sim.simulator.stats.by_endpoint["list_calls"] == 1


@pytest.mark.parametrize("kind", ["short", "broken_chunked"])
def test_a_body_cut_short_once_is_read_again(make_simulator, kind, caplog):
    sim = make_simulator(n_calls=250)
    sim.simulator.faults.append(Fault(kind=kind, endpoint="list_calls", cut=5000, skip=1))
    caplog.set_level(logging.INFO)
    result = run_tap(tap_config(sim), select=["calls"])
    assert sorted(result.ids()) == sorted(visible_truth(sim))
    announced = "of " if kind == "short" else "(chunked, length unsaid)"
    warning = next(r.getMessage() for r in caplog.records if "cut short" in r.getMessage())
    assert f"Skipcall's answer to page 2 of /v1/calls at {sim.url} was cut short: " in warning
    assert announced in warning
    assert "retrying up to 5 times" in warning


@pytest.mark.parametrize("kind", ["short", "broken_chunked"])
def test_a_body_always_cut_short_ends_in_one_sentence_saying_so(
    make_simulator, kind, tmp_path, monkeypatch, caplog
):
    sim = make_simulator(n_calls=250)
    sim.simulator.faults.append(Fault(kind=kind, endpoint="list_calls", cut=5000, times=-1))
    code, errors = run_cli(tap_config(sim), tmp_path, monkeypatch, caplog)
    assert code == 1
    assert len(errors) == 1
    error = errors[0]
    assert error.startswith(
        f"tap-skipcall stopped: Skipcall's answer to page 1 of /v1/calls at {sim.url} was cut "
        "short: "
    )
    if kind == "short":
        assert "bytes arrived of " in error
        assert " announced before the connection closed" in error
    else:
        assert "bytes arrived (chunked, length unsaid)" in error
    assert "on every try: the server, or something on the way" in error
    assert "check `api_url`" not in error  # the server was reached


def test_a_dead_proxy_is_named_with_the_variable_that_set_it(
    make_simulator, tmp_path, monkeypatch, caplog
):
    sim = make_simulator(n_calls=10)
    dead = f"http://user:secret@127.0.0.1:{free_port()}"
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", dead)
    code, errors = run_cli(tap_config(sim), tmp_path, monkeypatch, caplog)
    assert code == 1
    proxy = dead.replace("user:secret@", "")
    assert errors == [
        f"tap-skipcall stopped: Could not reach the Skipcall API at {sim.url} through the "
        f"proxy {proxy} (set by HTTP_PROXY) while asking for page 1 of /v1/calls (connection "
        "refused), even after retrying: check that the proxy runs and lets this "
        "machine through, or fix HTTP_PROXY (NO_PROXY lists the hosts to reach without it)."
    ]
    assert "secret" not in caplog.text
    assert sim.simulator.stats.requests == 0


def test_https_through_a_dead_proxy_names_it_too(tmp_path, monkeypatch, caplog):
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    proxy = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    config = {"api_key": "sk_test_x", "api_url": "https://api-public.skipcall.app"}
    code, errors = run_cli(config, tmp_path, monkeypatch, caplog)
    assert code == 1
    assert f"through the proxy {proxy} (set by HTTPS_PROXY)" in errors[0]
    assert "while asking for page 1 of /v1/calls" in errors[0]
