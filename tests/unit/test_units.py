"""Small pieces on their own: error bodies, the sort parameter, progress lines."""

from __future__ import annotations

import json

import pytest
import requests

from tap_skipcall.calls.paginator import sort_params
from tap_skipcall.calls.progress import Progress
from tap_skipcall.errors import error_detail, explain_client_error, redact
from tap_skipcall.network.transport import Transport


def answer(status: int, body: object) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return response


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"error": {"code": "UNAUTHORIZED", "message": "bad key", "status": 401}},
            ("UNAUTHORIZED", "bad key"),
        ),
        ({"code": "API_KEY_INVALID", "details": None}, ("API_KEY_INVALID", None)),
        (
            {"statusCode": 400, "message": ["a is wrong", "b too"], "error": "Bad Request"},
            (None, "a is wrong; b too"),
        ),
        (b"<html>502</html>", (None, None)),
        ([1, 2], (None, None)),
    ],
    ids=["documented", "guide-page", "nestjs", "not-json", "not-an-object"],
)
def test_error_detail_reads_every_plausible_shape(body, expected):
    assert error_detail(answer(400, body)) == expected


def test_explain_client_error_names_the_setting_to_fix():
    forbidden = answer(403, {"error": {"code": "FORBIDDEN", "message": "scope"}})
    assert "`workspace_ids`" in explain_client_error(forbidden, "/v1/calls", narrowed=True)
    assert "`workspace_ids`" not in explain_client_error(forbidden, "/v1/calls", narrowed=False)
    assert redact("key sk_live_1234 leaked", "sk_live_1234") == "key *** leaked"


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("deep_object", {"sort[orderBy]": "updatedAt", "sort[order]": "desc"}),
        ("json", {"sort": '{"orderBy":"updatedAt","order":"desc"}'}),
        ("flat", {"orderBy": "updatedAt", "order": "desc"}),
    ],
)
def test_sort_params_in_each_wire_form(style, expected):
    assert sort_params(style, "updatedAt", "desc") == expected


def test_progress_lines_say_how_far_and_how_long():
    now = [0.0]
    lines: list[str] = []

    class Log:
        def info(self, fmt: str, line: str) -> None:
            lines.append(line)

    progress = Progress("calls", Transport(), Log(), clock=lambda: now[0])  # type: ignore[arg-type]
    progress.page(1000, 100)
    now[0] = 11.0
    progress.page(1000, 100)  # 10 s since the last line: one line
    progress.page(1000, 100)  # too soon: none
    now[0] = 12.0
    progress.done()
    assert lines == [
        "calls: 200 rows read of 1,000 (20%), 2 pages, 0 requests in all, "
        "0 rate-limit waits (0 s), about 44 s left at this pace.",
        "calls: 300 rows read, 3 pages, 0 requests in all, 0 rate-limit waits (0 s), "
        "done in 12.0 s.",
    ]


@pytest.mark.parametrize(
    ("headers", "wait", "expected"),
    [
        ({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99"}, 6.0, (100, 6.0)),  # fresh
        ({"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "420"}, 12.0, (1000, 60.0)),
        ({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99"}, None, (100, 60.0)),
        ({"X-RateLimit-Remaining": "99"}, 6.0, None),  # no limit announced
        ({"X-RateLimit-Limit": "lots"}, 6.0, None),
    ],
    ids=["fresh-window", "window-under-way", "no-reset", "no-limit", "unreadable"],
)
def test_the_plan_is_read_from_the_first_answer(headers, wait, expected):
    from tap_skipcall.network.budget import Plan

    plan = Plan.announced(headers, wait)
    assert (None if plan is None else (plan.limit, plan.window_seconds)) == expected


@pytest.mark.parametrize(
    ("selected", "requests", "at_most"),
    [
        ({"calls"}, 100, False),
        ({"calls", "workspaces", "users", "workspace_members", "sequence_contacts"}, 104, False),
        ({"calls", "call_recordings"}, 10_100, False),  # one per call, exactly
        ({"call_transcriptions"}, 20_100, True),  # recordings read too; some have none
        ({"calls", "contacts"}, 10_100, True),  # distinct contacts: at most one per call
        ({"users"}, 1, False),
    ],
)
def test_what_a_first_sync_needs(selected, requests, at_most):
    from tap_skipcall.costs import first_sync

    estimate = first_sync(10_000, selected, 100)
    assert (estimate.requests, estimate.at_most) == (requests, at_most)
    assert estimate.minutes(1_000) == requests / 1_000


def test_the_date_time_format_is_really_checked():
    """jsonschema skips a format silently when its checker is missing: the tests need it."""
    import jsonschema

    checker = jsonschema.FormatChecker()
    assert checker.conforms("2024-01-01T00:00:00.000Z", "date-time")
    assert not checker.conforms("not a date", "date-time")
