"""What the calls pager reads of the list: rows, answers and probes, as plain values."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tap_skipcall.values import parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from tap_skipcall.client.envelope import Envelope

#: The calls' replication key: every guarantee of the pager rests on it never going back.
REPLICATION_KEY = "updatedAt"


def version_key(call_id: str, updated_at: Any) -> bytes:
    """A call's version as 16 bytes: what a run remembers of each call it met."""
    text = f"{call_id}\x00{updated_at if isinstance(updated_at, str) else ''}"
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass(frozen=True)
class Row:
    """What the pager needs of a call: its id and ``updatedAt`` as the API wrote it."""

    id: str
    updated_at: str | None
    at: datetime | None = field(compare=False, default=None)

    @classmethod
    def of(cls, call: Any) -> Row:
        """The row of a call as the API answered it (a row that is no object has no key)."""
        if not isinstance(call, dict):
            return cls("", None)
        ident, raw = call.get("id"), call.get(REPLICATION_KEY)
        return cls(
            ident if isinstance(ident, str) else "",
            raw if isinstance(raw, str) else None,
            parse_timestamp(raw),
        )

    @cached_property
    def version(self) -> bytes | None:
        """The call's version (its id and ``updatedAt``) as 16 bytes; None without an id."""
        return version_key(self.id, self.updated_at) if self.id.strip() else None


def rows_of(calls: Iterable[Any]) -> list[Row]:
    """The pager's view of a page of calls."""
    return [Row.of(call) for call in calls]


@dataclass(frozen=True)
class Answer:
    """One page of the list: its rows, the ``limit`` it echoed and the ``total`` it announced.

    ``envelope`` is what the answer said of itself, read (None: not checked, in tests).
    """

    rows: Sequence[Row]
    limit: int | None = None
    total: int | None = None
    envelope: Envelope | None = None

    @property
    def stamps(self) -> list[datetime]:
        """The readable ``updatedAt`` of the rows, in list order."""
        return [row.at for row in self.rows if row.at is not None]


@dataclass(frozen=True)
class Probe:
    """The head of the list and its length at one moment.

    Every change that moves rows (an update, a creation, a soft-delete) puts a call with a
    new ``updatedAt`` at the head or changes ``total``: two equal probes mean nothing moved
    between them.
    """

    head: tuple[str, str | None] | None
    total: int | None

    @classmethod
    def of(cls, answer: Answer) -> Probe:
        """The probe an answer for page 1 makes."""
        first = answer.rows[0] if answer.rows else None
        return cls(None if first is None else (first.id, first.updated_at), answer.total)


@dataclass(frozen=True)
class Edge:
    """One instant of ``updatedAt`` as the API wrote it, and the calls seen at exactly it."""

    value: str
    at: datetime
    ids: frozenset[str]

    @classmethod
    def oldest_of(cls, rows: Sequence[Row]) -> Edge:
        """The last instant of a newest-first page, as its last row at it wrote it."""
        oldest = [row for row in rows if row.at is not None][-1].at
        assert oldest is not None
        raw = next(str(row.updated_at) for row in reversed(rows) if row.at == oldest)
        return cls(raw, oldest, ids_at(rows, oldest))

    @classmethod
    def newest_of(cls, rows: Sequence[Row]) -> Edge:
        """The newest instant on a page, whatever the order of its rows."""
        newest, raw = max((row.at, str(row.updated_at)) for row in rows if row.at is not None)
        return cls(raw, newest, ids_at(rows, newest))

    def with_ids(self, ids: frozenset[str]) -> Edge:
        """The same instant, with more calls seen at it."""
        return Edge(self.value, self.at, self.ids | ids)


def ids_at(rows: Sequence[Row], at: datetime) -> frozenset[str]:
    """The calls of a page at exactly this instant."""
    return frozenset(row.id for row in rows if row.at is not None and row.at == at)
