"""What every stream of one tap run shares: the session, the request budget, requests ahead.

With ``max_concurrent_requests`` above 1, the calls stream starts the requests it will need
next (the next page of calls, the children of the calls on a page) while it writes the
current page; the SDK then finds each answer waiting when it asks for that request. Only
requests the sync is certain to make are started ahead, so the request count is unchanged.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from tap_skipcall.network.budget import RequestBudget
from tap_skipcall.network.session import DEFAULT_MAX_ANSWER_BYTES, BudgetedSession
from tap_skipcall.threads import leave_signals_to_main_thread

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

    from tap_skipcall.observe import RunRecorder


class Transport:
    """What every stream of one tap run shares: the session, the budget, requests ahead.

    Skipcall's rate limit is per key, not per endpoint, so the tap makes one and hands it to
    each stream it creates.
    """

    def __init__(
        self,
        max_requests_per_minute: int | None = None,
        *,
        max_concurrent_requests: int = 1,
        api_url: str | None = None,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        thread_name_prefix: str = "skipcall",
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        recorder: RunRecorder | None = None,
    ) -> None:
        #: What the run's report and telemetry are told (None: nothing is watched).
        self.recorder = recorder
        self.budget = RequestBudget(
            max_requests_per_minute,
            clock=clock,
            sleep=sleep,
            on_wait=recorder.waited if recorder else None,
        )
        self.session = BudgetedSession(
            self.budget,
            max_concurrent=max_concurrent_requests,
            api_url=api_url,
            max_answer_bytes=max_answer_bytes,
            on_sent=recorder.sent if recorder else None,
        )
        self.max_concurrent = max_concurrent_requests
        self._pool = (
            ThreadPoolExecutor(
                max_concurrent_requests,
                thread_name_prefix=thread_name_prefix,
                initializer=leave_signals_to_main_thread,
            )
            if self.concurrent
            else None
        )
        self._ahead: dict[str, Future[requests.Response]] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.started_ahead = 0
        self.used_ahead = 0

    @property
    def concurrent(self) -> bool:
        """Whether requests may be in flight together (and so started ahead)."""
        return self.max_concurrent > 1

    def ahead(self, key: str, fetch: Callable[[], requests.Response]) -> None:
        """Start a request the sync will make soon, unless it is already started."""
        if self._pool is None:
            return
        with self._lock:
            if self._closed or key in self._ahead:
                return
            self._ahead[key] = self._pool.submit(fetch)
            self.started_ahead += 1

    def take(self, key: str) -> Future[requests.Response] | None:
        """The request started ahead for this key, if any (each is used once)."""
        with self._lock:
            future = self._ahead.pop(key, None)
            if future is not None:
                self.used_ahead += 1
            return future

    def close(self) -> None:
        """Stop the workers; requests not started are dropped."""
        with self._lock:
            self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
