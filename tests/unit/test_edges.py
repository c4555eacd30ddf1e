"""The pure rules at the tap's edges: typed values, api_url, rate-limit headers, rows, deadlines."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime

import pytest

from tap_skipcall.calls.admit import RowNotes, admit
from tap_skipcall.calls.rows import version_key
from tap_skipcall.client.base import api_base
from tap_skipcall.network.body import REPLACEMENT, parse
from tap_skipcall.network.budget import RateHeaders, RequestBudget
from tap_skipcall.network.deadline import Watchdog
from tap_skipcall.settings import config_problems
from tap_skipcall.values import calendar_date, parse_timestamp, positive_int, utc_timestamp

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("value", "moment", "setting"),
    [
        ("2024-01-31", datetime(2024, 1, 31, tzinfo=UTC), "2024-01-31T00:00:00Z"),
        ("2024-01-31T10:00:00", datetime(2024, 1, 31, 10, tzinfo=UTC), "2024-01-31T10:00:00Z"),
        ("2024-01-31T10:00:00Z", datetime(2024, 1, 31, 10, tzinfo=UTC), "2024-01-31T10:00:00Z"),
        (
            "2024-01-31T12:00:00+02:00",
            datetime(2024, 1, 31, 10, tzinfo=UTC),
            "2024-01-31T12:00:00+02:00",
        ),
        (" 2024-01-31 ", datetime(2024, 1, 31, tzinfo=UTC), "2024-01-31T00:00:00Z"),
        ("2024-01-31 10:00", datetime(2024, 1, 31, 10, tzinfo=UTC), "2024-01-31T10:00:00Z"),
        ("yesterday", None, None),
        ("31/01/2024", None, None),
        (20240131, None, None),
        (None, None, None),
    ],
)
def test_timestamps_read_a_date_or_a_time_without_offset_as_utc(value, moment, setting):
    assert parse_timestamp(value) == moment
    assert utc_timestamp(value) == setting


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2024-01-31", "2024-01-31"),
        ("2024-01-31T23:30:00-05:00", "2024-01-31"),  # its day as written
        ("2024-01-31T10:00:00", "2024-01-31"),
        ("2024-02-30", None),
        ("2024-01-31garbage", None),
        (None, None),
    ],
)
def test_a_date_setting_is_a_day(value, day):
    assert calendar_date(value) == day


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ("2024-01-31", None),
        ("2024-01-31T00:00:00", None),
        ("2024-01-31T00:00:00+01:00", None),
        ("next monday", "`start_date` 'next monday' is not an ISO 8601 date or date-time"),
    ],
)
def test_start_date_forms(form, problem):
    problems = config_problems({"api_key": "sk_test_x", "start_date": form})
    assert (problems == []) if problem is None else (problem in problems[0])


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"stats_start_date": "2024-01-31T10:00:00Z"}, None),
        ({"stats_end_date": "2024-02-30"}, "`stats_end_date` '2024-02-30' is not a date"),
        ({"api_url": "https://api-public.skipcall.app/v1?x=1"}, "has a query or a fragment"),
        ({"api_url": "https://host:notaport"}, "is not an http(s) URL"),
        ({"api_url": 12}, "`api_url` must be text"),
        ({"api_url": "http://10.0.0.1"}, "uses plain http to 10.0.0.1"),
    ],
)
def test_other_settings(given, problem):
    problems = config_problems({"api_key": "sk_test_x", **given})
    assert (problems == []) if problem is None else (problem in problems[0]), problems


def test_about_and_discover_need_no_key_but_every_other_check_holds():
    assert config_problems({}, needs_key=False) == []
    assert config_problems({"page_size": 0}, needs_key=False) == [
        "`page_size` must be a whole number from 1 to 100 (got 0)."
    ]
    assert "`api_key` is missing" in config_problems({})[0]


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://api-public.skipcall.app", "https://api-public.skipcall.app"),
        ("https://api-public.skipcall.app/", "https://api-public.skipcall.app"),
        ("https://api-public.skipcall.app/v1", "https://api-public.skipcall.app"),
        ("https://api-public.skipcall.app/V1/", "https://api-public.skipcall.app"),
        (" https://gw.example/skipcall/v1 ", "https://gw.example/skipcall"),
        ("http://127.0.0.1:8765/v1/v1", "http://127.0.0.1:8765"),
    ],
)
def test_api_url_is_read_without_trailing_slash_or_version(url, base):
    assert api_base(url) == base


@pytest.mark.parametrize(
    ("headers", "believed", "doubt"),
    [
        ({}, (None, None, None), None),
        (
            {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "30"},
            (100, 7, 30.0),
            None,
        ),
        ({"X-RateLimit-Remaining": "Infinity"}, None, "X-RateLimit-Remaining is 'Infinity'"),
        ({"X-RateLimit-Remaining": "-1"}, None, "not a count"),
        ({"X-RateLimit-Remaining": "2.5"}, None, "not a count"),
        ({"X-RateLimit-Limit": "0"}, None, "no plan allows"),
        ({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "11"}, None, "above Limit"),
        ({"X-RateLimit-Reset": str(NOW + 3600)}, None, "3,600 s away"),
        ({"X-RateLimit-Reset": "nan"}, None, "not a time"),
        ({"X-RateLimit-Reset": str(NOW + 61)}, (None, None, 61.0), None),  # a minute, rounded
    ],
)
def test_rate_limit_headers_are_believed_only_when_they_can_be_true(headers, believed, doubt):
    reading = RateHeaders.read(headers, NOW)
    if doubt is None:
        assert reading.doubt is None
        assert (reading.limit, reading.remaining, reading.wait) == believed
    else:
        assert doubt in str(reading.doubt)


def test_headers_that_cannot_be_true_block_nothing_and_are_said_once(caplog):
    clock = [NOW]
    sleeps: list[float] = []
    budget = RequestBudget(clock=lambda: clock[0], sleep=sleeps.append)
    far = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(NOW + 86_400)}
    for _ in range(5):
        budget.acquire()
        budget.observe(200, far)
    assert sleeps == []
    assert budget.doubted == 5
    assert caplog.text.count("rate-limit headers cannot be true") == 1


@pytest.mark.parametrize(
    ("value", "count"),
    [(3, 3), (3.0, 3), (0, None), (-2, None), (True, None), ("3", None), (float("inf"), None)],
)
def test_a_count_is_a_finite_positive_number(value, count):
    assert positive_int(value) == count


def call(ident, stamp="2026-01-01T00:00:00.000Z", **more):
    return {"id": ident, "updatedAt": stamp, **more}


def test_the_row_rule_on_one_page():
    rows = [
        call("a"),
        call(None),  # no id
        "not an object",
        call(""),  # an empty id
        call("b", None),  # no updatedAt: written, named
        call("c", "soon"),  # unreadable: written null, kept in extra
        call("a"),  # the same version again: once
        call("d", deletedAt="2026-01-01T00:00:00Z"),
        call("e"),
    ]
    admitted = admit(
        rows, page=3, already_delivered=frozenset({"e"}), met=set(), leave_out_deleted=True
    )
    assert [r["id"] for r in admitted.calls] == ["a", "b", "c"]
    assert admitted.calls[2] == {"id": "c", "updatedAt": None, "updatedAt_as_sent": "soon"}
    assert admitted.without_id == [
        "row 2 of page 3 (updatedAt '2026-01-01T00:00:00.000Z')",
        "row 3 of page 3 (updatedAt None)",
        "row 4 of page 3 (updatedAt '2026-01-01T00:00:00.000Z')",
    ]
    assert admitted.without_updated_at == ["b", "c"]
    assert admitted.repeated == 1
    assert admitted.keys == {
        version_key("a", rows[0]["updatedAt"]),
        version_key("b", None),
        version_key("c", "soon"),
    }


def test_a_version_written_earlier_in_the_run_is_not_written_again_but_a_newer_one_is():
    first = admit([call("a")], page=1, already_delivered=frozenset(), met=set())
    again = admit(
        [call("a"), call("a", "2026-01-02T00:00:00.000Z")],
        page=2,
        already_delivered=frozenset(),
        met=set(first.keys),
    )
    assert [r["updatedAt"] for r in again.calls] == ["2026-01-02T00:00:00.000Z"]
    assert again.repeated == 1


def test_the_run_notes_name_ten_and_count_the_rest():
    notes = RowNotes()
    for page in range(1, 4):
        rows = [call(None)] * 5 + [call(f"p{page}-{i}", None) for i in range(5)]
        notes = notes.after(admit(rows, page=page, already_delivered=frozenset(), met=set()))
    without_id, without_stamp = notes.warnings()
    assert without_id.startswith("calls: 15 rows without a usable id were not written")
    assert without_id.endswith("and 5 more.")
    assert without_stamp.startswith("calls: 15 calls without a readable updatedAt were written")
    assert notes.repeats() is None


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([call(None)], "calls: 1 row without a usable id was not written"),
        ([call(None), call("")], "calls: 2 rows without a usable id were not written"),
        ([call("a", None)], "calls: 1 call without a readable updatedAt was written with it null"),
        ([call("a", "x"), call("b", None)], "calls: 2 calls without a readable updatedAt were"),
    ],
)
def test_the_run_notes_count_in_words_a_user_reads(rows, expected):
    notes = RowNotes().after(admit(rows, page=1, already_delivered=frozenset(), met=set()))
    (line,) = notes.warnings()
    assert line.startswith(expected)


def test_a_version_met_again_is_said_once_in_the_singular_or_plural():
    first = admit([call("a"), call("b")], page=1, already_delivered=frozenset(), met=set())
    again = admit([call("a")], page=2, already_delivered=frozenset(), met=set(first.keys))
    line = RowNotes().after(again).repeats()
    assert line is not None
    assert line.startswith("calls: 1 row met again")
    assert line.endswith("was written once.")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": "x\\udc80y"}', {"a": f"x{REPLACEMENT}y"}),
        (b'{"a": "\\ud83d\\ude00"}', {"a": "\U0001f600"}),  # a whole pair stays
        (b'{"\\ud800": 1}', {REPLACEMENT: 1}),
        (b'{"a": "caf\xe9"}', {"a": f"caf{REPLACEMENT}"}),  # not UTF-8
        (b'{"a": NaN}', None),  # read leniently: a float NaN, written as null
    ],
)
def test_a_body_is_parsed_into_values_the_writer_can_write(body, expected):
    value = parse(body)
    if expected is None:
        assert value["a"] != value["a"]
    else:
        assert value == expected


def test_the_watchdog_shuts_an_answer_past_its_deadline_and_only_that():
    server, client = socket.socketpair()
    late, on_time = socket.socketpair()
    watchdog = Watchdog()
    with watchdog.within(0.2) as watch:
        watchdog.reading(client)
        started = time.monotonic()
        assert client.recv(10) == b""  # the read under way returns when the socket is shut
        assert 0.15 < time.monotonic() - started < 2
    assert watch is not None
    assert watch.expired
    with watchdog.within(5) as watch:
        watchdog.reading(on_time)
        threading.Timer(0.05, late.send, args=(b"ok",)).start()
        assert on_time.recv(10) == b"ok"
    assert not watch.expired
    for sock in (server, client, late, on_time):
        sock.close()
