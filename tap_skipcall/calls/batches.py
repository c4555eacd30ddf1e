"""Pages of a backfill read together, trusted only once a probe shows nothing moved.

Pages served together may be served in any order, and a call updated between two of them
can carry a row across their boundary, read by neither. So a batch is trusted only if a
probe of the list's head, read after its last page, equals the one read before it;
otherwise its pages are read again, one at a time, from the :class:`Cursor` it started
from. Only a backfill of an ordered list reads batches (an incremental run stops at the
bookmark, a resumed one lands by single pages).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from tap_skipcall.calls.position import Batch, PageRequest, Position, Verdict

if TYPE_CHECKING:
    from collections.abc import Callable

    from tap_skipcall.calls.rows import Probe


def pages_ahead_for(per_second: float | None, answer_seconds: float, *, most: int) -> int:
    """Pages of a backfill to read together, from the plan's rate and the answer time.

    One at a time, a page takes an answer's time: while that is within what the plan allows
    between two requests (rate x answer time below 1), the budget sets the pace and batches
    would only add their probes. Past it, the answers set the pace: read as many together as
    may be in flight, so that each batch's probe costs the least of the budget.
    """
    if per_second is None or per_second * answer_seconds < 1:
        return 1
    return max(1, most)


def open_batch(
    position: Position, verdict: Verdict, *, backfill: bool
) -> tuple[list[PageRequest], Position]:
    """Pages to request together from the next one on (empty: just it), and the position."""
    batching, after, cursor = position.batching, verdict.next_page, position.cursor
    total, size = cursor.total, position.size
    if (
        batching.pages_ahead <= 1
        or after is None
        or batching.open is not None
        or not backfill
        or not position.ordered
        or total is None
        or batching.reference is None
        or after.number <= batching.one_at_a_time_until
        or after.number != cursor.next_page_number(size)
    ):
        return [], position
    last = min(after.number + batching.pages_ahead - 1, math.ceil(total / size))
    if last <= after.number:
        return [], position
    batch = Batch(after.number, last, verdict.checkpoint, cursor)
    batching = replace(batching, open=batch, batches=batching.batches + 1)
    pages = [PageRequest(number, after.sort_style) for number in range(after.number, last + 1)]
    return pages, replace(position, batching=batching)


def wants_probe(position: Position) -> bool:
    """Whether the page about to be read ends a batch (then read a probe after it)."""
    batch = position.batching.open
    return batch is not None and position.page.number == batch.last


def settle(
    position: Position,
    page: PageRequest,
    verdict: Verdict,
    probe: Probe | Callable[[], Probe] | None,
) -> tuple[Verdict, Position]:
    """The verdict on a page of an open batch: trusted, pending, or the batch read again.

    A batch ends at its last page, or where the read stops inside it (``start_date`` or the
    bookmark reached); there the probe (read then, if it is a function) must equal the one
    before the batch.
    """
    batching = position.batching
    batch = batching.open
    if batch is None:
        return verdict, position
    planned = verdict.next_page
    observed = None
    if page.number == batch.last or planned is None:
        observed = probe() if callable(probe) else probe
        if observed is not None and observed == batching.reference:
            return verdict, replace(position, batching=replace(batching, open=None))
    elif page.number < batch.last and planned.number == page.number + 1:
        return replace(verdict, checkpoint=batch.checkpoint), position  # not trusted yet
    # The list moved while the batch was served (or the plan left it): read it again.
    batching = replace(
        batching,
        open=None,
        reference=observed or batching.reference,
        one_at_a_time_until=batch.last,
        read_again=batching.read_again + 1,
    )
    again = PageRequest(batch.first, page.sort_style)
    position = replace(position, cursor=batch.before, batching=batching)
    return replace(verdict, next_page=again, checkpoint=batch.checkpoint), position
