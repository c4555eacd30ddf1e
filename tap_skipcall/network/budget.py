"""One request budget for the whole tap: Skipcall's rate limit is per key, not per endpoint."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

logger = logging.getLogger("tap-skipcall")

#: A reset further away than this is not believed (the documented window is one minute).
MAX_RESET_WAIT_SECONDS = 120.0
#: The documented window, for a plan first seen in a window already under way.
DOCUMENTED_WINDOW_SECONDS = 60.0
#: How far a window read off ``X-RateLimit-Reset`` (whole seconds, and the ``Date`` header's
#: whole seconds) may stray from the true one.
RESET_ROUNDING_SECONDS = 2.0


@dataclass(frozen=True)
class Plan:
    """The rate limit the API announced: ``limit`` requests per ``window_seconds``."""

    limit: int
    window_seconds: float

    @property
    def per_second(self) -> float:
        """Requests a second the plan allows."""
        return self.limit / self.window_seconds

    @property
    def window_in_words(self) -> str:
        """``a minute`` (the documented window, within the reset's rounding), or ``per 6 s``."""
        if abs(self.window_seconds - DOCUMENTED_WINDOW_SECONDS) < RESET_ROUNDING_SECONDS:
            return "a minute"
        return f"per {self.window_seconds:.0f} s"

    @property
    def per_minute(self) -> float:
        """Requests a minute the plan allows."""
        return self.per_second * 60.0

    @classmethod
    def announced(cls, headers: Mapping[str, str], wait: float | None) -> Plan | None:
        """The plan in an answer's headers (believed: see :class:`RateHeaders`).

        The window is how far off ``X-RateLimit-Reset`` is when this answer was the window's
        first request (``Remaining`` one below ``Limit``), since the docs' minute may not be
        the server's; otherwise the documented minute.
        """
        limit, remaining = (
            _count(headers.get("X-RateLimit-Limit")),
            _count(headers.get("X-RateLimit-Remaining")),
        )
        if limit is None or limit <= 0:
            return None
        fresh = remaining == limit - 1 and wait is not None and wait > 0
        window = wait if fresh and wait else DOCUMENTED_WINDOW_SECONDS
        if abs(window - DOCUMENTED_WINDOW_SECONDS) < RESET_ROUNDING_SECONDS:
            window = DOCUMENTED_WINDOW_SECONDS  # the documented minute, read off whole seconds
        return cls(limit, window)


def seconds_until_reset(value: str | None, now: float) -> float | None:
    """Read ``X-RateLimit-Reset``, whose unit the docs do not state, capped at 120 s.

    Accepts Unix seconds (the usual convention), Unix milliseconds, or a small
    number of seconds from now, and returns how long to wait (None if unreadable).
    """
    wait = reset_wait(value, now)
    return None if wait is None else min(wait, MAX_RESET_WAIT_SECONDS)


def reset_wait(value: str | None, now: float) -> float | None:
    """How far off ``X-RateLimit-Reset`` is, uncapped (None if it is no finite number)."""
    try:
        reset = float(value) if value is not None else None
    except ValueError:
        return None
    if reset is None or not math.isfinite(reset) or reset < 0:
        return None
    if reset > 1e11:  # milliseconds since the epoch
        reset /= 1000.0
    elif reset < 1e9:  # a delay, not a timestamp
        return reset
    return max(0.0, reset - now)


@dataclass(frozen=True)
class RateHeaders:
    """One answer's rate-limit headers, read; ``doubt`` says why they cannot be true."""

    limit: int | None
    remaining: int | None
    wait: float | None
    doubt: str | None = None

    @classmethod
    def read(cls, headers: Mapping[str, str], now: float) -> RateHeaders:
        """The headers of an answer, judged.

        They cannot be true when a value is not a finite whole number, the limit is below
        1, more remains than the limit allows, or the reset is further away than twice
        the documented minute. Then none of them is obeyed.
        """
        values = {name: headers.get(f"X-RateLimit-{name}") for name in _HEADERS}
        limit, remaining = _count(values["Limit"]), _count(values["Remaining"])
        wait = reset_wait(values["Reset"], now)
        for name in ("Limit", "Remaining"):
            count = limit if name == "Limit" else remaining
            if values[name] is not None and (count is None or count < 0):
                return cls(None, None, None, _doubt(name, values[name], "not a count"))
        if values["Reset"] is not None and wait is None:
            return cls(None, None, None, _doubt("Reset", values["Reset"], "not a time"))
        if limit is not None and limit < 1:
            return cls(None, None, None, _doubt("Limit", values["Limit"], "no plan allows"))
        if limit is not None and remaining is not None and remaining > limit:
            return cls(None, None, None, _doubt("Remaining", values["Remaining"], "above Limit"))
        if wait is not None and wait > MAX_RESET_WAIT_SECONDS:
            return cls(None, None, None, _doubt("Reset", values["Reset"], f"{wait:,.0f} s away"))
        return cls(limit, remaining, wait)


_HEADERS = ("Limit", "Remaining", "Reset")


def _doubt(name: str, value: str | None, why: str) -> str:
    return f"X-RateLimit-{name} is {str(value)[:40]!r}, {why}"


class RequestBudget:
    """Paces requests so that the tap waits for the window to reset instead of getting 429s.

    Two limits apply: an optional cap of requests per minute chosen by the user (to leave
    room for other integrations on the same key), and the API's own headers. The budget is
    shared by every thread that sends: it counts the requests in flight against the
    ``X-RateLimit-Remaining`` the last answer announced, so that no request is sent that
    the window cannot take, and when the window is used up (or a 429 arrives) every sender
    waits until ``X-RateLimit-Reset``.
    """

    def __init__(
        self,
        max_per_minute: int | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.max_per_minute = max_per_minute
        #: Told of every pause of a sending thread (its seconds), for the run report.
        self.on_wait = on_wait
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._in_flight = 0
        #: Requests the server's window still takes, less those in flight (None: unknown).
        self._permits: int | None = None
        self._window_reset: float | None = None
        self._announced_until = 0.0
        self.waited_seconds = 0.0
        self.pauses = 0
        #: The plan the first answer announced (None before it, or without the headers).
        self.plan: Plan | None = None
        #: Answers whose rate-limit headers could not be true (not obeyed).
        self.doubted = 0

    @property
    def knows_reset(self) -> bool:
        """Whether a pause until a known reset is pending (so a 429 needs no extra backoff)."""
        return self._blocked_until > self._clock()

    def acquire(self) -> None:
        """Block until one more request may be sent, then count it as in flight."""
        while True:
            announced = None
            with self._lock:
                now = self._clock()
                wait = self._wait(now)
                if wait <= 0:
                    self._sent.append(now)
                    self._in_flight += 1
                    if self._permits is not None:
                        self._permits -= 1
                    return
                if now + wait > self._announced_until + 0.5:  # one line per pause, not per thread
                    self._announced_until = now + wait
                    self.pauses += 1
                    self.waited_seconds += wait
                    announced = wait
            if announced is not None:  # said outside the lock: a signal's handler may log
                logger.info("Rate limit: pausing %.1f s until the window resets.", announced)
                if self.on_wait is not None:
                    self.on_wait(announced)
            self._sleep(wait)

    def _wait(self, now: float) -> float:
        wait = self._blocked_until - now
        while self._sent and self._sent[0] <= now - 60.0:
            self._sent.popleft()
        if self.max_per_minute and len(self._sent) >= self.max_per_minute:
            wait = max(wait, self._sent[-self.max_per_minute] + 60.0 - now)
        if self._permits is not None and self._permits <= 0:
            if self._window_reset is None and self._in_flight:
                wait = max(wait, 0.02)  # the answers in flight will say when it resets
            elif self._window_reset is not None and self._window_reset > now:
                wait = max(wait, self._window_reset - now)
            else:
                self._permits = None  # that window is over
        return wait

    def observe(self, status_code: int, headers: Mapping[str, str]) -> None:
        """Learn from a response's rate-limit headers (one answer to one acquired request)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            now = self._clock()
            reading = RateHeaders.read(headers, reference_time(headers, now))
            if reading.doubt is not None:
                if not self.doubted:  # once a run: the tap's own backoff paces it instead
                    logger.warning(
                        "Skipcall's rate-limit headers cannot be true (%s): the tap does not "
                        "obey them and paces itself with its own backoff instead.",
                        reading.doubt,
                    )
                self.doubted += 1
                return
            wait = reading.wait
            reset_at = None if wait is None else now + wait
            if self.plan is None:
                self.plan = Plan.announced(headers, wait)
            remaining = reading.remaining
            if remaining is not None:
                # Requests still in flight may not be counted in this answer yet.
                fresh = remaining - self._in_flight
                new_window = reset_at is not None and (
                    self._window_reset is None or reset_at > self._window_reset + 0.5
                )
                if self._permits is None or new_window:
                    self._permits = fresh
                else:
                    self._permits = min(self._permits, fresh)
                if new_window or self._window_reset is None:
                    self._window_reset = reset_at
            exhausted = status_code == 429 or (remaining is not None and remaining <= 0)
            if exhausted and reset_at is not None:
                self._blocked_until = max(self._blocked_until, reset_at)


def _count(value: str | None) -> int | None:
    """A whole number a header holds (None: absent, or not a finite whole number)."""
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    if number is None or not math.isfinite(number) or not number.is_integer():
        return None
    return int(number)


def reference_time(headers: Mapping[str, str], now: float) -> float:
    """The clock to measure ``X-RateLimit-Reset`` against: ours, unless the server's differs.

    ``Date`` has whole seconds (rounded down): while our clock agrees with it to within that
    resolution, ours is the more precise; past it, the server's wins, so that a skewed local
    clock cannot cut a pause short.
    """
    server = server_time(headers)
    if server is None or server - 0.5 <= now <= server + 1.5:
        return now
    return server


def server_time(headers: Mapping[str, str]) -> float | None:
    """The server's clock from its ``Date`` header, so that clock skew cannot cut a pause short.

    ``Date`` has whole seconds and is rounded down, so a wait measured from it errs long.
    """
    try:
        return parsedate_to_datetime(headers["Date"]).timestamp()
    except (KeyError, TypeError, ValueError, IndexError):
        return None
