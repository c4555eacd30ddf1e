"""The incremental algorithm on its own: lists in memory, no HTTP, no SDK."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from tap_skipcall.calls.pager import CallPager, PaginationError
from tap_skipcall.calls.position import PageRequest
from tap_skipcall.calls.rows import Answer, Probe, Row
from tap_skipcall.calls.state import (
    Bookmark,
    Checkpoint,
    UpdatedRange,
    delivered,
    read_state,
    state_problem,
)

if TYPE_CHECKING:
    from collections.abc import Callable

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def stamp(minute: int) -> str:
    return (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def row(call_id: str, minute: int) -> Row:
    return Row.of({"id": call_id, "updatedAt": stamp(minute)})


def make_pager(**settings) -> CallPager:
    """A pager as the stream builds one, ``sort_style`` auto unless given."""
    return CallPager(**{"sort_style": "auto", **settings})


def newest_first(n: int, *, prefix: str = "c") -> list[Row]:
    """n calls updated one a minute, minute n-1 first."""
    return [row(f"{prefix}{m:04d}", m) for m in range(n - 1, -1, -1)]


@dataclass
class ListModel:
    """A list the pager reads page by page; ``between`` changes it after a page is served."""

    rows: list[Row]
    size: int = 10
    between: Callable[[ListModel, int], None] | None = None
    served: list[int] = field(default_factory=list)
    emitted: list[str] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    clock: int = 10_000

    def answer(self, number: int) -> Answer:
        self.served.append(number)
        page = self.rows[(number - 1) * self.size : number * self.size]
        answer = Answer(list(page), limit=self.size, total=len(self.rows))
        if self.between:
            self.between(self, len(self.served))
        return answer

    def update(self, call_id: str) -> None:
        """The call gets the newest updatedAt and moves to the head."""
        self.clock += 1
        self.rows = [r for r in self.rows if r.id != call_id]
        self.rows.insert(0, row(call_id, self.clock))

    def hide(self, call_id: str) -> None:
        self.rows = [r for r in self.rows if r.id != call_id]

    def sync(self, pager: CallPager, *, stop_after: int | None = None) -> CallPager:
        while stop_after is None or len(self.served) < stop_after:
            answer = self.answer(pager.current.number)
            verdict = pager.read(answer)
            if verdict.keep_rows:
                self.emitted += [r.id for r in answer.rows if r.id not in verdict.already_delivered]
            if verdict.checkpoint:
                self.checkpoints.append(verdict.checkpoint)
            if verdict.next_page is None:
                break
        return pager


def test_a_backfill_reads_every_page_once_and_caps_the_bookmark_at_the_first_page():
    model = ListModel(newest_first(95))
    pager = model.sync(make_pager(bookmark=Bookmark(), page_size=10))
    assert model.served == list(range(1, 11))
    assert sorted(model.emitted) == sorted(r.id for r in model.rows)
    assert pager.final_bookmark() == Bookmark(stamp(94), frozenset({"c0094"}))


@pytest.mark.parametrize(
    ("bookmark_minute", "ids", "pages", "emitted"),
    [
        (85, set(), [1, 2], 10),  # page 1 ends at 85 exactly (not below): page 2 shows 84
        (85, {"c0085"}, [1, 2], 9),  # the bookmark's own row was delivered
        (90, {"c0090"}, [1], 4),  # page 1 already reaches below the bookmark
        (80, set(), [1, 2], 15),  # page 2 (84..75) reaches below 80
    ],
    ids=["stops-below", "tie-at-bookmark-known", "first-page", "tie-at-page-end"],
)
def test_incremental_stops_at_the_first_page_below_the_bookmark(
    bookmark_minute, ids, pages, emitted
):
    model = ListModel(newest_first(95))
    bookmark = Bookmark(stamp(bookmark_minute), frozenset(ids))
    model.sync(make_pager(bookmark=bookmark, page_size=10))
    assert model.served == pages
    assert len(model.emitted) == emitted


def test_rows_pushed_onto_the_next_page_by_updates_keep_the_order_trusted():
    def churn(model: ListModel, served: int) -> None:
        if served == 2:
            for call_id in ("c0070", "c0050", "c0030"):  # one read, two not yet
                model.update(call_id)

    model = ListModel(newest_first(95), between=churn)
    pager = model.sync(make_pager(bookmark=Bookmark(stamp(20)), page_size=10))
    assert pager.ordered  # the repeats on page 3 are recognised, not taken for disorder
    assert model.served == [1, 2, 3, 4, 5, 6, 7, 8]
    # Every call at or after the bookmark was emitted, except the three that moved above
    # this run's cap before they were read: the next run reads their new version.
    expected = {f"c{m:04d}" for m in range(20, 95)} - {"c0070", "c0050", "c0030"}
    assert set(model.emitted) == expected
    assert pager.final_bookmark().value == stamp(94)


@pytest.mark.parametrize(
    ("rows", "styles_served", "ordered"),
    [
        ([row("a", 5), row("b", 6), row("c", 4)], ["deep_object", "json", "flat"], False),
        ([row("a", 6), row("b", 5), row("c", 4)], ["deep_object"], True),
    ],
    ids=["unsorted-probes-every-style", "sorted-first-try"],
)
def test_sort_styles_are_probed_on_page_one_and_dropped_pages_not_emitted(
    rows, styles_served, ordered
):
    pager = make_pager(bookmark=Bookmark(), page_size=10)
    seen = []
    while True:
        seen.append(pager.current.sort_style)
        verdict = pager.read(Answer(rows, limit=10, total=3))
        if verdict.next_page is None:
            break
        assert verdict.keep_rows is False  # a probe page is dropped, never emitted twice
    assert seen == styles_served
    assert pager.ordered is ordered


def test_order_broken_across_pages_reads_every_page_instead_of_stopping():
    rows = newest_first(30)
    rows[10] = row("intruder", 200)  # page 2 starts newer than page 1 ended, unseen id
    model = ListModel(rows)
    pager = model.sync(make_pager(bookmark=Bookmark(stamp(5)), page_size=10))
    assert not pager.ordered
    assert model.served == [1, 2, 3]  # no early stop at the bookmark
    assert model.checkpoints[-1:] == [model.checkpoints[0]]  # none after the order broke


def test_rows_leaving_the_list_make_the_pager_step_back():
    def hide(model: ListModel, served: int) -> None:
        if served == 2:  # two calls already read disappear: later rows move up by two
            model.hide("c0049")
            model.hide("c0048")

    model = ListModel(newest_first(50), between=hide)
    model.sync(make_pager(bookmark=Bookmark(), page_size=10))
    # total shrank by 2 when page 3 was served: page 2 is read again, then 3 onwards.
    assert model.served[:4] == [1, 2, 3, 2]
    assert set(model.emitted) >= {r.id for r in model.rows}


def test_a_page_shorter_than_total_promises_is_an_error_not_a_silent_skip():
    pager = make_pager(bookmark=Bookmark(), page_size=10)
    pager.read(Answer(newest_first(10), limit=10, total=40))
    with pytest.raises(PaginationError, match="stopping rather than skipping rows"):
        pager.read(Answer(newest_first(3, prefix="x"), limit=10, total=40))


@pytest.mark.parametrize(
    ("minute", "call_id", "expected"),
    [
        (10, "x", True),  # older than the bookmark
        (20, "known", True),  # at the bookmark, delivered
        (20, "other", False),  # at the bookmark, not delivered
        (45, "x", True),  # inside what the interrupted run delivered (reached, cap]
        (50, "x", True),  # at its cap
        (30, "seen", True),  # at its lower end, delivered
        (30, "other", False),  # at its lower end, not delivered
        (25, "x", False),  # between bookmark and the interrupted run's lower end
        (51, "x", False),  # newer than its cap
    ],
)
def test_delivered(minute, call_id, expected):
    bookmark = Bookmark(stamp(20), frozenset({"known"}))
    checkpoint = Checkpoint(UpdatedRange(stamp(30), stamp(50), frozenset({"seen"})), 100, stamp(20))
    assert delivered(row(call_id, minute), bookmark, checkpoint) is expected


def interrupted(model: ListModel, bookmark: Bookmark, pages: int) -> Checkpoint:
    """Run a sync for ``pages`` pages and return the last checkpoint it stated."""
    model.sync(make_pager(bookmark=bookmark, page_size=model.size), stop_after=pages)
    return model.checkpoints[-1]


@pytest.mark.parametrize("killed_after", [1, 5, 9])
def test_resume_reads_the_head_then_lands_where_the_interrupted_run_stopped(killed_after):
    bookmark = Bookmark(stamp(0))
    model = ListModel(newest_first(100))
    checkpoint = interrupted(model, bookmark, killed_after)
    first_run = list(model.emitted)
    model.served, model.emitted = [], []
    pager = model.sync(make_pager(bookmark=bookmark, resume=checkpoint, page_size=10))
    # Page 1 (the head), then the page that ended the interrupted run, then the rest.
    landing = [killed_after] if killed_after > 1 else []
    assert model.served == [1, *landing, *range(killed_after + 1, 11)]
    assert set(first_run).isdisjoint(model.emitted)  # nothing delivered is sent again
    assert set(first_run) | set(model.emitted) == {f"c{m:04d}" for m in range(100)}
    assert pager.final_bookmark() == Bookmark(stamp(99), frozenset({"c0099"}))


def test_resume_steps_back_when_rows_it_delivered_moved_to_the_head():
    bookmark = Bookmark(stamp(0))
    model = ListModel(newest_first(100))
    checkpoint = interrupted(model, bookmark, 6)
    for call_id in ("c0095", "c0090", "c0085"):  # read before the kill, updated since
        model.update(call_id)
    for m in [*range(48, 40, -1), *range(60, 54, -1)]:  # and 14 delivered rows leave the list
        model.hide(f"c{m:04d}")
    model.served, model.emitted = [], []
    model.sync(make_pager(bookmark=bookmark, resume=checkpoint, page_size=10))
    # Its last row (minute 40) moved up from position 59 to 45: page 6 starts past it.
    assert model.served == [1, 6, 5, 6, 7, 8, 9]  # 86 rows left: 9 pages
    # The new versions of the moved calls, and what the interrupted run had not reached.
    assert set(model.emitted) == {"c0095", "c0090", "c0085"} | {f"c{m:04d}" for m in range(40)}


def test_a_resume_of_a_resume_finishes_with_nothing_lost():
    bookmark = Bookmark(stamp(0))
    model = ListModel(newest_first(200))
    emitted: set[str] = set()
    checkpoint = interrupted(model, bookmark, 4)
    emitted |= set(model.emitted)
    model.update("c0150")
    model.served, model.emitted, model.checkpoints = [], [], []
    model.sync(make_pager(bookmark=bookmark, resume=checkpoint, page_size=10), stop_after=8)
    emitted |= set(model.emitted)
    second = model.checkpoints[-1]
    assert second.delivered.start < checkpoint.delivered.start  # it got further down before dying
    model.served, model.emitted = [], []
    pager = model.sync(make_pager(bookmark=bookmark, resume=second, page_size=10))
    emitted |= set(model.emitted)
    assert {r.id for r in model.rows if r.at and r.at > T0} <= emitted
    assert pager.final_bookmark().value == stamp(10_001)


@pytest.mark.parametrize(
    ("entry", "since", "usable"),
    [
        ({"cap": stamp(9), "reached": stamp(5), "ids_at_reached": [], "rows_read": 40}, None, True),
        ({"cap": stamp(9), "reached": stamp(5), "ids_at_reached": [], "rows_read": 40}, "x", False),
        (
            {"cap": stamp(5), "reached": stamp(9), "ids_at_reached": [], "rows_read": 40},
            None,
            False,
        ),
        ({"cap": "soon", "reached": stamp(5), "ids_at_reached": [], "rows_read": 40}, None, False),
        (None, None, False),
    ],
    ids=["valid", "other-bookmark", "reached-above-cap", "bad-stamp", "none"],
)
def test_a_checkpoint_applies_only_on_top_of_its_own_bookmark(entry, since, usable):
    if entry is not None:
        entry = {**entry, "since": None}
    state = {"replication_key_value": since, RESUME_KEY: entry} if since else {RESUME_KEY: entry}
    assert (read_state(state, None).resume is not None) is usable


RESUME_KEY = "resume"


def test_read_state_prefers_the_bookmark_over_start_date():
    saved = read_state({"replication_key_value": stamp(5), "ids_at_bookmark": ["a"]}, stamp(1))
    assert saved.bookmark == Bookmark(stamp(5), frozenset({"a"}))
    assert saved.has_bookmark
    assert read_state({}, stamp(1)).bookmark == Bookmark(stamp(1))
    assert not read_state({}, stamp(1)).has_bookmark


def test_a_reconciliation_checkpoint_applies_on_top_of_start_date_with_its_version():
    entry = {"cap": stamp(9), "reached": stamp(5), "ids_at_reached": [], "rows_read": 40}
    state = {
        "replication_key_value": stamp(7),
        "resume": {**entry, "since": stamp(1), "version": 8},
    }
    saved = read_state(state, stamp(1))
    assert saved.resume is not None
    assert saved.resume.version == 8
    assert saved.resume.since == stamp(1)
    # the same checkpoint without a version is an incremental one: on top of the bookmark
    state["resume"] = {**entry, "since": stamp(1)}
    assert read_state(state, stamp(1)).resume is None


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"bookmarks": {"issues": {}}}, "only for streams this tap does not have"),
        ({"bookmarks": {"calls": {"replication_key": "id"}}}, "bookmarks calls by 'id'"),
        ({"bookmarks": {"calls": {"replication_key_value": 3}}}, "is not an ISO 8601"),
        ({"bookmarks": []}, "not a Singer state"),
        ({"bookmarks": {"calls": {"replication_key_value": stamp(1)}}}, None),
        ({}, None),
        # the last line of a run stopped mid-sync: a RECORD, not a STATE
        ({"type": "RECORD", "stream": "calls", "record": {}}, "holds a RECORD message, not a"),
        ({"type": "SCHEMA", "stream": "calls"}, "holds a SCHEMA message, not a STATE"),
        ({"calls": {"replication_key_value": stamp(1)}}, "it has calls, no `bookmarks`"),
    ],
    ids=[
        "another-tap",
        "another-key",
        "not-a-timestamp",
        "bookmarks-not-object",
        "ours",
        "empty",
        "a-record-line",
        "a-schema-line",
        "no-bookmarks",
    ],
)
def test_state_problem(state, expected):
    problem = state_problem(state, {"calls", "users"})
    assert (problem is None) if expected is None else (expected in problem)


def test_page_requests_compare_by_value():
    assert PageRequest(2, "json") == PageRequest(2, "json") != PageRequest(2, "flat")


def batched_sync(
    model: ListModel, pager: CallPager, *, during=None, met: set[bytes] | None = None
) -> list[str]:
    """A backfill that reads batches as a concurrent tap does: every page of a batch is
    served (in reverse order, the worst case) before any is read, ``during(model)`` may
    change the list between two of those serves, and a probe follows the batch. ``met``
    collects the versions of the pages kept, as the sync does for the pager."""
    probes = []
    while True:
        answer = model.answer(pager.current.number)
        verdict = pager.read(answer)
        if met is not None and verdict.keep_rows:
            met.update(r.version for r in answer.rows if r.version)
        model.checkpoints.append(verdict.checkpoint)
        model.emitted += [
            r.id for r in answer.rows if verdict.keep_rows and r.id not in verdict.already_delivered
        ]
        batch = pager.batch_after(verdict)
        while batch:
            answers = {}
            for index, request in enumerate(reversed(batch)):
                answers[request.number] = model.answer(request.number)
                if during and index == 0:
                    during(model)
            for request in batch:
                assert pager.current == request
                probe = None
                if pager.wants_probe():
                    probe = Probe.of(Answer(model.rows[:1], limit=1, total=len(model.rows)))
                    probes.append(probe)
                verdict = pager.read(answers[request.number], probe)
                model.checkpoints.append(verdict.checkpoint)
                rows = answers[request.number].rows
                if met is not None and verdict.keep_rows:
                    met.update(r.version for r in rows if r.version)
                model.emitted += [
                    r.id
                    for r in rows
                    if verdict.keep_rows and r.id not in verdict.already_delivered
                ]
                if verdict.next_page != PageRequest(request.number + 1, request.sort_style):
                    break
            batch = pager.batch_after(verdict) if verdict.next_page else []
        if verdict.next_page is None:
            return probes


def test_a_batch_is_trusted_when_nothing_moved_while_it_was_served():
    model = ListModel(newest_first(200))
    pager = make_pager(bookmark=Bookmark(), page_size=10, pages_ahead=8)
    probes = batched_sync(model, pager)
    assert sorted(model.emitted) == sorted(r.id for r in model.rows)  # each once
    assert pager.position.batching.batches == 3  # pages 2-9, 10-17, 18-20
    assert pager.position.batching.read_again == 0
    assert len(probes) == 3  # one request more per batch
    assert sorted(model.served) == list(range(1, 21))  # every page once
    # A checkpoint never claims a batch before its probe: pages 2-8 keep page 1's.
    rows_read = [c.rows_read for c in model.checkpoints]
    assert rows_read[:10] == [10, 10, 10, 10, 10, 10, 10, 10, 90, 90]


def test_a_batch_served_while_a_call_moved_is_read_again_one_page_at_a_time():
    moved = {"done": False}

    def update_below(model: ListModel) -> None:
        if not moved["done"]:  # between the serves of page 9 and page 8: rows shift down
            moved["done"] = True
            model.update("c0050")

    model = ListModel(newest_first(200))
    pager = make_pager(bookmark=Bookmark(), page_size=10, pages_ahead=8)
    batched_sync(model, pager, during=update_below)
    assert pager.position.batching.read_again == 1
    assert model.served[:9] == [1, 9, 8, 7, 6, 5, 4, 3, 2]  # the batch, served backwards
    assert model.served[9:17] == [2, 3, 4, 5, 6, 7, 8, 9]  # then read again, in order
    expected = {r.id for r in model.rows} - {"c0050"}  # its new version is the next run's
    assert expected <= set(model.emitted)  # c0120 included


def test_a_batch_read_again_is_not_new_ground_even_when_the_head_shows_nothing_new():
    # A call hides while the batch is served: the probe's total differs, the batch is read
    # again, and those pages hold only calls already met. That is the pager's own re-read,
    # not pages that repeat: no head is asked for (none given here), nothing stops.
    hid = {"done": False}

    def hide_one(model: ListModel) -> None:
        if not hid["done"]:
            hid["done"] = True
            model.hide("c0150")

    model = ListModel(newest_first(200))
    met: set[bytes] = set()
    pager = make_pager(bookmark=Bookmark(), page_size=10, pages_ahead=8, met=met)
    batched_sync(model, pager, during=hide_one, met=met)
    assert pager.position.batching.read_again >= 1
    assert {r.id for r in model.rows} <= set(model.emitted)


def test_trusting_such_a_batch_would_lose_a_row():
    """The hazard the probe guards against, shown on the same list and the same update."""
    model = ListModel(newest_first(200))
    before = [r.id for r in model.rows[:90]]
    seen = {r.id for r in model.answer(9).rows}  # page 9 is served first,
    model.update("c0050")  # then a call further down moves to the head, pushing rows down,
    for number in range(8, 0, -1):  # then pages 8 to 1 are served
        seen |= {r.id for r in model.answer(number).rows}
    assert set(before) - seen == {"c0120"}  # it crossed from page 8 to page 9 unread


def test_no_batch_in_an_incremental_run_or_a_resume():
    pager = make_pager(bookmark=Bookmark(stamp(5)), page_size=10, pages_ahead=8)
    verdict = pager.read(Answer(newest_first(10, prefix="a"), limit=10, total=100))
    assert pager.batch_after(verdict) == []


@pytest.mark.parametrize(
    ("per_minute", "answer_ms", "most", "expected"),
    [
        (1000, 150, 8, 8),  # 16.7 a second x 0.15 s = 2.5 pages' worth of budget per answer
        (1000, 250, 8, 8),
        (1000, 40, 8, 1),  # answers faster than the plan's pace: the budget sets it
        (100, 250, 8, 1),  # a 100-a-minute plan: batches would only add probes
        (100, 1000, 8, 8),  # 1 s answers are slower than even a 100-a-minute pace
        (1000, 150, 4, 4),  # never more than may be in flight
        (None, 500, 8, 1),  # no rate-limit headers: no batches
    ],
)
def test_pages_ahead_follow_the_plan_and_the_answer_time(per_minute, answer_ms, most, expected):
    from tap_skipcall.calls.batches import pages_ahead_for

    per_second = None if per_minute is None else per_minute / 60
    assert pages_ahead_for(per_second, answer_ms / 1000, most=most) == expected


def concurrent_read(model: ListModel, pager: CallPager, *, during=None) -> dict:
    """A read as the run makes it with requests in flight: each batch served whole (in
    reverse, the worst case) before its pages are read, and the head probed only when a
    batch ends (at its last page, or where the read stops inside it)."""
    probes: list[int] = []

    def probe() -> Probe:
        probes.append(len(model.served))
        return Probe.of(Answer(model.rows[:1], limit=1, total=len(model.rows)))

    pending: dict[int, Answer] = {}
    while True:
        number = pager.current.number
        answer = pending.pop(number, None) or model.answer(number)
        verdict = pager.read(answer, probe)
        if verdict.keep_rows:
            model.emitted += [r.id for r in answer.rows if r.id not in verdict.already_delivered]
        if verdict.checkpoint is not None:
            model.checkpoints.append(verdict.checkpoint)
        if verdict.next_page is None:
            return {"probes": len(probes), "pending": sorted(pending)}
        batch = pager.batch_after(verdict)
        if batch:
            pending = {}
            for index, request in enumerate(reversed(batch)):
                pending[request.number] = model.answer(request.number)
                if during and index == 0:
                    during(model)


@pytest.mark.parametrize(
    ("name", "settings", "served", "probes", "unread"),
    [
        # start_date at minute 155 of 200: the edge is page 5; the batch 2-9 was in flight.
        (
            "start_date",
            {"bookmark": Bookmark(stamp(155)), "reads_whole_list": True},
            [1, 9, 8, 7, 6, 5, 4, 3, 2],
            1,
            [6, 7, 8, 9],
        ),
        # the same bookmark saved by a completed run: an incremental run, one page at a time.
        ("incremental", {"bookmark": Bookmark(stamp(155))}, [1, 2, 3, 4, 5], 0, []),
        # no bookmark: the whole list, in batches of 8 (pages 2-9, 10-17, 18-20).
        (
            "backfill",
            {"bookmark": Bookmark()},
            [1, *range(9, 1, -1), *range(17, 9, -1), *range(20, 17, -1)],
            3,
            [],
        ),
    ],
)
def test_pages_are_read_together_in_every_backfill(name, settings, served, probes, unread):
    model = ListModel(newest_first(200))
    pager = make_pager(page_size=10, pages_ahead=8, **settings)
    outcome = concurrent_read(model, pager)
    assert model.served == served, name
    assert outcome["probes"] == probes
    assert outcome["pending"] == unread  # at most one batch past the edge, unread
    since = settings["bookmark"].at
    expected = {r.id for r in model.rows if since is None or r.at >= since}
    assert set(model.emitted) == expected
    assert len(model.emitted) == len(expected)


def test_a_batch_the_read_ends_inside_is_read_again_if_the_list_moved():
    moved = {"done": False}

    def update_below(model: ListModel) -> None:
        if not moved["done"]:  # between the serves of page 9 and page 8
            moved["done"] = True
            model.update("c0120")

    model = ListModel(newest_first(200))
    pager = make_pager(
        page_size=10, pages_ahead=8, bookmark=Bookmark(stamp(155)), reads_whole_list=True
    )
    concurrent_read(model, pager, during=update_below)
    assert pager.position.batching.read_again == 1
    assert model.served[9:] == [2, 3, 4, 5]  # read again one page at a time, to the edge
    expected = {r.id for r in model.rows if r.at >= T0 + timedelta(minutes=155)} - {"c0120"}
    assert expected <= set(model.emitted)


def test_a_resumed_backfill_reads_together_once_it_landed():
    model = ListModel(newest_first(300))
    killed = make_pager(page_size=10, bookmark=Bookmark())
    model.sync(killed, stop_after=10)  # killed after page 10: 100 rows delivered
    checkpoint = model.checkpoints[-1]
    for minute in range(5):  # calls changed since: the head grows by five
        model.update(f"c{minute:04d}")
    model.served.clear()
    resumed = make_pager(
        page_size=10, pages_ahead=8, bookmark=Bookmark(), resume=checkpoint, reads_whole_list=True
    )
    concurrent_read(model, resumed)
    # The head (page 1), the landing (page 10, one page at a time), then batches of 8.
    assert model.served[:2] == [1, 10]
    assert model.served[2:10] == list(range(18, 10, -1))
    assert resumed.position.batching.batches == 3  # 11-18, 19-26, 27-30
    assert set(model.emitted) | {r.id for r in model.rows[5:105]} >= {r.id for r in model.rows}
