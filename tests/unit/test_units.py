"""Small pieces on their own: error bodies, the sort parameter, progress lines."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
import requests

from tap_skipcall.calls.paginator import sort_params
from tap_skipcall.calls.progress import Progress, Reach
from tap_skipcall.errors import error_detail, explain_client_error, redact
from tap_skipcall.network.budget import Plan
from tap_skipcall.network.transport import Transport
from tap_skipcall.values import plural


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


class FakeSession:
    sent = 0


class Lines(logging.Handler):
    """Every line a logger logs: its text (``lines``), and its fields (``fields``)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.fields: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.fields.append(
            {
                k: getattr(record, k)
                for k in ("stream", "records", "requests", "eta_seconds", "done")
            }
        )


def progress_under(now, *, plan=None, incremental=False):
    """A Progress on a fake clock and session; the lines it logs (a live list)."""
    handler = Lines()
    log = logging.getLogger(f"tests.progress.{id(handler)}")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    transport = Transport()
    transport.session = FakeSession()  # type: ignore[assignment]
    transport.budget.plan = plan
    progress = Progress("calls", transport, log, clock=lambda: now[0], incremental=incremental)
    progress.log_handler = handler  # type: ignore[attr-defined]
    return progress, transport.session, handler.lines


def test_progress_lines_say_how_far_and_how_long():
    from tap_skipcall.calls.progress import Reach

    now = [0.0]
    progress, session, lines = progress_under(now)
    session.sent = 20
    progress.page(Reach(total=10_000, delivered=100), 100, 100)
    now[0] = 11.0
    session.sent = 220  # 200 requests in 11 s: 18 a second
    progress.page(Reach(total=10_000, delivered=2_000), 100, 100)  # 10 s since the last line
    progress.page(Reach(total=10_000, delivered=2_100), 100, 100)  # too soon: none
    now[0] = 12.0
    progress.done()
    assert lines == [
        # 220 requests for a fifth: 880 more, at 20 a second (the rate since the last line).
        "calls: 200 calls sent, 20% of the 10,000 calls, 220 requests in all, "
        "0 rate-limit waits (0 s), about 44 s left.",
        "calls: 300 calls sent (300 rows read, 3 pages), 220 requests in all, "
        "0 rate-limit waits (0 s), done in 12.0 s.",
    ]
    # the same figures as fields, for a JSON log
    assert progress.log_handler.fields == [
        {"stream": "calls", "records": 200, "requests": 220, "eta_seconds": 44.0, "done": False},
        {"stream": "calls", "records": 300, "requests": 220, "eta_seconds": None, "done": True},
    ]


def test_time_left_is_paced_by_the_plan_when_a_burst_ran_ahead_of_it():
    from tap_skipcall.calls.progress import Reach

    now = [0.0]
    progress, session, lines = progress_under(now, plan=Plan(100, 60.0))
    session.sent = 100  # a window's allowance sent at once, in the first 10 s
    now[0] = 10.0
    progress.page(Reach(total=20_000, delivered=10_000), 100, 100)
    # 100 requests for half: 100 more, at the plan's 100 a minute: a minute, not 10 s.
    assert lines[0].endswith("about 60 s left.")


@pytest.mark.parametrize(
    ("reach", "share", "words"),
    [
        (Reach(total=20_000, delivered=5_000), 0.25, ", 25% of the 20,000 calls"),
        # a resumed read landed at row 8,100: 11,900 left
        (
            Reach(total=20_000, delivered=10_000, landed=8_100),
            0.16,
            ", 16% of the 11,900 calls left",
        ),
        (Reach(total=20_000, delivered=8_000, landed=8_100), 0.0, ", 0% of the 11,900 calls left"),
        # to start_date: the time covered from the newest call down to it
        (
            Reach(
                total=20_000,
                delivered=500,
                newest=datetime(2025, 1, 11, tzinfo=UTC),
                oldest=datetime(2025, 1, 8, tzinfo=UTC),
                floor=datetime(2025, 1, 1, tzinfo=UTC),
            ),
            0.3,
            ", 30% of the way down to 2025-01-01 00:00 UTC",
        ),
        (Reach(), None, ""),
    ],
    ids=["backfill", "resumed", "not-landed-yet", "start_date", "unknown"],
)
def test_how_far_a_read_is(reach, share, words):
    assert (None if reach.share is None else round(reach.share, 2)) == share
    assert reach.words() == words


def test_an_incremental_run_that_sends_nothing_says_so():
    from tap_skipcall.calls.progress import Reach

    now = [0.0]
    progress, session, lines = progress_under(now, incremental=True)
    session.sent = 1
    progress.page(Reach(total=5_000, delivered=100), 100, 0)
    now[0] = 0.4
    progress.done()
    assert lines == [
        "calls: nothing changed since the last run (1 page read, 1 request), done in 0.4 s."
    ]


def test_a_closing_line_of_one_page_one_request_one_wait_reads_in_the_singular():
    from tap_skipcall.calls.progress import Reach

    now = [0.0]
    progress, session, lines = progress_under(now)
    progress.transport.budget.pauses = 1
    session.sent = 1
    progress.page(Reach(total=1, delivered=1), 1, 1)
    now[0] = 0.5
    progress.done()
    assert lines == [
        "calls: 1 call sent (1 row read, 1 page), 1 request in all, 1 rate-limit wait (0 s), "
        "done in 0.5 s."
    ]


@pytest.mark.parametrize(
    ("count", "noun", "words"),
    [
        (0, "page", "0 pages"),
        (1, "page", "1 page"),
        (2, "request", "2 requests"),
        (12_345, "row", "12,345 rows"),
    ],
)
def test_counts_read_as_words(count, noun, words):
    assert plural(count, noun) == words


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


@pytest.mark.parametrize(
    ("draws", "sampled", "seen", "expected"),
    [
        (10_000, 500, 453, 2_445),  # 2,500 contacts drawn uniformly: 2,454 expected
        (500, 500, 400, 400),  # the whole list sampled: what was seen
        (100, 500, 400, 80),  # fewer draws than sampled: a share of what was seen
        (3_000, 500, 6, 6),  # a handful of sequences, all seen already
        (3_000, 50, 50, 3_000),  # no repeat in the sample: every draw may be new
        (3_000, 0, 0, 0),
    ],
)
def test_distinct_values_among_many_draws_from_a_sample(draws, sampled, seen, expected):
    from tap_skipcall.costs import distinct_among

    assert round(distinct_among(draws, sampled, seen)) == expected


def test_a_sample_turns_the_bounds_into_estimates():
    from tap_skipcall.costs import Sample, distinct_among, first_sync

    sample = Sample(
        calls=500,
        with_contact=460,
        contacts=420,
        in_sequence=250,
        sequences=6,
        sequence_pages=2.0,
        recordings=20,
        transcribed=4,
        workspaces=3,
    )
    every = {
        "calls",
        "call_recordings",
        "call_transcriptions",
        "contacts",
        "sequence_contacts",
        "workspaces",
        "workspace_members",
        "users",
    }
    bounded = first_sync(10_000, every, 100)
    estimated = first_sync(10_000, every, 100, sample)
    assert bounded.at_most
    assert not estimated.at_most
    # 100 pages, 10,000 recordings, a fifth of them transcribed, the distinct contacts of
    # 9,200 calls with one, 6 sequences of 2 pages, 3 members' lists, workspaces and users.
    contacts = round(distinct_among(9_200, 460, 420))
    assert estimated.requests == 100 + 10_000 + 2_000 + contacts + 12 + 3 + 2
    assert estimated.requests < bounded.requests


@pytest.mark.parametrize(
    ("pages", "sampled"),
    [(0, []), (1, [1]), (3, [1, 2, 3]), (30, [1, 8, 15, 23, 30]), (200, [1, 51, 101, 150, 200])],
)
def test_pages_sampled_spread_over_the_list(pages, sampled):
    from tap_skipcall.streams.sampling import pages_to_sample

    assert pages_to_sample(pages) == sampled


@pytest.mark.parametrize(
    ("reach", "left", "words"),
    [
        # start_date years before the first call: what the list holds bounds what is left
        (
            Reach(
                total=50_000,
                delivered=1_000,
                newest=datetime(2025, 3, 1, tzinfo=UTC),
                oldest=datetime(2025, 2, 28, tzinfo=UTC),
                floor=datetime(2020, 1, 1, tzinfo=UTC),
            ),
            49_000,
            ", 2% of the 50,000 calls",
        ),
        # start_date halfway: the time covered says how many more lie above it
        (
            Reach(
                total=40_000,
                delivered=5_000,
                newest=datetime(2025, 1, 21, tzinfo=UTC),
                oldest=datetime(2025, 1, 16, tzinfo=UTC),
                floor=datetime(2025, 1, 11, tzinfo=UTC),
            ),
            5_000,
            ", 50% of the way down to 2025-01-11 00:00 UTC",
        ),
        # read below the floor already: nothing left
        (
            Reach(
                total=40_000,
                delivered=5_000,
                newest=datetime(2025, 1, 21, tzinfo=UTC),
                oldest=datetime(2025, 1, 10, tzinfo=UTC),
                floor=datetime(2025, 1, 11, tzinfo=UTC),
            ),
            0,
            ", 100% of the way down to 2025-01-11 00:00 UTC",
        ),
        (Reach(total=300, delivered=300), 0, ", 100% of the 300 calls"),
        (Reach(delivered=300), None, ""),
    ],
    ids=["floor-years-before", "floor-halfway", "below-the-floor", "at-the-end", "no-total"],
)
def test_rows_left_are_bounded_by_what_the_list_holds(reach, left, words):
    assert (None if reach.rows_left is None else round(reach.rows_left)) == left
    assert reach.words() == words


def test_a_list_growing_as_fast_as_it_is_read_promises_no_time_left():
    now = [0.0]
    progress, session, lines = progress_under(now, plan=Plan(1000, 60.0))
    session.sent = 10
    now[0] = 10.0
    progress.page(Reach(total=1_000, delivered=500), 100, 100)
    now[0] = 20.0
    session.sent = 20
    progress.page(Reach(total=1_600, delivered=1_000), 100, 100)  # grew 600, read 500
    assert "about" in lines[0]
    assert lines[1].endswith("the list growing as fast as it is read (no end in sight yet).")
    assert "left" not in lines[1]
