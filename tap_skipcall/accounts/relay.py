"""The one writer of a run over several accounts: every account's tap writes through it.

Accounts are read side by side, each by a tap of its own; their messages meet here, under one
lock, so that the output stays valid Singer whichever account a message comes from:

* SCHEMA: once per stream (each account's tap sends the same one);
* RECORD and BATCH: as they come (each row already says whose it is);
* STATE: the account's entry is replaced in the run's state, and the whole is written. Each
  tap writes a STATE only once the records it claims are written, and they went through
  here first: no STATE claims for one account what has not been written for it;
* ACTIVATE_VERSION: held. One version per table per run is shared by every account's
  complete read; :meth:`Relay.activations` writes it for a table only when every account
  activated it (its complete read of that table succeeded this run), so a loader that acts
  on it never removes another account's live rows.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

import singer_sdk.singerlib as singer

from tap_skipcall.accounts.state import with_account_state

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from singer_sdk.singerlib import Message

    from tap_skipcall.output import RecordsHeldWriter


class Relay:
    """Takes each account's messages, writes the run's stream of them (see the module)."""

    def __init__(
        self,
        out: RecordsHeldWriter,
        state: dict[str, Any],
        on_state: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._out = out
        self._lock = threading.RLock()
        self._schemas: dict[str, dict[str, Any]] = {}
        #: The run's state: every account's entry as its tap last wrote it.
        self.state = state
        self._on_state = on_state
        #: stream -> account -> version it activated (its complete read succeeded).
        self._activated: dict[str, dict[str, int]] = {}
        #: account -> stream -> RECORD messages written.
        self.records: dict[str, Counter[str]] = {}
        #: account -> stream -> BATCH messages written.
        self.batches: dict[str, Counter[str]] = {}

    def writer(self, account: str) -> AccountWriter:
        """The message writer one account's tap writes with."""
        self.records.setdefault(account, Counter())
        self.batches.setdefault(account, Counter())
        return AccountWriter(self, account)

    def receive(self, account: str, message: Message) -> None:
        """One message of one account's tap."""
        with self._lock:
            if isinstance(message, singer.SchemaMessage):
                said = message.to_dict()
                if self._schemas.get(message.stream) == said:
                    return
                self._schemas[message.stream] = said
            elif isinstance(message, singer.RecordMessage):
                self.records[account][message.stream] += 1
            elif message.type == singer.SingerMessageType.BATCH:
                self.batches[account][getattr(message, "stream", "")] += 1
            elif isinstance(message, singer.StateMessage):
                # A copy, taken in the account's own thread: its tap goes on changing it.
                value = copy.deepcopy(message.value)
                self.write_state(with_account_state(self.state, account, value))
                return
            elif isinstance(message, singer.ActivateVersionMessage):
                self._activated.setdefault(message.stream, {})[account] = message.version
                return
            self._out.write_message(message)

    def write_state(self, state: dict[str, Any]) -> None:
        """Write the run's whole state (every account's entry) as one STATE message."""
        with self._lock:
            self.state = state
            if self._on_state is not None:
                self._on_state(state)
            self._out.write_message(singer.StateMessage(value=state))

    def activations(self, accounts: Iterable[str]) -> dict[str, int]:
        """The tables every account activated this run, with the run's version of each.

        A table some account did not activate (its read failed, or was cut short) keeps
        every row as it is: it is activated by a later run that reads it whole everywhere.
        """
        names = set(accounts)
        ready = {}
        for stream, by_account in self._activated.items():
            versions = set(by_account.values())
            if set(by_account) >= names and len(versions) == 1:
                ready[stream] = versions.pop()
        return ready

    def held(self, accounts: Iterable[str]) -> list[str]:
        """The tables some account read whole this run, but not every one: not activated."""
        ready = self.activations(accounts)
        return sorted(set(self._activated) - set(ready))

    def activate(self, stream: str, version: int) -> None:
        """Write the ACTIVATE_VERSION of a table every account read whole."""
        with self._lock:
            self._out.write_message(singer.ActivateVersionMessage(stream=stream, version=version))

    def flush(self) -> None:
        """Write every message held (records are held in blocks)."""
        with self._lock:
            self._out.flush()


class AccountWriter:
    """What one account's tap writes with: its messages go to the relay, tagged with it."""

    def __init__(self, relay: Relay, account: str) -> None:
        self.relay = relay
        self.account = account

    def write_message(self, message: Message) -> None:
        """Hand one message to the relay."""
        self.relay.receive(self.account, message)

    def flush(self) -> None:
        """Write what the relay holds."""
        self.relay.flush()
