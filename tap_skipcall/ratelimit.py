"""One request budget for the whole tap: Skipcall's rate limit is per key, not per endpoint."""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

logger = logging.getLogger("tap-skipcall")

#: A reset further away than this is not believed (the documented window is one minute).
MAX_RESET_WAIT_SECONDS = 120.0


def seconds_until_reset(value: str | None, now: float) -> float | None:
    """Read ``X-RateLimit-Reset``, whose unit the docs do not state.

    Accepts Unix seconds (the usual convention), Unix milliseconds, or a small
    number of seconds from now, and returns how long to wait (None if unreadable).
    """
    try:
        reset = float(value) if value is not None else None
    except ValueError:
        return None
    if reset is None or reset < 0:
        return None
    if reset > 1e11:  # milliseconds since the epoch
        reset /= 1000.0
    elif reset < 1e9:  # a delay, not a timestamp
        return min(reset, MAX_RESET_WAIT_SECONDS)
    return min(max(0.0, reset - now), MAX_RESET_WAIT_SECONDS)


class RequestBudget:
    """Paces requests so that the tap waits for the window to reset instead of getting 429s.

    Two limits apply: an optional cap of requests per minute chosen by the user (to
    leave room for other integrations on the same key), and the API's own headers:
    when ``X-RateLimit-Remaining`` reaches 0, or a 429 arrives, no request is sent
    until ``X-RateLimit-Reset``.
    """

    def __init__(
        self,
        max_per_minute: int | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.max_per_minute = max_per_minute
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self.waited_seconds = 0.0
        self.pauses = 0

    @property
    def knows_reset(self) -> bool:
        """Whether a pause until a known reset is pending (so a 429 needs no extra backoff)."""
        return self._blocked_until > self._clock()

    def acquire(self) -> None:
        """Block until one more request may be sent, then count it."""
        wait = self._blocked_until - self._clock()
        if self.max_per_minute and len(self._sent) >= self.max_per_minute:
            wait = max(wait, self._sent[0] + 60.0 - self._clock())
        if wait > 0:
            self.pauses += 1
            self.waited_seconds += wait
            logger.info("Rate limit: pausing %.1f s until the window resets.", wait)
            self._sleep(wait)
        now = self._clock()
        self._sent.append(now)
        while self._sent and self._sent[0] <= now - 60.0:
            self._sent.popleft()
        if self.max_per_minute:
            while len(self._sent) > self.max_per_minute:
                self._sent.popleft()

    def observe(self, status_code: int, headers: Mapping[str, str]) -> None:
        """Learn from a response's rate-limit headers."""
        remaining = headers.get("X-RateLimit-Remaining")
        exhausted = status_code == 429
        if remaining is not None:
            with contextlib.suppress(ValueError):
                exhausted = exhausted or int(float(remaining)) <= 0
        if not exhausted:
            return
        now = self._clock()
        wait = seconds_until_reset(headers.get("X-RateLimit-Reset"), server_time(headers) or now)
        if wait is not None:
            self._blocked_until = max(self._blocked_until, now + wait)


def server_time(headers: Mapping[str, str]) -> float | None:
    """The server's clock from its ``Date`` header, so that clock skew cannot cut a pause short.

    ``Date`` has whole seconds and is rounded down, so a wait measured from it errs long.
    """
    try:
        return parsedate_to_datetime(headers["Date"]).timestamp()
    except (KeyError, TypeError, ValueError, IndexError):
        return None
