"""What one answer of a paginated list says of itself, and whether that can all be true.

Every paginated list answers ``{data, total, page, limit, totalPages}`` (the calls pages;
REFERENCE §2.7). Paging trusts those claims: a ``total`` reached ends the read, and the
bookmark then claims every call below it. So an answer whose claims contradict each other,
or its own rows, must stop the read before anything is claimed on its word:

* a field that is no count (``total`` -1, 299.5, ``true``); absent or null is *unknown*,
  and a list without a ``total`` is read until a short page. A count sent as a string
  (``"300"``, as a database's 64-bit count often arrives in JavaScript) is read as the count;
* more rows up to this page than ``total`` says exist (``total`` 0 beside rows);
* a short page (or an empty one) while ``total`` says more rows follow it;
* more rows than its own ``limit``;
* an echoed ``page`` other than the one asked, where the page asked exists: the API does not
  take ``page`` (a page asked past the end and answered as the last one is read as empty).

Rules that need more than one answer (pages that repeat, rows that never end) are the
pager's (:mod:`tap_skipcall.calls.pager`, :mod:`tap_skipcall.client.pages`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: The envelope's fields that hold counts.
COUNT_FIELDS = ("total", "page", "limit", "totalPages")


class ListContradiction(ValueError):
    """A list answered in a way that cannot all be true: paging on could claim unread rows."""


def count_of(value: Any) -> int | None:
    """A count the API sent: an int, a whole float, or a string of digits (None: absent).

    Raises ``ValueError`` for a value present that is no count (negative, a fraction, not
    finite, text that is no number, a boolean).
    """
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"{str(value)[:40]!r}, which is not a number"
        raise ValueError(msg)
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        msg = f"{value!r}, which is not a whole number"
        raise ValueError(msg)
    if value < 0:
        msg = f"{int(value)}, which is below 0"
        raise ValueError(msg)
    return int(value)


@dataclass(frozen=True)
class Envelope:
    """The documented envelope of one answer, read: counts, or None where absent.

    ``broken`` names a field that is present but no count (then the others are not read).
    """

    rows: int
    total: int | None = None
    page: int | None = None
    limit: int | None = None
    total_pages: int | None = None
    broken: str | None = None
    #: Whether the answer is paged at all (a bare list, a ``{data}`` wrapper: one page).
    paged: bool = True

    @classmethod
    def of(cls, payload: Any) -> Envelope:
        """The envelope of a parsed answer (a bare list or a ``{data}`` wrapper: rows only)."""
        if isinstance(payload, list):
            return cls(len(payload), paged=False)
        if not isinstance(payload, dict):
            return cls(0, paged=False)
        data = payload.get("data")
        rows = len(data) if isinstance(data, list) else 0
        if not any(name in payload for name in COUNT_FIELDS):
            return cls(rows, paged=False)
        counts: dict[str, int | None] = {}
        for name in COUNT_FIELDS:
            try:
                counts[name] = count_of(payload.get(name))
            except ValueError as error:
                return cls(rows, broken=f"says `{name}` {error}")
        return cls(
            rows,
            total=counts["total"],
            page=counts["page"],
            limit=counts["limit"] or None,
            total_pages=counts["totalPages"],
        )

    def page_size(self, asked_limit: int | None) -> int:
        """Rows a full page holds: the ``limit`` asked, or fewer if the server says so.

        An echo above what was asked is not believed; without either, these rows.
        """
        if self.limit is not None and asked_limit is not None:
            return min(self.limit, asked_limit)
        return self.limit or asked_limit or max(self.rows, 1)

    def past_end(self, asked: int, asked_limit: int | None) -> bool:
        """Whether the page asked lies past the end this answer announces.

        A server may then answer its last page instead, saying so: those rows are not the
        page asked, which holds none.
        """
        if not self.total or self.page is None or not 1 <= self.page < asked:
            return False  # no last page to answer instead, or not one before the page asked
        return (asked - 1) * self.page_size(asked_limit) >= self.total

    def contradiction(self, asked: int, asked_limit: int | None = None) -> str | None:
        """Why this answer to page ``asked`` cannot be true, in words (None: it can)."""
        if self.broken is not None:
            return self.broken
        if not self.paged or self.past_end(asked, asked_limit):
            return None
        size = self.page_size(asked_limit)
        before = (asked - 1) * size
        if self.rows > size:
            return f"holds {self.rows:,} rows, more than a page of {size:,} (its `limit`)"
        if self.page is not None and self.page != asked:
            return f"was answered as page {self.page}: the API does not take `page`"
        if self.total is None:
            return None
        if before + self.rows > self.total:
            return (
                f"says `total` {self.total:,} beside {self.rows:,} rows"
                if asked == 1
                else f"says `total` {self.total:,}, fewer than the {before + self.rows:,} rows "
                f"up to it"
            )
        if self.rows < size and before + self.rows < self.total:
            expected = min(size, self.total - before)
            held = f"{self.rows:,} rows" if self.rows else "no rows"
            return f"holds {held} where its `total`, {self.total:,}, says {expected:,}"
        return None


def stop_sentence(path: str, what: str, kept: str) -> str:
    """The one sentence of a list read stopped because its answers cannot all be true.

    ``kept`` says what the stop protects (the state's claims, a table's rows).
    """
    return (
        f"Skipcall's answers for {path} cannot all be true: {what}; so that nothing is claimed "
        f"on their word, the tap stopped, {kept} (if this repeats, the API is not paging as "
        "documented)."
    )
