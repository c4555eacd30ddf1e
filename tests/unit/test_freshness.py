"""What is read again without its call changing: the watch list and the walk, table by table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tap_skipcall.calls.rows import Row
from tap_skipcall.freshness.unfinished import (
    LATE_RECORDING_WINDOW,
    WatchList,
    attachment_deadline,
    recording_unfinished,
    transcription_unfinished,
)
from tap_skipcall.freshness.walk import (
    Walk,
    landed_at_or_above,
    landing_row,
    rows_this_run,
    take,
)

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.mark.parametrize(
    ("record", "unfinished"),
    [
        ({"hasTranscription": True, "transcriptionStatus": "PENDING"}, True),
        ({"hasTranscription": True, "transcriptionStatus": "IN_PROGRESS"}, True),
        ({"hasTranscription": True, "transcriptionStatus": None}, True),
        ({"hasTranscription": True, "transcriptionStatus": "COMPLETED"}, False),
        ({"hasTranscription": True, "transcriptionStatus": "FAILED"}, False),
        ({"hasTranscription": False, "transcriptionStatus": None}, False),
    ],
    ids=["pending", "in-progress", "status-unknown", "completed", "failed", "none-announced"],
)
def test_a_recording_is_unfinished_while_its_transcription_runs(record, unfinished):
    assert recording_unfinished(record) is unfinished


@pytest.mark.parametrize(
    ("record", "unfinished"),
    [
        ({"status": "PENDING"}, True),
        ({"status": "IN_PROGRESS"}, True),
        (None, True),  # announced by hasTranscription, not served yet
        ({"status": "COMPLETED"}, False),
        ({"status": "FAILED"}, False),
    ],
)
def test_a_transcription_is_unfinished_until_completed_or_failed(record, unfinished):
    assert transcription_unfinished(record) is unfinished


@pytest.mark.parametrize(
    ("ended", "expected"),
    [
        (NOW - 10 * timedelta(seconds=1), NOW - 10 * timedelta(seconds=1) + LATE_RECORDING_WINDOW),
        (NOW - 2 * HOUR, None),  # ended long before: no recording will come
        (None, None),  # never answered: no recording
    ],
    ids=["just-ended", "long-ago", "not-answered"],
)
def test_a_missing_recording_is_worth_watching_only_for_a_call_that_just_ended(ended, expected):
    assert attachment_deadline(None if ended is None else stamp(ended), NOW) == expected


@pytest.mark.parametrize(
    ("on_list", "unfinished", "deadline", "kept_until", "gave_up"),
    [
        (None, True, NOW + DAY, NOW + DAY, False),  # joins with its deadline
        (None, False, NOW + DAY, None, False),  # final at first read: never on the list
        (None, True, None, None, False),  # not worth watching
        (NOW + HOUR, True, NOW + 9 * DAY, NOW + HOUR, False),  # keeps its first deadline
        (NOW + HOUR, False, NOW + DAY, None, False),  # final now: off the list
        (NOW - HOUR, True, NOW + DAY, None, True),  # past its deadline: that was its last read
    ],
    ids=["joins", "final", "not-worth-it", "first-deadline", "finished", "given-up"],
)
def test_the_watch_list_after_a_read(on_list, unfinished, deadline, kept_until, gave_up):
    watch = WatchList() if on_list is None else WatchList({"a": on_list})
    after, given_up = watch.after_read("a", unfinished=unfinished, deadline=deadline, now=NOW)
    assert after.until.get("a") == kept_until
    assert given_up is gave_up


def test_the_watch_list_reads_back_what_it_wrote():
    watch = WatchList().watching("a", NOW + DAY).watching("b", NOW - HOUR)
    assert WatchList.from_state(watch.as_state()) == watch
    assert WatchList.from_state({"a": "soon", "b": stamp(NOW)}).until == {"b": NOW}
    assert WatchList.from_state(["not", "a", "dict"]) == WatchList()


@pytest.mark.parametrize(
    ("done", "since_start", "interval", "expected"),
    [
        (0, 1 * DAY, DAY, 1000 // 6),  # daily, 7-day period: a sixth of the list a day
        (1000 // 6, 2 * DAY, DAY, (1000 - 166) // 5),
        (800, 6 * DAY, DAY, 200),  # the last run before the deadline takes what is left
        (0, 1 * HOUR, HOUR, 1000 // 167),  # hourly
        (0, 30 * 60 * timedelta(seconds=1), timedelta(seconds=2), 0),  # runs a moment apart
        (0, 7 * DAY, 7 * DAY, 1000),  # weekly: the whole list every run
        (1000, 3 * DAY, DAY, 0),  # nothing left
    ],
    ids=["daily", "daily-2", "last-run", "hourly", "back-to-back", "weekly", "done"],
)
def test_rows_this_run_spreads_a_pass_over_the_period(done, since_start, interval, expected):
    walk = Walk(NOW - since_start, rows_done=done, total=1000)
    rows = rows_this_run(walk, now=NOW, interval=interval, period=7 * DAY, total=1000)
    assert rows == expected


def rows_at(*minutes: int) -> list[Row]:
    return [
        Row.of({"id": f"c{m}-{i}", "updatedAt": stamp(NOW - m * timedelta(minutes=1))})
        for i, m in enumerate(minutes)
    ]


def test_take_passes_up_to_the_share_and_steps_over_what_it_passed():
    page = rows_at(10, 11, 12, 13, 14)
    walk, taken = take(Walk(NOW - DAY), page, 100, 1000, 3)
    assert taken == [0, 1, 2]
    assert walk.rows_done == 103
    assert walk.cursor == page[2].updated_at
    again, taken = take(walk, page, 100, 1000, 10)  # the same page, next run
    assert taken == [3, 4]
    assert again.rows_done == 105
    assert take(again, page, 100, 1000, 10)[1] == []


def test_the_walk_lands_by_position_and_knows_when_rows_moved_up():
    page = rows_at(10, 11, 12)
    walk, _ = take(Walk(NOW - DAY, total=1000), page, 200, 1000, 3)
    assert landing_row(walk, 1000) == 203
    assert landing_row(walk, 1010) == 213  # ten calls added at the head push it down
    assert landed_at_or_above(walk, rows_at(12, 13))  # starts where it stopped: fine
    assert not landed_at_or_above(walk, rows_at(20, 21))  # starts below it: step back
    assert Walk.from_state(walk.as_state(), NOW) == walk
    assert Walk.from_state({"started_at": "x"}, NOW) == Walk(NOW)


@pytest.mark.parametrize(
    ("ages_in_days", "interval", "expected"),
    [
        ([1, 2, 3, 4, 5, 6.5], DAY, ["s5"]),  # daily: one late (6.5 + 1 > 7), share 6 // 6 = 1
        ([1] * 12, DAY, ["s0", "s1"]),  # all fresh: the even share, 12 // 6
        ([6.5] * 4, DAY, ["s0", "s1", "s2", "s3"]),  # all late at once: all
        ([1] * 12, timedelta(seconds=5), []),  # runs a moment apart: nothing due
        ([7] * 3, 7 * DAY, ["s0", "s1", "s2"]),  # weekly: every one, every run
        ([], DAY, []),
    ],
    ids=["daily", "share", "all-late", "back-to-back", "weekly", "none"],
)
def test_sequences_rotate_oldest_first_in_even_shares(ages_in_days, interval, expected):
    from tap_skipcall.freshness.rotation import due_for_refresh

    read_at = {f"s{i}": NOW - age * DAY for i, age in enumerate(ages_in_days)}
    due = due_for_refresh(read_at, now=NOW, interval=interval, period=7 * DAY)
    assert sorted(due) == sorted(expected)


def test_the_child_streams_provide_what_the_refresher_calls():
    from tap_skipcall.client.children import WatchedObjectStream
    from tap_skipcall.freshness.refresher import Rotated, Watched
    from tap_skipcall.tap import TapSkipcall

    streams = TapSkipcall(config={"api_key": "sk_test_x"}, parse_env_config=False).streams
    assert isinstance(streams["sequence_contacts"], Rotated)
    for name in ("call_recordings", "call_transcriptions"):
        assert isinstance(streams[name], WatchedObjectStream)
        assert isinstance(streams[name], Watched)
    assert not isinstance(streams["contacts"], Rotated)
