"""Whether the list came back newest first: the wire form of ``sort``, and the order check.

The docs give ``sort``'s schema but not its encoding, so the pager tries each wire form on
page 1 and keeps the first that comes back sorted; after that, every page is checked, and
paging may stop at the bookmark only while the order has held.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from tap_skipcall.calls.rows import Answer

#: The wire forms tried for the ``sort`` object, in this order.
SORT_STYLES = ("deep_object", "json", "flat")
#: Pages of ids kept to tell a shifted repeat from a broken order (rows moved by churn).
RECENT_PAGES = 3


def styles_to_try(sort_style: str) -> tuple[str, ...]:
    """Every wire form for ``auto``, else just the one configured."""
    return SORT_STYLES if sort_style == "auto" else (sort_style,)


def next_style(styles: tuple[str, ...], tried: str | None) -> str | None:
    """The wire form to try after ``tried`` came back unsorted (None: none left)."""
    if tried not in styles:
        return None
    index = styles.index(tried)
    return styles[index + 1] if index + 1 < len(styles) else None


@dataclass(frozen=True)
class PageMemory:
    """The last pages read: their number, the oldest instant seen, the ids of the last few."""

    last_page: int = 0
    last_oldest: datetime | None = None
    recent_ids: tuple[frozenset[str], ...] = ()

    def after(self, number: int, answer: Answer) -> PageMemory:
        """The memory once this page is read."""
        stamps = answer.stamps
        ids = frozenset(row.id for row in answer.rows)
        return PageMemory(
            number,
            stamps[-1] if stamps else self.last_oldest,
            (*self.recent_ids, ids)[-RECENT_PAGES:],
        )

    def in_order(self, number: int, answer: Answer) -> bool:
        """Newest first within the page, and across pages up to rows repeated by a shift.

        A call updated while the tap pages moves to the head, pushing rows already read onto
        the next page: those repeats are newer than the last page's oldest and are allowed.
        """
        stamps = answer.stamps
        if not all(a >= b for a, b in pairwise(stamps)):
            return False
        last = self.last_oldest
        if not stamps or last is None or number != self.last_page + 1:
            return True
        recent = frozenset().union(*self.recent_ids)
        return all(row.id in recent for row in answer.rows if row.at is not None and row.at > last)
