"""Answers that cannot all be true: what a page says of itself, and pages read in a row.

Table-driven: each row is an answer (or a list's behaviour) and what the tap must make of
it. The rule: read on where the answers can be true, otherwise stop with one sentence
before the state claims anything past the last page that could be.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tap_skipcall.calls.pager import CallPager, PaginationError
from tap_skipcall.calls.paginator import answer_from
from tap_skipcall.calls.rows import Answer
from tap_skipcall.calls.state import Bookmark
from tap_skipcall.client.envelope import Envelope, count_of

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def stamp(minute: int) -> str:
    return (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.mark.parametrize(
    ("value", "count"),
    [(None, None), (0, 0), (300, 300), (300.0, 300), ("300", 300), (" 42 ", 42)],
)
def test_counts_the_api_may_send(value, count):
    assert count_of(value) == count


@pytest.mark.parametrize("value", [-1, 299.5, float("nan"), float("inf"), True, "many", [3]])
def test_values_that_are_no_count(value):
    with pytest.raises(ValueError, match=r"not a|below 0"):
        count_of(value)


def envelope(rows: int, **fields: Any) -> Envelope:
    return Envelope.of({"data": [{}] * rows, **fields})


@pytest.mark.parametrize(
    ("rows", "fields", "asked", "problem"),
    [
        (100, {"total": 300, "page": 1, "limit": 100}, 1, None),
        (100, {"total": 300, "page": 3, "limit": 100}, 3, None),
        (0, {"total": 0, "page": 1, "limit": 100}, 1, None),  # an empty list
        (100, {}, 2, None),  # nothing announced: read until a short page
        (100, {"total": None, "page": None}, 2, None),  # null is unknown, not a lie
        (100, {"total": "300", "page": "2"}, 2, None),  # counts as strings
        (50, {"total": 250, "page": 3, "limit": 100}, 3, None),  # the last page is short
        (50, {"total": 250, "page": 1, "limit": 50}, 1, None),  # the server serves 50 a page
        # the same page answered again, said to be the last, past the new end: rows ignored
        (100, {"total": 200, "page": 2, "limit": 100}, 3, None),
        (100, {"total": 0, "totalPages": 0}, 1, "says `total` 0 beside 100 rows"),
        (100, {"total": 150, "limit": 100}, 2, "says `total` 150, fewer than the 200 rows up to"),
        (100, {"total": -1}, 1, "says `total` -1, which is below 0"),
        (100, {"total": 299.5}, 1, "says `total` 299.5, which is not a whole number"),
        (100, {"total": 300, "page": 1}, 2, "was answered as page 1: the API does not take"),
        (20, {"total": 300, "limit": 100}, 2, "holds 20 rows where its `total`, 300, says 100"),
        (0, {"total": 300, "limit": 100}, 2, "holds no rows where its `total`, 300, says 100"),
        (100, {"total": 300, "limit": "ten"}, 1, "says `limit` 'ten', which is not a number"),
        (50, {"limit": 1}, 1, "holds 50 rows, more than a page of 1"),
        (50, {"limit": 51}, 1, None),  # an echo above the 100 asked is not believed: 50 < 100
        (100, {"total": 0, "page": 0}, 1, "was answered as page 0: the API does not take"),
    ],
)
def test_what_one_answer_says_of_itself(rows, fields, asked, problem):
    found = envelope(rows, **fields).contradiction(asked, 100)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


@dataclass
class WireList:
    """A newest-first list of calls served as the API would, with one way to misbehave.

    ``quirk``: None (as documented), ``page_ignored`` (every page is page 1, said so),
    ``page_ignored_echoed`` (page 1, echoing the page asked), ``endless`` (``total`` grows a
    page per answer, pages past the end start again) or ``growing_head_still`` (``total``
    grows a page per answer, new rows forever, nothing new at the head). ``moves`` calls are
    updated (to the head) once, after answer ``moves_after`` was served.
    """

    n: int
    size: int = 10
    quirk: str | None = None
    moves: int = 0
    moves_after: int = 1
    rows: list[dict[str, Any]] = field(default_factory=list)
    served: int = 0
    clock: int = 0

    def __post_init__(self) -> None:
        self.rows = [{"id": f"c{m:05d}", "updatedAt": stamp(m)} for m in range(self.n)][::-1]
        self.clock = self.n

    def payload(self, number: int, limit: int | None = None) -> dict[str, Any]:
        limit = limit or self.size
        self.served += 1
        total = len(self.rows)
        asked, page = number, number
        if self.quirk in ("page_ignored", "page_ignored_echoed"):
            page = 1
        if self.quirk == "endless":
            page = (number - 1) % math.ceil(total / limit) + 1
            total += self.served * limit
        data = self.rows[(page - 1) * limit : page * limit]
        if self.quirk == "growing_head_still":
            total += self.served * limit
            if number > math.ceil(len(self.rows) / limit):
                data = [
                    {"id": f"x{number}-{i}", "updatedAt": stamp(-number * limit - i)}
                    for i in range(limit)
                ]
        echoed = asked if self.quirk in ("page_ignored_echoed", "endless") else page
        body = {
            "data": [dict(r) for r in data],
            "total": total,
            "page": echoed,
            "limit": limit,
            "totalPages": math.ceil(total / limit),
        }
        if self.served == self.moves_after:
            for _ in range(self.moves):
                self.clock += 1
                moved = self.rows.pop()  # the oldest call is updated: to the head
                self.rows.insert(0, {**moved, "updatedAt": stamp(self.clock)})
        return body

    def read(self, pager: CallPager, met: set[bytes]) -> list[str]:
        """Page through as the sync does; the ids written (the pager's verdicts obeyed)."""
        written: list[str] = []
        for _ in range(1000):
            answer = answer_from(self.payload(pager.current.number))
            verdict = pager.read(answer, head=lambda: answer_from(self.payload(1)))
            if verdict.keep_rows:
                written += [r.id for r in answer.rows if r.id not in verdict.already_delivered]
                met.update(r.version for r in answer.rows if r.version)
            if verdict.next_page is None:
                return written
        pytest.fail("the read never ended")


@pytest.mark.parametrize(
    ("quirk", "moves", "stops_with"),
    [
        (None, 0, None),
        # 10 calls (a page) moved to the head between two answers: page 2 holds only calls
        # already read, explained by the head. The read goes on and misses nothing.
        (None, 10, None),
        ("page_ignored", 0, "page 2 was answered as page 1"),
        ("page_ignored_echoed", 0, "the pages repeat, page 2 holding only calls already read"),
        ("endless", 0, "the pages repeat, page 6 holding only calls already read"),
        ("growing_head_still", 0, "the rows never end"),
    ],
    ids=[
        "documented",
        "a-page-moved-to-the-head",
        "page-ignored",
        "page-ignored-echoed",
        "endless",
        "growing-head-still",
    ],
)
def test_pages_in_a_row_must_be_explained(quirk, moves, stops_with):
    model = WireList(50, quirk=quirk, moves=moves, moves_after=1)
    met: set[bytes] = set()
    pager = CallPager(bookmark=Bookmark(), page_size=10, sort_style="deep_object", met=met)
    if stops_with is None:
        written = model.read(pager, met)
        # Every call is written, but those moved to the head after the read began: their new
        # versions are newer than the bookmark this read saves, so the next run reads them.
        moved = {r["id"] for r in model.rows if r["updatedAt"] > stamp(49)}
        assert len(moved) == moves
        assert {f"c{m:05d}" for m in range(50)} == set(written) | moved
        return
    with pytest.raises(PaginationError, match="cannot all be true") as stopped:
        model.read(pager, met)
    assert stops_with in str(stopped.value)
    assert "the tap stopped, its state claiming only the calls written before" in str(stopped.value)


def test_a_page_of_calls_already_read_is_not_believed_in_a_list_that_is_not_sorted():
    # Unsorted, no move puts a call at the head: a repeat cannot be explained.
    model = WireList(50, quirk="page_ignored_echoed")
    met: set[bytes] = set()
    pager = CallPager(bookmark=Bookmark(), page_size=10, sort_style="deep_object", met=met)
    model.rows.reverse()  # oldest first: the order does not hold
    with pytest.raises(PaginationError, match="the pages repeat"):
        model.read(pager, met)


def test_no_checkpoint_claims_a_page_that_cannot_be_true():
    model = WireList(50, quirk="page_ignored_echoed")
    met: set[bytes] = set()
    pager = CallPager(bookmark=Bookmark(), page_size=10, sort_style="deep_object", met=met)
    checkpoints = []

    def read_next_page() -> None:
        answer = answer_from(model.payload(pager.current.number))
        verdict = pager.read(answer, head=lambda: answer_from(model.payload(1)))
        met.update(r.version for r in answer.rows if r.version)
        checkpoints.append(verdict.checkpoint)

    read_next_page()
    with pytest.raises(PaginationError):
        read_next_page()
    assert len(checkpoints) == 1  # page 1's, then the stop
    assert checkpoints[0] is not None
    assert checkpoints[0].rows_read == 10
    assert checkpoints[0].delivered.start == stamp(40)  # page 1's oldest call, not below


def test_an_answer_contradicting_itself_stops_before_its_rows_are_read():
    pager = CallPager(bookmark=Bookmark(), page_size=10, sort_style="deep_object")
    payload = {
        "data": [{"id": f"c{m}", "updatedAt": stamp(m)} for m in range(9, -1, -1)],
        "total": 0,
        "page": 1,
        "limit": 10,
        "totalPages": 0,
    }
    with pytest.raises(PaginationError, match=r"page 1 says `total` 0 beside 10 rows"):
        pager.read(answer_from(payload))
    assert pager.position.newest is None  # nothing of it taken


def test_answers_without_an_envelope_are_not_judged():
    pager = CallPager(bookmark=Bookmark(), page_size=10, sort_style="deep_object")
    verdict = pager.read(Answer([], limit=10, total=None))
    assert verdict.next_page is None
