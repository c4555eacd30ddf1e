"""The simulator's parts on their own: routes, faults, the rate window, latency, control."""

from __future__ import annotations

import time

import pytest

from skipcall_simulator import Dataset, Fault, RunningSimulator, Simulator, SimulatorConfig
from skipcall_simulator.endpoints import route
from skipcall_simulator.faults import FaultKind, Reply

KEY = "Bearer sk_test_simulator"


@pytest.mark.parametrize(
    ("path", "name", "params"),
    [
        ("/v1/calls", "list_calls", {}),
        ("/v1/calls/abc", "get_call", {"id": "abc"}),
        ("/v1/calls/abc/recording", "recording", {"id": "abc"}),
        ("/v1/sequences/s1/contacts", "sequence_contacts", {"id": "s1"}),
        ("/v1/teams/stats", "team_stats", {}),
        ("/v2/calls", None, {}),
    ],
)
def test_routes(path, name, params):
    found, taken = route(path)
    assert (found.name if found else None) == name
    assert taken == params


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("status", 503, {"error": {"code": "SERVICE_UNAVAILABLE"}}),
        ("rate_limit", 429, {"error": {"code": "TOO_MANY_REQUESTS"}}),
        ("bad_json", 200, b'{"data": [{"id": "trunc'),
        ("wrong_shape", 200, b'{"items": [], "count": 0}'),
        ("drop", 200, None),
    ],
)
def test_each_fault_is_decided_and_rendered_in_one_place(kind, status, body):
    sim = Simulator(Dataset(n_calls=5), SimulatorConfig(rate_limit=None))
    sim.faults.append(Fault(kind=kind, status=503, endpoint="list_calls"))
    got_status, headers, got, endpoint = sim.handle("/v1/calls", "", KEY)
    assert (endpoint, got_status) == ("list_calls", status)
    if isinstance(got, Reply):
        assert got.body == body
        assert got.drop is (kind == "drop")
    else:
        assert got["error"]["code"] == body["error"]["code"]
    if kind == "rate_limit":
        assert headers == {"X-RateLimit-Remaining": "0"}
    assert sim.faults[0].kind is FaultKind(kind)
    # It fired once (times=1): the next request is answered as usual.
    assert sim.handle("/v1/calls", "", KEY)[0] == 200


def test_the_rate_window_counts_every_endpoint_and_resets():
    now = [1_000.0]
    sim = Simulator(
        Dataset(n_calls=5), SimulatorConfig(rate_limit=2, window_seconds=10), time_fn=lambda: now[0]
    )
    statuses = [sim.handle(path, "", KEY)[0] for path in ("/v1/calls", "/v1/users", "/v1/calls")]
    assert statuses == [200, 200, 429]
    now[0] += 10
    status, headers, _, _ = sim.handle("/v1/calls", "", KEY)
    assert status == 200
    assert headers["X-RateLimit-Remaining"] == "1"
    assert headers["X-RateLimit-Reset"] == "1020"


def test_latency_delays_each_answer_and_overlaps_between_clients(make_simulator):
    import concurrent.futures

    import requests

    sim = make_simulator(n_calls=5, latency=0.2)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda _: requests.get(f"{sim.url}/v1/health", headers={"Authorization": KEY}),
                range(4),
            )
        )
    elapsed = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * 4
    assert 0.2 <= elapsed < 0.6  # four answers in flight together, not one after another


def test_control_changes_state_under_the_lock():
    sim = Simulator(Dataset(n_calls=5), SimulatorConfig(rate_limit=None))
    acquired = []

    class SpyLock:
        def __enter__(self):
            acquired.append(True)

        def __exit__(self, *exc):
            return False

    sim.lock = SpyLock()  # type: ignore[assignment]
    sim.control("POST", "/_sim/faults", {"kind": "drop"})
    sim.control("POST", "/_sim/config", {"sort_styles": ["json"]})
    assert acquired == [True, True]
    assert sim.config.sort_styles == ("json",)
    assert sim.faults[0].kind is FaultKind.DROP


def test_a_running_simulator_serves_the_route_table():
    with RunningSimulator(Simulator(Dataset(n_calls=12), SimulatorConfig())) as running:
        import requests

        body = requests.get(
            f"{running.url}/v1/calls", params={"limit": 5}, headers={"Authorization": KEY}
        ).json()
    assert (body["total"], len(body["data"]), body["totalPages"]) == (12, 5, 3)
