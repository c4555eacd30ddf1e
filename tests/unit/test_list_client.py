"""The calls list outside the SDK's paging: probes, the count ``--test`` shows, the pace."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests

from tap_skipcall.calls.list_client import CallsList
from tap_skipcall.calls.position import PageRequest
from tap_skipcall.calls.rows import Probe
from tap_skipcall.network.budget import Plan
from tap_skipcall.network.transport import Transport


def answer(payload, elapsed_ms=100.0):
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(payload).encode()
    response.elapsed = timedelta(milliseconds=elapsed_ms)
    return response


def calls_list(payload=None, *, concurrent=8, pages_ahead=None, plan=None):
    sent: list[PageRequest] = []

    def send(page):
        sent.append(page)
        return answer(payload or {"data": [], "total": 0})

    transport = Transport(max_concurrent_requests=concurrent)
    transport.budget.plan = plan
    return CallsList(send, transport, pages_ahead=pages_ahead), sent


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"data": [], "total": 1234}, 1234),
        ({"data": [], "total": 0}, 0),
        ({"data": []}, None),
        ({"data": [], "total": True}, None),
        ({"data": [], "total": "12"}, None),
    ],
)
def test_the_count_is_one_request_for_one_call(payload, expected):
    client, sent = calls_list(payload)
    assert client.count_visible() == expected
    assert sent == [PageRequest(1, None, limit=1)]


def test_a_probe_is_the_newest_call_and_the_total_in_the_page_wire_form():
    head = {"id": "c1", "updatedAt": "2026-01-01T00:00:00.000Z"}
    client, sent = calls_list({"data": [head], "total": 7})
    assert client.probe(PageRequest(4, "json")) == Probe(("c1", head["updatedAt"]), 7)
    assert sent == [PageRequest(1, "json", limit=1)]


@pytest.mark.parametrize(
    ("concurrent", "setting", "plan", "elapsed_ms", "first", "paced"),
    [
        (8, None, Plan(1000, 60), 150, 1, 8),  # answers slower than the plan's pace: 8
        (8, None, Plan(1000, 60), 20, 1, 1),  # answers faster: the budget sets the pace
        (8, None, Plan(100, 60), 250, 1, 1),  # a 100-a-minute plan: one at a time
        (8, None, None, 250, 1, None),  # no plan announced: nothing to choose from
        (8, 4, Plan(1000, 60), 250, 4, None),  # the setting decides
        (1, 4, Plan(1000, 60), 250, 1, None),  # one request at a time: no pages together
        (1, None, Plan(1000, 60), 250, 1, None),
    ],
)
def test_pages_read_together_follow_the_setting_or_the_plan_and_answer_time(
    concurrent, setting, plan, elapsed_ms, first, paced
):
    client, _ = calls_list(concurrent=concurrent, pages_ahead=setting, plan=plan)
    assert client.first_pages_ahead() == first
    pace = client.pace(answer({"data": []}, elapsed_ms))
    assert (pace.pages if pace else None) == paced
