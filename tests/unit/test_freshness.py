"""What is read again without its call changing: the watch list and the walk, table by table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tap_skipcall.freshness.unfinished import (
    LATE_RECORDING_WINDOW,
    WatchList,
    attachment_deadline,
    recording_unfinished,
    transcription_unfinished,
)
from tap_skipcall.freshness.walk import CIRCLE, DueArc, Walk, due_this_run, phase_of

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
    ("since_walk", "interval", "period", "expected"),
    [
        (DAY, DAY, 7 * DAY, 1 / 6),  # daily, a week: a sixth of the contacts each run
        (2 * DAY, DAY, 7 * DAY, 2 / 6),  # a daily run missed: two days' share
        (22 * HOUR, HOUR, 7 * DAY, None),  # hourly: not yet a day since the last walk
        (23.5 * HOUR, HOUR, 7 * DAY, 23.5 / 144),  # hourly: the run that ends the day walks
        (2 * DAY, 2 * DAY, 7 * DAY, 2 / 5),  # every two days: a lap of five days
        (7 * DAY, 7 * DAY, 7 * DAY, 1.0),  # weekly: every contact, every run
        (DAY, DAY, 2 * DAY, 1.0),  # daily, a two-day period: every contact, every run
        (30 * DAY, HOUR, 7 * DAY, 1.0),  # back after a month: every contact once
        (timedelta(seconds=2), timedelta(seconds=2), 7 * DAY, None),  # a moment apart
    ],
    ids=[
        "daily",
        "daily-missed",
        "hourly-early",
        "hourly-due",
        "two-days",
        "weekly",
        "short-period",
        "long-absence",
        "back-to-back",
    ],
)
def test_the_arc_due_is_the_time_since_the_last_walk_over_the_lap(
    since_walk, interval, period, expected
):
    walk = Walk(NOW - since_walk, turned_to=at(0.9))
    due = due_this_run(walk, now=NOW, interval=interval, period=period)
    if expected is None:
        assert due is None
    else:
        assert due is not None
        assert due.start == at(0.9)
        assert due.share == pytest.approx(expected)


def at(fraction: float) -> int:
    """A place on the circle, as a fraction of the way round."""
    return round(fraction * CIRCLE)


@pytest.mark.parametrize(
    ("start", "length", "phase", "holds"),
    [
        (0.25, 0.125, 0.3, True),
        (0.25, 0.125, 0.375, False),  # half-open: the next arc's
        (0.25, 0.125, 0.25, True),
        (0.25, 0.125, 0.2, False),
        (0.875, 0.25, 0.0625, True),  # round past the top
        (0.875, 0.25, 0.125, False),
        (0.875, 0.25, 0.9, True),
        (0.5, 1.0, 0.49, True),  # a whole lap: everyone
        (0.5, 0.0, 0.5, False),  # no time passed: no one
    ],
)
def test_an_arc_holds_the_phases_from_its_start_round_the_circle(start, length, phase, holds):
    assert DueArc(at(start), at(length)).holds_phase(at(phase)) is holds


def test_arcs_in_a_row_share_no_phase_and_miss_none():
    phases = [phase_of(f"contact-{i}") for i in range(5000)] + [0, at(0.3), CIRCLE - 1]
    lengths = [at(0.1), at(0.2), CIRCLE // 3, 0, at(0.07)]
    lengths.append(CIRCLE - sum(lengths))  # one whole turn from 0.3
    arcs, start = [], at(0.3)
    for length in lengths:
        arcs.append(DueArc(start, length))
        start = arcs[-1].end
    for phase in phases:
        assert sum(arc.holds_phase(phase) for arc in arcs) == 1, phase


SCHEDULES = {
    # name: (run every, period, tolerance beyond the period)
    "daily": (DAY, 7 * DAY, timedelta(0)),
    "hourly": (HOUR, 7 * DAY, timedelta(0)),
    "every 6 h": (6 * HOUR, 7 * DAY, timedelta(0)),
    "every 2 days": (2 * DAY, 7 * DAY, timedelta(0)),
    "daily, 3-day period": (DAY, 3 * DAY, timedelta(0)),
    "twice a day, 1-day period": (12 * HOUR, DAY, timedelta(0)),
}


@pytest.mark.parametrize("schedule", SCHEDULES, ids=list(SCHEDULES))
def test_every_contact_is_read_again_within_the_period_and_about_once_a_lap(schedule):
    every, period, tolerance = SCHEDULES[schedule]
    phases = [at(i / 97) for i in range(97)]
    walk, now = Walk(NOW), NOW
    last_read = dict.fromkeys(phases, NOW)  # the first sync read them all
    reads = 0
    for _ in range(int(60 * DAY / every)):
        now += every
        due = due_this_run(walk, now=now, interval=every, period=period)
        if due is None:
            continue
        for phase in phases:
            if due.holds_phase(phase):
                assert now - last_read[phase] <= period + tolerance, (phase, now)
                last_read[phase] = now
                reads += 1
        walk = walk.after(due, now)
    assert all(NOW + 60 * DAY - read <= period for read in last_read.values())
    lap = period - max(every, period / 7)
    laps = 60 * DAY / lap if lap > timedelta(0) else 60 * DAY / every
    assert reads <= len(phases) * (laps + 1)  # once a lap, not once per call or per run


def test_a_phase_is_a_stable_even_spread_of_contact_ids():
    assert phase_of("contact-1") == phase_of("contact-1")
    assert 0 <= phase_of("contact-1") < CIRCLE
    tenths = [0] * 10
    for i in range(10_000):
        tenths[phase_of(f"contact-{i}") * 10 // CIRCLE] += 1
    assert all(900 <= count <= 1100 for count in tenths), tenths


def test_the_walk_reads_back_what_it_wrote():
    walk = Walk(NOW - DAY, turned_to=at(0.25)).after(DueArc(at(0.25), CIRCLE // 6), NOW)
    assert walk == Walk(NOW, turned_to=at(0.25) + CIRCLE // 6)
    assert Walk.from_state(walk.as_state(), NOW + DAY) == walk
    assert Walk.from_state({"walked_at": "x"}, NOW) == Walk(NOW)
    assert Walk.from_state({"walked_at": "2099-01-01T00:00:00Z"}, NOW) == Walk(NOW)  # ahead
    assert Walk.from_state(None, NOW) == Walk(NOW)
    assert Walk(NOW, at(0.9)).after(DueArc(at(0.9), at(0.3)), NOW).turned_to == at(0.2)
    assert Walk.from_state({"walked_at": stamp(NOW), "turned_to": 0.5}, NOW) == Walk(NOW)
    assert {type(value) for value in walk.as_state().values()} == {str, int}


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
    from tap_skipcall.freshness.refresher import Rotated, Watched
    from tap_skipcall.streams.call_children import WatchedObjectStream
    from tap_skipcall.tap import TapSkipcall

    streams = TapSkipcall(config={"api_key": "sk_test_x"}, parse_env_config=False).streams
    assert isinstance(streams["sequence_contacts"], Rotated)
    for name in ("call_recordings", "call_transcriptions"):
        assert isinstance(streams[name], WatchedObjectStream)
        assert isinstance(streams[name], Watched)
    assert not isinstance(streams["contacts"], Rotated)
