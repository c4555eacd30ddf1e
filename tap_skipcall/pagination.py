"""Page-number pagination over Skipcall's ``{data, total, page, limit, totalPages}`` envelope.

Calls are read newest-first by ``updatedAt`` so that an incremental sync can stop
as soon as it reaches the bookmark. Page numbers are offsets into a list that moves
while the tap reads it, so :class:`NewestFirstPaginator` reasons about that:

* a call created or updated while the tap pages moves to the head of the list. Rows
  behind it shift towards later pages, so the tap may read a row twice, never zero
  times; the moved call itself carries an ``updatedAt`` newer than the bookmark this
  sync will save (the newest value of the first page), so the next sync reads it.
* a call that leaves the list (if the API hides soft-deleted calls) shifts later rows
  towards earlier pages, and one could slip past the page boundary. ``total`` shrinks
  when that happens; the paginator then steps back far enough to read the shifted
  rows again.
* the order is checked on every page. If the API did not honour the requested sort,
  there is no early stop: every page is read, with a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import FatalAPIError
from singer_sdk.pagination import BaseAPIPaginator, PageNumberPaginator

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

logger = logging.getLogger("tap-skipcall")

#: The wire forms tried for the ``sort`` object, whose encoding the docs do not state.
SORT_STYLES = ("deep_object", "json", "flat")


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 → aware datetime; None for null or unreadable values."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class EnvelopePaginator(PageNumberPaginator):
    """``page`` from 1 until ``totalPages`` (or an empty page)."""

    def __init__(self, payload_of: Callable[[requests.Response], Any]) -> None:
        super().__init__(start_value=1)
        self._payload_of = payload_of

    def has_more(self, response: requests.Response) -> bool:
        """More pages while this one is not the last announced one.

        An answer without ``totalPages`` (a bare list, a ``{data}`` wrapper) is one page.
        """
        if response.status_code == 404:
            return False
        payload = self._payload_of(response)
        if not isinstance(payload, dict) or not payload.get("data"):
            return False
        total_pages = _positive_int(payload.get("totalPages"))
        page = _positive_int(payload.get("page")) or self.current_value
        return total_pages is not None and page < total_pages


@dataclass(frozen=True)
class PageRequest:
    """Which page to ask for, and in which wire form to ask for the sort order."""

    number: int
    sort_style: str


class NewestFirstPaginator(BaseAPIPaginator[PageRequest]):
    """Pages of calls sorted by ``updatedAt`` descending; see the module docstring."""

    def __init__(
        self,
        *,
        payload_of: Callable[[requests.Response], Any],
        bookmark: datetime | None,
        page_size: int,
        sort_style: str,
    ) -> None:
        self.styles = SORT_STYLES if sort_style == "auto" else (sort_style,)
        super().__init__(PageRequest(1, self.styles[0]))
        self._payload_of = payload_of
        self.bookmark = bookmark
        self.page_size = page_size
        #: Whether every page so far came back newest-first; early stop needs it.
        self.ordered = True
        #: Rows at the head of the list known to have been read.
        self.covered = 0
        #: Newest ``updatedAt`` of the first page accepted, as the API wrote it: the most
        #: this sync may bookmark (the SDK compares bookmarks as strings).
        self.head: str | None = None
        self._last_total: int | None = None
        self._last_page = 0
        self._last_oldest: datetime | None = None
        self._next: PageRequest | None = None
        self._discarded = False

    def accept(self, response: requests.Response) -> bool:
        """Plan the next page from this answer; False if its rows must not be emitted.

        Called before the page's rows are yielded, so that a page read in a sort form
        the API ignored (a probe) is dropped instead of emitted twice.
        """
        page = self.current_value
        self._next = self._plan(self._payload_of(response))
        self._discarded = self._next is not None and self._next.sort_style != page.sort_style
        return not self._discarded

    def continue_if_empty(self, response: requests.Response) -> bool:
        """A dropped probe page is empty on purpose: go on with the next sort form."""
        return self._discarded

    def has_more(self, response: requests.Response) -> bool:
        """Whether :meth:`accept` planned another page."""
        return self._next is not None

    def get_next(self, response: requests.Response) -> PageRequest | None:
        """The page chosen by :meth:`accept`."""
        return self._next

    def _plan(self, payload: dict[str, Any]) -> PageRequest | None:
        page = self.current_value
        rows: list[dict[str, Any]] = payload["data"]
        size = _positive_int(payload.get("limit")) or self.page_size
        total = _positive_int(payload.get("total"), allow_zero=True)
        stamps = [parse_timestamp(row.get("updatedAt")) for row in rows]
        known = [stamp for stamp in stamps if stamp is not None]

        in_order = all(a >= b for a, b in pairwise(known))
        if in_order and known and self._last_oldest and page.number == self._last_page + 1:
            in_order = known[0] <= self._last_oldest
        if not in_order:
            if page.number == 1 and page.sort_style != self.styles[-1]:
                style = self.styles[self.styles.index(page.sort_style) + 1]
                logger.info(
                    "Calls did not come back sorted with sort style %r; trying %r.",
                    page.sort_style,
                    style,
                )
                return PageRequest(1, style)
            if self.ordered:
                logger.warning(
                    "Skipcall did not return calls sorted by updatedAt (sort style %r), so "
                    "this sync reads every page instead of stopping at the bookmark. Set "
                    "`sort_style` to the form your API accepts to make incremental syncs cheap.",
                    page.sort_style,
                )
            self.ordered = False

        if not rows:
            return None
        if self._last_total is not None and total is not None and total < self._last_total:
            # Rows left the list: anything behind them moved up by as much.
            self.covered = max(0, self.covered - (self._last_total - total))
        start = (page.number - 1) * size
        contiguous = start <= self.covered
        if contiguous:
            self.covered = max(self.covered, start + len(rows))
        self._last_total = total if total is not None else self._last_total
        self._last_page = page.number
        if known:
            self._last_oldest = known[-1]
            if self.head is None:
                self.head = max(
                    (stamp, row["updatedAt"])
                    for stamp, row in zip(stamps, rows, strict=True)
                    if stamp is not None
                )[1]

        if (
            contiguous
            and self.ordered
            and self.bookmark is not None
            and known
            and known[-1] < self.bookmark
        ):
            # Everything further down is older than the bookmark. Only when nothing before
            # this page is unread: rows that slid back past a page boundary come first.
            return None
        if total is not None and self.covered >= total:
            return None
        if total is None and len(rows) < size:
            return None
        number = self.covered // size + 1
        if number == page.number:
            msg = (
                f"Skipcall answered page {page.number} of calls with {len(rows)} rows of "
                f"{size} although `total` says {total}; stopping rather than skipping rows. "
                "Run the sync again; if this repeats, lower `page_size`."
            )
            raise PaginationError(msg)
        return PageRequest(number, page.sort_style)


class PaginationError(FatalAPIError):
    """The list answered in a way that paging past could lose rows."""


def _positive_int(value: Any, *, allow_zero: bool = False) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = int(value)
    return number if number > 0 or (allow_zero and number == 0) else None
