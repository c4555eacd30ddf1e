"""Which calls of a page are written: the rule for rows with a missing or broken key.

* A row without a usable ``id`` (missing, not a string, empty) is not written: a target
  upserts on ``id``, so such a row would be lost or merged with another anyway. It is named
  (page, position, ``updatedAt``) in a warning at the end of the run.
* A call without a readable ``updatedAt`` is written: the API's pages do not mark the field
  required. It cannot move the bookmark, so an incremental run writes it again only if it
  meets it; an unreadable value is written as null and kept, as sent, in ``extra``.
* A version of a call (its ``id`` and ``updatedAt``) met again in the same run (rows
  pushed across a page boundary by calls created meanwhile, a head pass, an API that lists
  a row twice) is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tap_skipcall.calls.rows import REPLICATION_KEY, Row
from tap_skipcall.values import plural

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Where an ``updatedAt`` that is not a timestamp is kept (a field the schema lacks: ``extra``).
UNREADABLE_UPDATED_AT = "updatedAt_as_sent"
#: Rows named in a warning, at most (the count says how many more).
NAMED = 10


@dataclass(frozen=True)
class Admitted:
    """A page's calls to write, and what the rule left out or noted."""

    calls: list[dict[str, Any]]
    keys: frozenset[bytes]
    without_id: list[str]
    without_updated_at: list[str]
    repeated: int


def admit(
    calls: Sequence[Any],
    *,
    page: int,
    already_delivered: frozenset[str],
    met: set[bytes] | frozenset[bytes],
    leave_out_deleted: bool = False,
    rows: Sequence[Row] | None = None,
) -> Admitted:
    """The calls of page ``page`` to write (see the module docstring for the rule).

    ``already_delivered`` are the calls an earlier run delivered; ``met`` the versions this
    run met before (written, or left out for good); ``leave_out_deleted``: a reconciliation
    leaves soft-deleted calls out (so that ``ACTIVATE_VERSION`` removes them); ``rows``: the
    calls as the pager read them (read again here if not given).
    """
    fresh: list[dict[str, Any]] = []
    keys: set[bytes] = set()
    without_id: list[str] = []
    without_stamp: list[str] = []
    repeated = 0
    parsed = rows if rows is not None else [Row.of(call) for call in calls]
    for position, (call, row) in enumerate(zip(calls, parsed, strict=True), start=1):
        ident = row.id if row.id.strip() else None
        if ident is None:
            stamp = call.get(REPLICATION_KEY) if isinstance(call, dict) else None
            without_id.append(f"row {position} of page {page} (updatedAt {stamp!r})")
            continue
        if ident in already_delivered or (leave_out_deleted and call.get("deletedAt")):
            continue
        raw = call.get(REPLICATION_KEY)
        key = row.version
        assert key is not None  # the row has an id
        if key in met or key in keys:
            repeated += 1
            continue
        keys.add(key)
        if row.at is None:
            without_stamp.append(ident)
            if raw is not None:
                call = {**call, REPLICATION_KEY: None, UNREADABLE_UPDATED_AT: raw}
        fresh.append(call)
    return Admitted(fresh, frozenset(keys), without_id, without_stamp, repeated)


@dataclass(frozen=True)
class RowNotes:
    """What the rule left out or noted over a run, for one warning at its end."""

    without_id: tuple[str, ...] = ()
    without_id_count: int = 0
    without_updated_at: tuple[str, ...] = ()
    without_updated_at_count: int = 0
    repeated: int = 0

    def after(self, admitted: Admitted) -> RowNotes:
        """The notes once a page was admitted."""
        return replace(
            self,
            without_id=(*self.without_id, *admitted.without_id)[:NAMED],
            without_id_count=self.without_id_count + len(admitted.without_id),
            without_updated_at=(*self.without_updated_at, *admitted.without_updated_at)[:NAMED],
            without_updated_at_count=self.without_updated_at_count
            + len(admitted.without_updated_at),
            repeated=self.repeated + admitted.repeated,
        )

    def warnings(self) -> list[str]:
        """One sentence per kind of row the rule left out or noted this run."""
        lines = []
        if self.without_id_count:
            lines.append(
                f"calls: {plural(self.without_id_count, 'row')} without a usable id "
                f"{'was' if self.without_id_count == 1 else 'were'} not written "
                f"(a target keys calls on id): {_named(self.without_id, self.without_id_count)}."
            )
        if self.without_updated_at_count:
            count = self.without_updated_at_count
            lines.append(
                f"calls: {plural(count, 'call')} without a readable updatedAt "
                f"{'was' if count == 1 else 'were'} written with it null; "
                f"{'it' if count == 1 else 'they'} cannot move the bookmark, so a later run "
                f"writes {'it' if count == 1 else 'them'} again only if it meets "
                f"{'it' if count == 1 else 'them'}: {_named(self.without_updated_at, count)}."
            )
        return lines

    def repeats(self) -> str | None:
        """A line on the versions met again and written once (normal while calls change)."""
        if not self.repeated:
            return None
        return (
            f"calls: {plural(self.repeated, 'row')} met again in this run with the same id and "
            "updatedAt (pushed across a page boundary while the list moved, or listed twice) "
            f"{'was' if self.repeated == 1 else 'were'} written once."
        )


def _named(names: tuple[str, ...], count: int) -> str:
    more = count - len(names)
    return ", ".join(names) + (f" and {more:,} more" if more > 0 else "")
