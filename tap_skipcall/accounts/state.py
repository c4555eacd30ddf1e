"""The state of a run over several accounts: each account's own state, side by side.

``{"accounts": {"fr": {"bookmarks": {…}}, "de": {"bookmarks": {…}}}}``: each entry is exactly
the state that account's tap reads and writes (bookmark, checkpoint, freshness walk and
reconciliation clock), so its size grows with the accounts, never with calls. Each tap's
STATE replaces its own entry only: a run that fails or is killed in one account leaves every
other account's progress, and its own last checkpoint, as they were written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tap_skipcall.calls.reconcile import due
from tap_skipcall.calls.state import RECONCILED_AT, read_state, state_problem
from tap_skipcall.values import iso

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

#: The key of the accounts' states in the run's state.
ACCOUNTS = "accounts"


def account_states(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each account's state in the run's state (none yet: an empty mapping)."""
    entries = state.get(ACCOUNTS)
    return {str(k): dict(v) for k, v in entries.items()} if isinstance(entries, dict) else {}


def with_account_state(
    state: Mapping[str, Any], account: str, account_state: Mapping[str, Any]
) -> dict[str, Any]:
    """The run's state with one account's entry replaced by what its tap last wrote."""
    return {**state, ACCOUNTS: {**account_states(state), account: dict(account_state)}}


def accounts_state_problem(state: Any, accounts: Iterable[str], streams: set[str]) -> str | None:
    """One sentence on what is wrong with a state given to a run over accounts, or None.

    Each account's entry is held to the rules of a one-account state. A state written with
    ``api_key`` alone (bookmarks at the top) is no problem: see :func:`starting_state`.
    """
    if not isinstance(state, dict):
        return None
    entries = state.get(ACCOUNTS)
    if entries is None:
        return None
    if not isinstance(entries, dict):
        return "The state's `accounts` is not an object of account names."
    for name in accounts:
        problem = state_problem(entries.get(name) or {}, streams)
        if problem is not None:
            return f"Account {name}: {problem}"
    return None


def starting_state(
    state: Mapping[str, Any], accounts: Iterable[str]
) -> tuple[dict[str, Any], list[str]]:
    """The state the run starts from, and a note for each part of the given one it leaves.

    A state written with ``api_key`` alone has no owner among the accounts: each account
    starts its first sync (nothing is lost: every call is read again). Entries of accounts no
    longer configured are dropped.
    """
    names = list(accounts)
    notes = []
    if state.get("bookmarks") and ACCOUNTS not in state:
        notes.append(
            "The state was written with `api_key` alone: with `accounts`, each account keeps a "
            "state of its own, so each starts with a first sync (see the README, Several "
            "organisations)."
        )
    entries = account_states(state)
    gone = sorted(set(entries) - set(names))
    if gone:
        notes.append(
            f"The state's accounts {', '.join(gone)} are no longer configured: their state is "
            "dropped."
        )
    return {ACCOUNTS: {name: entries[name] for name in names if name in entries}}, notes


def calls_saved(account_state: Mapping[str, Any], start_date: str | None) -> Any:
    """What an account's calls state says (as the calls stream reads it)."""
    bookmarks = account_state.get("bookmarks") or {}
    return read_state(bookmarks.get("calls") or {}, start_date)


def reconcile_together(
    states: Mapping[str, Mapping[str, Any]],
    start_dates: Mapping[str, str | None],
    *,
    now: datetime,
    period_days: int,
) -> bool:
    """Whether every account reads its calls whole this run, for deletions.

    One ``ACTIVATE_VERSION`` for calls marks deleted every row of the table not read with
    its version, every account's: so either every account reads whole this run, or none
    does. They do when any account with calls loaded is due, or one's reconciliation was
    interrupted (its clock did not move).
    """
    if period_days <= 0:
        return False
    period = timedelta(days=period_days)
    for name, start_date in start_dates.items():
        saved = calls_saved(states.get(name) or {}, start_date)
        if saved.has_bookmark and due(saved, now, period):
            return True
    return False


def clock_moved(account_state: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """An account's state once its calls were reconciled at ``at`` (its ACTIVATE_VERSION)."""
    bookmarks = dict(account_state.get("bookmarks") or {})
    calls = dict(bookmarks.get("calls") or {})
    calls[RECONCILED_AT] = iso(at)
    bookmarks["calls"] = calls
    return {**account_state, "bookmarks": bookmarks}
