"""The request budget: header-driven pauses, the user's cap, and no 429 against a real window."""

from __future__ import annotations

import time
from email.utils import formatdate
from types import SimpleNamespace

import pytest

from tap_skipcall.network.budget import RequestBudget, seconds_until_reset
from tests.helpers import run_tap, tap_config, visible_truth


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("1800000030", 30.0),  # Unix seconds
        ("1800000030000", 30.0),  # Unix milliseconds
        ("12", 12.0),  # a delay in seconds
        ("1799999990", 0.0),  # already past
        ("1800009999", 120.0),  # absurdly far: capped
        ("soon", None),
        (None, None),
    ],
)
def test_reset_header_units(header, expected):
    assert seconds_until_reset(header, 1_800_000_000.0) == expected


def test_pauses_until_reset_when_remaining_reaches_zero():
    clock = FakeClock()
    budget = RequestBudget(clock=clock, sleep=clock.sleep)
    budget.acquire()
    budget.observe(200, {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "1800000040"})
    budget.acquire()
    assert clock.sleeps == []
    budget.observe(200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1800000040"})
    budget.acquire()
    assert clock.sleeps == [40.0]
    assert budget.pauses == 1


def test_a_429_blocks_until_its_reset():
    clock = FakeClock()
    budget = RequestBudget(clock=clock, sleep=clock.sleep)
    budget.acquire()
    budget.observe(429, {"X-RateLimit-Reset": "1800000007"})
    assert budget.knows_reset
    budget.acquire()
    assert clock.sleeps == [7.0]


def test_server_clock_from_date_header_defeats_skew():
    clock = FakeClock()
    budget = RequestBudget(clock=clock, sleep=clock.sleep)
    # Our clock is 100 s ahead of the server's: the reset is 20 s away on the server.
    budget.observe(
        200,
        {
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "1799999920",
            "Date": formatdate(1_799_999_900, usegmt=True),
        },
    )
    budget.acquire()
    assert clock.sleeps == [20.0]


def test_our_clock_is_used_while_it_agrees_with_the_servers_date():
    clock = FakeClock(1_800_000_000.7)
    budget = RequestBudget(clock=clock, sleep=clock.sleep)
    budget.acquire()
    budget.observe(
        200,
        {
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "1800000003000",  # milliseconds
            "Date": formatdate(1_800_000_000, usegmt=True),  # whole seconds, rounded down
        },
    )
    budget.acquire()
    assert clock.sleeps == [pytest.approx(2.3)]  # not 3.0: the Date's rounding is not added


def test_a_window_used_up_by_requests_in_flight_holds_back_every_sender():
    clock = FakeClock()
    budget = RequestBudget(clock=clock, sleep=clock.sleep)
    budget.acquire()
    budget.observe(200, {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "1800000010"})
    for _ in range(3):  # three in flight use up what the window had left
        budget.acquire()
    assert clock.sleeps == []
    budget.acquire()  # a fourth waits for the reset, although no answer said 0 yet
    assert clock.sleeps == [10.0]


def test_a_late_answer_from_the_same_window_cannot_raise_the_count():
    clock = FakeClock()
    budget = RequestBudget(clock=clock, sleep=clock.sleep)
    for _ in range(2):
        budget.acquire()
    headers = {"X-RateLimit-Reset": "1800000010"}
    # The second request's answer comes first: 1 left, but the other one may not be
    # counted in it yet, so none is taken for granted.
    budget.observe(200, {**headers, "X-RateLimit-Remaining": "1"})
    budget.observe(200, {**headers, "X-RateLimit-Remaining": "2"})  # the first, arriving late
    budget.acquire()
    assert clock.sleeps == [10.0]


def test_user_cap_allows_at_most_that_many_in_any_minute():
    clock = FakeClock()
    budget = RequestBudget(max_per_minute=3, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(10):
        budget.acquire()
        sent.append(clock.now)
        clock.now += 1
    assert clock.sleeps[0] == 57.0  # the 4th waits until the 1st is a minute old
    assert all(sum(1 for t in sent if start <= t < start + 60) <= 3 for start in sent)
    assert sent[-1] - sent[0] < 190  # and no longer than needed: 10 requests, 3 a minute


@pytest.mark.slow
def test_a_short_live_window_is_used_fully_without_any_429(make_simulator):
    # 5 requests per 1-second window; 16 pages need 4 windows.
    sim = make_simulator(n_calls=1600, rate_limit=5, window_seconds=1.0, reset_unit="ms")
    started = time.monotonic()
    result = run_tap(tap_config(sim), select=["calls"])
    elapsed = time.monotonic() - started
    assert sorted(result.ids()) == sorted(visible_truth(sim))
    assert sim.simulator.stats.by_status == {200: 16}
    assert sim.simulator.stats.by_status[429] == 0
    assert 2.5 < elapsed < 8


def test_max_requests_per_minute_caps_the_tap(make_simulator, monkeypatch):
    clock = FakeClock(time.time())
    monkeypatch.setattr(
        "tap_skipcall.network.budget.time", SimpleNamespace(time=clock, sleep=clock.sleep)
    )
    sim = make_simulator(n_calls=500)
    result = run_tap(tap_config(sim, max_requests_per_minute=2), select=["calls"])
    assert len(result.ids()) == 500
    # 5 pages at 2 a minute: the 3rd waits a minute, the 4th none, the 5th another minute.
    assert len(clock.sleeps) == 2
    assert all(59 < s <= 60 for s in clock.sleeps)
