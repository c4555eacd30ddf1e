"""Fixtures: simulators on free ports of 127.0.0.1, and shorter retry waits."""

from __future__ import annotations

from typing import Any

import pytest

from skipcall_simulator import Dataset, RunningSimulator, Simulator, SimulatorConfig
from tap_skipcall.client.base import SkipcallStream


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same retry logic, shorter waits: tests check behaviour, not patience."""
    monkeypatch.setattr(SkipcallStream, "retry_base_seconds", 0.01)
    monkeypatch.setattr(SkipcallStream, "retry_max_seconds", 0.05)


@pytest.fixture
def clock(monkeypatch):
    """The tap's clock, moved by a test (``clock.now += timedelta(days=7)``)."""
    from datetime import UTC, datetime

    from tap_skipcall import clock as clock_module

    class Clock:
        now = datetime.now(UTC)

    monkeypatch.setattr(clock_module, "now", lambda: Clock.now)
    return Clock


@pytest.fixture
def make_simulator():
    """Start simulators on free ports; all are stopped after the test."""
    started: list[RunningSimulator] = []

    def factory(
        n_calls: int = 300,
        seed: int = 7,
        n_workspaces: int = 3,
        personal_text: bool = False,
        **config: Any,
    ) -> RunningSimulator:
        # No rate limit unless a test asks for one: others must not wait for windows.
        config.setdefault("rate_limit", None)
        simulator = Simulator(
            Dataset(
                seed=seed, n_calls=n_calls, n_workspaces=n_workspaces, personal_text=personal_text
            ),
            SimulatorConfig(**config),
        )
        running = RunningSimulator(simulator).start()
        started.append(running)
        return running

    yield factory
    for running in started:
        running.stop()
