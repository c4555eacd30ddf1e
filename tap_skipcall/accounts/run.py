"""A run over several accounts: each read by a tap of its own, side by side, then activated.

Each account's tap has its own session, request budget and pace (each key has its own rate
limit), its own state entry and its own failures; up to ``max_concurrent_accounts`` run at
once, each in a thread named after its account (every log line of it says the account). What
they share is the run's :class:`~tap_skipcall.run_context.RunContext` (one table version,
one reconciliation decision) and the :class:`~tap_skipcall.accounts.relay.Relay` they write
through. When every account has finished, the run writes the ``ACTIVATE_VERSION`` of each
table every account read whole, moves the reconciliation clocks if calls were among them,
says in one line per account what it sent, and ends with one sentence naming each account
that failed, and why.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from tap_skipcall import clock
from tap_skipcall.accounts.relay import Relay
from tap_skipcall.accounts.state import (
    account_states,
    clock_moved,
    reconcile_together,
    with_account_state,
)
from tap_skipcall.errors import SkipcallAPIError, sentence_of
from tap_skipcall.logs import ACCOUNT_THREAD
from tap_skipcall.run_context import RunContext
from tap_skipcall.threads import leave_signals_to_main_thread
from tap_skipcall.values import plural

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from tap_skipcall.accounts.relay import AccountWriter
    from tap_skipcall.accounts.settings import Account
    from tap_skipcall.output import RecordsHeldWriter


class AccountsFailed(SkipcallAPIError):
    """Some accounts failed; the others finished and their state is saved."""


class AccountTap(Protocol):
    """What the run needs of one account's tap."""

    def sync_all(self) -> None:
        """Read every selected stream of this account."""

    @property
    def transport(self) -> Any:
        """The account's session and request budget."""


@dataclass
class Outcome:
    """How one account's reading ended: what it cost, and why it failed (None: it did not)."""

    requests: int = 0
    waits: int = 0
    seconds: float = 0.0
    failure: str | None = None
    started: bool = field(default=False)


def failure_of(error: BaseException) -> str:
    """The one sentence an account's failure is told with."""
    sentence = sentence_of(error)
    if sentence is None:
        return f"{type(error).__name__}: {str(error).rstrip('.')}"
    return sentence.rstrip(".")


def run_accounts(
    accounts: Sequence[Account],
    shared: dict[str, Any],
    *,
    state: dict[str, Any],
    out: RecordsHeldWriter,
    make_tap: Callable[[dict[str, Any], dict[str, Any], AccountWriter, RunContext], AccountTap],
    logger: logging.Logger,
    on_state: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Read every account side by side, then activate and say what each sent.

    Raises :class:`AccountsFailed` naming each account that failed (after every other
    account finished and its state was written).
    """
    names = [account.name for account in accounts]
    began = clock.now()
    version = int(began.timestamp() * 1000)
    states = account_states(state)
    together = bool(shared.get("emit_activate_version_messages")) and reconcile_together(
        states,
        {a.name: a.config(shared).get("start_date") for a in accounts},
        now=began,
        period_days=int(shared.get("deletions_within_days") or 0),
    )
    if together:
        logger.info(
            "calls: every account reads the whole list this run (a reconciliation is due), "
            "so that one ACTIVATE_VERSION marks the deleted calls of all of them."
        )
    relay = Relay(out, state, on_state)
    outcomes = {name: Outcome() for name in names}

    def read(account: Account) -> None:
        threading.current_thread().name = f"{ACCOUNT_THREAD}{account.name}"
        outcome = outcomes[account.name]
        started = time.monotonic()
        tap = None
        try:
            tap = make_tap(
                account.config(shared),
                states.get(account.name, {}),
                relay.writer(account.name),
                RunContext(account=account.name, version=version, reconcile=together),
            )
            outcome.started = True
            tap.sync_all()
        except Exception as error:  # one account's failure, whatever it is
            outcome.failure = failure_of(error)
            logger.error("%s", outcome.failure)
        finally:
            outcome.seconds = time.monotonic() - started
            if tap is not None:
                outcome.requests = tap.transport.session.sent
                outcome.waits = tap.transport.budget.pauses
            relay.flush()
            threading.current_thread().name = "skipcall-account-done"

    most = int(shared.get("max_concurrent_accounts") or 1)
    workers = min(most, len(accounts))
    with ThreadPoolExecutor(
        workers, thread_name_prefix="skipcall-accounts", initializer=leave_signals_to_main_thread
    ) as pool:
        list(pool.map(read, accounts))
    finish(relay, names, outcomes, began, logger)


def finish(
    relay: Relay,
    names: Sequence[str],
    outcomes: Mapping[str, Outcome],
    began: datetime,
    logger: logging.Logger,
) -> None:
    """Activate what every account read whole, say what each sent, then name the failures."""
    ready = relay.activations(names)
    for stream, version in sorted(ready.items()):
        relay.activate(stream, version)
    if "calls" in ready:
        at = datetime.fromtimestamp(ready["calls"] / 1000, UTC)
        state = relay.state
        for name, entry in account_states(state).items():
            state = with_account_state(state, name, clock_moved(entry, at))
        relay.write_state(state)
    held = relay.held(names)
    if held:
        logger.warning(
            "%s: not activated this run, since not every account read %s whole; no row of "
            "any account is marked deleted for %s.",
            ", ".join(held),
            "it" if len(held) == 1 else "them",
            "it" if len(held) == 1 else "them",
        )
    relay.flush()
    said = logging.getLogger(logger.name)  # an SDK's LoggerAdapter would replace the fields
    for name in names:
        outcome = outcomes[name]
        said.info(
            "%s",
            sent_line(name, relay, outcome),
            extra={
                "account": name,
                "records": sum((relay.records.get(name) or {}).values()),
                "requests": outcome.requests,
                "rate_limit_waits": outcome.waits,
                "seconds": round(outcome.seconds, 3),
                "failed": outcome.failure is not None,
            },
        )
    failed = [name for name in names if outcomes[name].failure is not None]
    if failed:
        reasons = "; ".join(f"{name}: {outcomes[name].failure}" for name in failed)
        raise AccountsFailed(
            f"{len(failed)} of {plural(len(names), 'account')} failed, the others finished "
            f"and their state is saved: {reasons}."
        )


def sent_line(name: str, relay: Relay, outcome: Outcome) -> str:
    """One line: what an account sent, what it cost, and whether it failed."""
    records: Mapping[str, int] = relay.records.get(name) or {}
    batches: Mapping[str, int] = relay.batches.get(name) or {}
    sent = ", ".join(f"{count:,} {stream}" for stream, count in sorted(records.items()) if count)
    if batches:
        files = ", ".join(f"{count:,} {stream}" for stream, count in sorted(batches.items()))
        sent = f"{sent}; BATCH files: {files}" if sent else f"BATCH files: {files}"
    how = "failed" if outcome.failure is not None else "done"
    return (
        f"{name}: {how} in {outcome.seconds:.1f} s, sent {sent or 'nothing'} "
        f"({plural(outcome.requests, 'request')}, {plural(outcome.waits, 'rate-limit wait')})."
    )
