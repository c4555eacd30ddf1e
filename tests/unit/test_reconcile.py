"""When a sync of calls reads the whole list: the plan, table by table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tap_skipcall.calls.reconcile import due, plan_run
from tap_skipcall.calls.state import Bookmark, Checkpoint, SavedState, UpdatedRange

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def saved(*, reconciled_days_ago=None, last_run_days_ago=None, resume_version=None, bookmark=True):
    resume = None
    if resume_version is not None:
        delivered = UpdatedRange("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", frozenset())
        resume = Checkpoint(delivered, 300, None, resume_version)
    return SavedState(
        Bookmark("2026-11-29T06:00:00.000Z") if bookmark else Bookmark(),
        bookmark,
        resume,
        None if reconciled_days_ago is None else NOW - reconciled_days_ago * DAY,
        None if last_run_days_ago is None else NOW - last_run_days_ago * DAY,
    )


@pytest.mark.parametrize(
    ("reconciled", "last_run", "expected"),
    [
        (6, 1, False),  # daily: waiting a day more lands exactly on the period
        (7, 1, True),  # daily: waiting would exceed it
        (6.8, 0.125, False),  # every three hours: there is still time
        (6.9, 0.2, True),
        (1, 1, False),
        (None, 1, True),  # never reconciled
        (8, None, True),  # no last run known: the period alone
        (6.5, None, False),
    ],
)
def test_due_when_the_next_run_would_be_too_late(reconciled, last_run, expected):
    state = saved(reconciled_days_ago=reconciled, last_run_days_ago=last_run)
    assert due(state, NOW, WEEK) is expected


@pytest.mark.parametrize(
    ("state", "settings", "version", "complete"),
    [
        (saved(bookmark=False), {}, None, True),  # first sync: a complete read, no versions
        (saved(reconciled_days_ago=1, last_run_days_ago=1), {}, None, False),  # incremental
        (saved(reconciled_days_ago=7, last_run_days_ago=1), {}, int(NOW.timestamp() * 1000), True),
        (saved(reconciled_days_ago=7, last_run_days_ago=1), {"versions": False}, None, False),
        (saved(reconciled_days_ago=70, last_run_days_ago=1), {"period": None}, None, False),
        (saved(reconciled_days_ago=1), {"full_table": True}, int(NOW.timestamp() * 1000), True),
        (saved(reconciled_days_ago=1), {"full_table": True, "versions": False}, None, True),
        (saved(reconciled_days_ago=1, resume_version=123), {}, 123, True),  # same version
    ],
    ids=[
        "first-sync",
        "incremental",
        "due",
        "versions-off",
        "never",
        "full-table",
        "full-table-no-versions",
        "resumed-reconciliation",
    ],
)
def test_plan(state, settings, version, complete):
    options = {"period": WEEK, "versions": True, "full_table": False}
    plan = plan_run(state, now=NOW, **{**options, **settings})
    assert plan.version == version
    assert plan.complete_read is complete
    assert plan.reconciles is (version is not None)
    if version is not None:
        assert plan.began_at == datetime.fromtimestamp(version / 1000, UTC)
