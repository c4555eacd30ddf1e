"""What a sync of calls refreshes (its plan), and the refresher's reads, against fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tap_skipcall.freshness.refresher import ListedPage, Refresher, RefreshPlan
from tap_skipcall.freshness.walk import CIRCLE, DueArc, Walk

NOW = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
LAST_WALK = {"walked_at": (NOW - DAY).isoformat(), "turned_to": 5}


@pytest.mark.parametrize(
    ("has_bookmark", "max_age", "walks", "last_run", "period", "due"),
    [
        (False, 7, True, None, None, None),  # a first sync reads every child
        (True, 0, True, NOW - DAY, None, None),  # 0: no refresh
        (True, 7, False, NOW - DAY, 7 * DAY, None),  # contacts not in use: no walk
        (True, 7, True, NOW - DAY, 7 * DAY, DueArc(5, CIRCLE // 6 + 1)),  # daily: a sixth
        (True, 7, True, NOW - timedelta(minutes=5), 7 * DAY, None),  # a moment after: none
    ],
    ids=["first-sync", "never", "no-contacts", "daily", "back-to-back"],
)
def test_the_plan_of_a_run(has_bookmark, max_age, walks, last_run, period, due):
    walk_entry = {**LAST_WALK, "walked_at": (last_run or NOW - DAY).isoformat()}
    plan = RefreshPlan.for_run(
        walk_entry,
        now=NOW,
        last_run_at=last_run,
        has_bookmark=has_bookmark,
        max_age_days=max_age,
        walks_contacts=walks,
    )
    assert plan.period == period
    assert plan.due == due
    assert (plan.contact_due is None) == (due is None)


class FakeChild:
    def __init__(self, key, watched=(), read_at=None):
        self.key, self._watched, self._read_at = key, list(watched), read_at
        self.synced: list[dict] = []

    def has_work_for(self, context):  # each parent once a sync, as the child streams do
        key = context.get(self.key)
        return key is not None and key not in {done.get(self.key) for done in self.synced}

    def sync(self, context=None):
        self.synced.append(context)


class Watching(FakeChild):
    def watched(self):
        return self._watched


class Rotating(FakeChild):
    def read_at(self):
        return self._read_at


class Pages:
    def __init__(self, calls, size=2):
        self.calls, self.size, self.read = calls, size, []

    def listed_page(self, number):
        self.read.append(number)
        rows = self.calls[(number - 1) * self.size : number * self.size]
        return ListedPage(rows, len(self.calls), self.size)


def context_of(call):
    return {"call_id": call["id"], "contact_id": call["contact"]}


def refresher(children, pages):
    return Refresher(
        pages,
        children,
        now=NOW,
        page_size=2,
        context_of=context_of,
        logger=__import__("logging").getLogger("t"),
    )


def plan(due):
    return RefreshPlan(NOW, 7 * DAY, DAY, Walk(NOW - DAY, 5), due)


def test_a_walk_reads_the_whole_list_and_each_due_contact_once():
    calls = [{"id": f"c{i}", "contact": f"k{i % 3}", "updatedAt": None} for i in range(5)]
    pages = Pages(calls)
    contacts = FakeChild("contact_id")
    walk = refresher({"contacts": contacts}, pages).after_read(
        plan(DueArc(0, CIRCLE)), met_every_call=False, synced_since=None
    )
    assert pages.read == [1, 2, 3]
    assert sorted(c["contact_id"] for c in contacts.synced) == ["k0", "k1", "k2"]
    assert walk == Walk(NOW, 0)  # where the arc due ended: the whole circle from 0


def test_a_complete_read_met_the_due_contacts_already():
    pages = Pages([{"id": "c1", "contact": "k1", "updatedAt": None}])
    walk = refresher({"contacts": FakeChild("contact_id")}, pages).after_read(
        plan(DueArc(0, 100)), met_every_call=True, synced_since=None
    )
    assert pages.read == []
    assert walk == Walk(NOW, 100)


def test_unfinished_children_and_due_sequences_are_read_once_each():
    recordings = Watching("call_id", watched=["c1", "c2"])
    sequences = Rotating("sequence_id", read_at={"s1": NOW - 8 * DAY, "s2": NOW})
    pages = Pages([])
    walk = refresher({"call_recordings": recordings, "sequence_contacts": sequences}, pages)
    assert walk.after_read(plan(None), met_every_call=False, synced_since=None) == Walk(
        NOW - DAY, 5
    )
    assert recordings.synced == [{"call_id": "c1"}, {"call_id": "c2"}]
    assert sequences.synced == [{"sequence_id": "s1"}]
    assert pages.read == []  # no walk due


def test_a_first_sync_starts_the_walk_from_now():
    first = RefreshPlan(NOW, None, timedelta(0), Walk(NOW), None)
    assert refresher({}, Pages([])).after_read(first, met_every_call=True, synced_since=None) == (
        Walk(NOW)
    )


def test_a_child_that_cannot_rotate_is_refused_in_one_sentence():
    with pytest.raises(TypeError, match="cannot be read in rotation"):
        refresher({"sequence_contacts": FakeChild("sequence_id")}, Pages([])).after_read(
            plan(None), met_every_call=False, synced_since=None
        )
