"""When a sync of calls reads the whole list, so that deleted calls leave the warehouse.

Whether ``GET /v1/calls`` lists soft-deleted calls is undocumented. When it does, a deleted
call arrives with ``deletedAt`` and the tap writes it to ``_sdc_deleted_at`` too, the column
SDK loaders keep for soft deletes. When it hides them, or a call is erased for good, nothing
arrives: only a complete read of the list can tell. A *reconciliation* is such a read: every
call is written again with one table version (its children are read only for calls that
changed), the head of the list is read again until nothing moved while it paged, and only
then ``ACTIVATE_VERSION`` tells the loader that rows of older versions are gone. Soft-deleted
calls are left out of it, so that ``hard_delete`` removes them.

It never marks a live call deleted: a call that moved while the list was paged is newer
than the read's cap and is written by the head passes; a run that dies before the end sends
no ``ACTIVATE_VERSION`` (a resumed reconciliation keeps its version); a list whose order
did not hold, or that kept moving, sends none; and BATCH files carry no version, so a
reconciliation writes RECORD messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tap_skipcall.calls.rows import Row
from tap_skipcall.run_context import RunContext

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from tap_skipcall.calls.state import SavedState

#: Head passes after the complete read before giving up on a list that keeps moving.
MAX_HEAD_PASSES = 5


@dataclass(frozen=True)
class RunPlan:
    """What one sync of calls does.

    ``version`` is set for a reconciliation: the table version its records carry and its
    ``ACTIVATE_VERSION`` names (the Unix millisecond it began, so versions only grow).
    ``complete_read`` says whether the run reads the whole list (a backfill does, too).
    """

    version: int | None
    complete_read: bool
    why: str

    @property
    def reconciles(self) -> bool:
        """Whether this run ends with ``ACTIVATE_VERSION`` (if the read proves complete)."""
        return self.version is not None

    @property
    def began_at(self) -> datetime | None:
        """When the reconciliation began (its version as a moment)."""
        return None if self.version is None else datetime.fromtimestamp(self.version / 1000, UTC)


def due(saved: SavedState, now: datetime, period: timedelta) -> bool:
    """Whether waiting for the next run would let the last complete read grow too old.

    Too old is older than ``period``; the next run is assumed as far off as the last one.
    """
    if saved.reconciled_at is None:
        return True
    interval = timedelta(0)
    if saved.last_run_at is not None and saved.last_run_at < now:
        interval = now - saved.last_run_at
    return now - saved.reconciled_at + interval > period


def plan_run(
    saved: SavedState,
    *,
    now: datetime,
    period: timedelta | None,
    versions: bool,
    full_table: bool,
    shared: RunContext | None = None,
) -> RunPlan:
    """Incremental, backfill or reconciliation, from the state and the settings.

    ``period`` is ``deletions_within_days`` (None: never reconcile), ``versions`` the
    ``emit_activate_version_messages`` setting, ``full_table`` a catalog that forces calls to
    FULL_TABLE (every run a complete read). Whether ``batch_config`` is set changes nothing
    here: a reconciliation writes RECORD messages in any case. ``shared``: with ``accounts``,
    the run's version and whether every account reconciles this run (decided together, since
    one ``ACTIVATE_VERSION`` covers them all; an interrupted reconciliation's checkpoint of
    another version is then read anew).
    """
    shared = shared or RunContext()
    version = shared.version or int(now.timestamp() * 1000)
    if shared.reconcile and versions:
        return RunPlan(version, True, "every account's complete read is due for renewal")
    if not shared.deferred and saved.resume is not None and saved.resume.version is not None:
        return RunPlan(saved.resume.version, True, "resuming an interrupted reconciliation")
    if full_table:
        return RunPlan(version if versions else None, True, "the catalog asks for FULL_TABLE")
    if not saved.has_bookmark:  # nothing loaded yet to remove: the clock starts here
        return RunPlan(None, True, "a first sync reads every call")
    if not shared.deferred and period is not None and versions and due(saved, now, period):
        return RunPlan(version, True, "the last complete read is due for renewal")
    return RunPlan(None, False, "incremental")


def unchanged_calls(plan: RunPlan, saved: SavedState) -> Callable[[Mapping[str, Any]], bool]:
    """Whether a call is written only for a complete read, unchanged since the bookmark.

    Its children were read when it changed.
    """
    if not (plan.complete_read and saved.has_bookmark):
        return lambda call: False
    bookmark = saved.bookmark
    return lambda call: bookmark.holds(Row.of(call))
