"""Resuming an interrupted sync: catch up with what it delivered, land where it stopped.

A run started from a :class:`~tap_skipcall.calls.state.Checkpoint` reads the head of the
list down to the checkpoint's range (calls changed since), jumps to the page where the
interrupted run stopped, checks that the page it lands on starts inside what that run
delivered (stepping back until it does: rows move when calls change), and goes on.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from tap_skipcall.calls.rows import Edge
from tap_skipcall.calls.state import Checkpoint, UpdatedRange

if TYPE_CHECKING:
    from datetime import datetime

    from tap_skipcall.calls.position import Position, ResumeProgress
    from tap_skipcall.calls.state import Bookmark


def extend_delivered(
    oldest: Edge | None,
    page_oldest: Edge,
    progress: ResumeProgress,
    checkpoint: Checkpoint | None,
) -> tuple[Edge | None, ResumeProgress]:
    """The lower end of what is delivered contiguously from the head, after this page.

    ``page_oldest`` is the page's last instant; reaching the checkpoint's range joins it.
    """
    if not progress.caught_up:
        assert checkpoint is not None
        if page_oldest.at > checkpoint.delivered.end_at:
            return oldest, progress  # still above what the interrupted run delivered
        progress = replace(progress, caught_up=True)
        range_ = checkpoint.delivered
        oldest = Edge(range_.start, range_.start_at, range_.ids_at_start)
    if oldest is None or page_oldest.at < oldest.at:
        return page_oldest, progress
    if page_oldest.at == oldest.at:
        return oldest.with_ids(page_oldest.ids), progress
    return oldest, progress


def landing_page(
    position: Position, checkpoint: Checkpoint | None, total: int | None
) -> int | None:
    """Where the interrupted run stopped, once the head has been read down to it.

    Calls that moved to the head since pushed the interrupted run's last row down, by how
    many is unknown (some moved before its checkpoint): land where it was, on the page that
    ends with it, whose first row is then inside what it delivered.
    """
    progress, oldest = position.resume, position.cursor.oldest_delivered
    if checkpoint is None or progress.jumped or not progress.caught_up or not position.ordered:
        return None
    if oldest is None or oldest.at < checkpoint.delivered.start_at:
        return None  # this run already read below where the interrupted one stopped
    size = position.size
    number = max(1, (checkpoint.rows_read - 2) // size + 1)
    if total is not None:
        number = min(number, max(1, math.ceil(total / size)))
    return number


def landed_inside(stamps: list[datetime], checkpoint: Checkpoint, *, ordered: bool) -> bool:
    """Whether the page landed on starts inside what the interrupted run delivered."""
    return ordered and bool(stamps) and stamps[0] > checkpoint.delivered.start_at


def checkpoint_of(
    position: Position, resumed: Checkpoint | None, bookmark: Bookmark
) -> Checkpoint | None:
    """What holds once the page just read is written (None: nothing new can be claimed)."""
    if not position.ordered:
        return None
    if not position.resume.caught_up:
        return resumed  # what the interrupted run delivered still holds
    oldest, newest = position.cursor.oldest_delivered, position.newest
    if oldest is None or newest is None:
        return None
    delivered = UpdatedRange(oldest.value, newest.value, oldest.ids)
    return Checkpoint(delivered, position.cursor.rows_delivered, bookmark.value)
