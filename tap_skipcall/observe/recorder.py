"""What a run did, counted as it goes: requests, retries, waits, records, warnings.

Every layer reports to one recorder through small hooks (the session: a request sent; the
budget: a wait; a stream: a retry; the writer: a record), and the recorder attributes each
to the stream, and the account, the reporting thread is reading for: a stream's sync opens a
*scope* in its thread, and a request started ahead carries the scope it was started in. A
:class:`Watcher` (OpenTelemetry, :mod:`.telemetry`) sees the same events.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tap_skipcall.logs import account_of_thread

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: Warnings kept for the report, at most.
WARNINGS_KEPT = 100


class Watcher(Protocol):
    """What else sees a run's events (OpenTelemetry's spans and metrics)."""

    def stream_began(self, stream: str, account: str | None) -> Any:
        """A stream's sync began: a handle ended by :meth:`stream_ended`."""

    def stream_ended(self, handle: Any, records: int) -> None:
        """That sync ended."""

    def request(
        self,
        method: str,
        url: str,
        status: int | None,
        seconds: float,
        scope: Scope | None,
        retry: int,
    ) -> None:
        """One HTTP request was answered (status None: no answer)."""

    def waited(self, seconds: float, scope: Scope | None) -> None:
        """The budget paused for the rate limit."""

    def records(self, stream: str, account: str | None, count: int) -> None:
        """Records were written."""


@dataclass(frozen=True)
class Scope:
    """Where a thread's requests go: the stream and account read, and the watcher's handle."""

    stream: str
    account: str | None
    handle: Any = None


@dataclass
class StreamCounts:
    """One stream's (and account's) figures for the run report."""

    records: int = 0
    requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    wait_seconds: float = 0.0


@dataclass
class RunRecorder:
    """The one recorder of a run (see the module)."""

    watcher: Watcher | None = None
    started_at: float = field(default_factory=time.time)
    counts: dict[tuple[str, str | None], StreamCounts] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    retries: int = 0

    def __post_init__(self) -> None:
        # Reentrant: a signal's handler runs in the main thread, perhaps while it counts, and
        # logs a warning this recorder keeps.
        self._lock = threading.RLock()
        self._local = threading.local()

    # -- scopes ------------------------------------------------------------------------

    @property
    def scope(self) -> Scope | None:
        """The scope of the current thread (its innermost stream)."""
        scopes = getattr(self._local, "scopes", None)
        return scopes[-1] if scopes else None

    @contextmanager
    def streaming(self, stream: str, *, span: bool = True) -> Iterator[Scope]:
        """A stream's sync in this thread: its requests, waits and retries are its own.

        ``span``: the watcher sees it as a stream of its own (a stream read per parent, one
        sync per call, is seen within its parent's).
        """
        account = account_of_thread()
        outer = self.scope
        opened = span and self.watcher is not None
        handle = (
            self.watcher.stream_began(stream, account)
            if opened and self.watcher
            else (outer.handle if outer else None)
        )
        scope = Scope(stream, account, handle)
        with self.within(scope):
            try:
                yield scope
            finally:
                if opened and self.watcher is not None:
                    self.watcher.stream_ended(handle, self._of(scope).records)

    @contextmanager
    def within(self, scope: Scope | None) -> Iterator[None]:
        """The current thread works for ``scope`` meanwhile (a request started ahead, say)."""
        scopes = getattr(self._local, "scopes", None)
        if scopes is None:
            scopes = self._local.scopes = []
        scopes.append(scope)
        try:
            yield
        finally:
            scopes.pop()

    def carried(self, work: Callable[[], Any], stream: str | None = None) -> Callable[[], Any]:
        """``work`` to run in another thread, in the scope of this one.

        ``stream``: whose work it is, when not the current scope's (a child's request that
        its parent starts ahead), within the same span.
        """
        scope = self.scope
        if stream is not None and (scope is None or scope.stream != stream):
            account = scope.account if scope is not None else account_of_thread()
            scope = Scope(stream, account, scope.handle if scope is not None else None)

        def run() -> Any:
            with self.within(scope):
                return work()

        return run

    def _of(self, scope: Scope | None) -> StreamCounts:
        key = (scope.stream, scope.account) if scope else ("(no stream)", account_of_thread())
        found = self.counts.get(key)
        if found is None:
            found = self.counts[key] = StreamCounts()
        return found

    # -- events ------------------------------------------------------------------------

    def sent(self, method: str, url: str) -> Callable[[int | None, float], None]:
        """One HTTP request sent (from the session); what is returned is told of its answer.

        Counted as it is sent, so that a run stopped while a request is in flight counts it.
        """
        scope = self.scope
        retry = getattr(self._local, "retry", 0)
        self._local.retry = 0
        with self._lock:
            self.requests += 1
            self._of(scope).requests += 1

        def answered(status: int | None, seconds: float) -> None:
            if self.watcher is not None:
                self.watcher.request(method, url, status, seconds, scope, retry)

        return answered

    def retrying(self, attempt: int) -> None:
        """The next request of this thread retries one that failed: from a stream."""
        self._local.retry = attempt
        with self._lock:
            self.retries += 1
            self._of(self.scope).retries += 1

    def waited(self, seconds: float) -> None:
        """The budget paused this thread for the rate limit."""
        scope = self.scope
        with self._lock:
            counts = self._of(scope)
            counts.rate_limit_waits += 1
            counts.wait_seconds += seconds
        if self.watcher is not None:
            self.watcher.waited(seconds, scope)

    def written(self, stream: str, account: str | None = None, count: int = 1) -> None:
        """Records written (the writer, or the relay with accounts)."""
        with self._lock:
            self.counts.setdefault((stream, account), StreamCounts()).records += count
        if self.watcher is not None:
            self.watcher.records(stream, account, count)

    def warned(self, sentence: str) -> None:
        """A warning sentence of the run."""
        with self._lock:
            if sentence not in self.warnings and len(self.warnings) < WARNINGS_KEPT:
                self.warnings.append(sentence)


class WarningsKept(logging.Handler):
    """Hands every warning the tap logs to the recorder (the report's ``warnings``)."""

    def __init__(self, recorder: RunRecorder) -> None:
        super().__init__(level=logging.WARNING)
        self.recorder = recorder

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the warning's sentence."""
        self.recorder.warned(record.getMessage())
