"""How a stream retries: what can pass is retried with backoff, and said once, plainly.

A value the base stream's backoff hooks hand their work to (see ``SkipcallStream``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tap_skipcall.errors import TIMED_OUT, CutShort, asking_for, connection_failure, proxy_for

if TYPE_CHECKING:
    import logging
    from collections.abc import Generator

    from backoff.types import Details

    from tap_skipcall.network.budget import RequestBudget

#: Up to this share is added to each wait, so that parallel taps do not retry in step.
JITTER = 0.25


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: a 429 waits for the known reset, the rest back off exponentially."""

    max_tries: int
    base_seconds: float
    max_seconds: float

    def wait_before(self, attempt: int) -> float:
        """The wait before retry ``attempt`` (1 for the first), without jitter."""
        return float(min(self.base_seconds * 2 ** (attempt - 1), self.max_seconds))

    def waits(self, budget: RequestBudget) -> Generator[float, Any, None]:
        """The backoff library's wait generator: sent each failure, yields the next wait.

        A 429 whose reset is known waits nothing here: the budget already waits for it.
        """
        attempt = 0
        exception = yield  # type: ignore[misc]
        while True:
            attempt += 1
            response = getattr(exception, "response", None)
            if response is not None and response.status_code == 429 and budget.knows_reset:
                delay = 0.0
            else:
                delay = self.wait_before(attempt)
            exception = yield delay

    @staticmethod
    def jitter(value: float) -> float:
        """Up to 25 % extra."""
        return value * random.uniform(1.0, 1.0 + JITTER)

    def report(
        self, details: Details, *, path: str, url_base: str, logger: logging.Logger | Any
    ) -> None:
        """At the first failure, what is retried and why; then one line per retry at DEBUG."""
        error = details.get("exception")
        tries = details.get("tries", 0)
        response = getattr(error, "response", None)
        request = getattr(error, "request", None) or getattr(response, "request", None)
        what = asking_for(request) if request is not None else path
        if response is not None:
            cause = f"Skipcall answered HTTP {response.status_code} for {what}"
        elif isinstance(error, CutShort):
            cause = str(error)
        elif connection_failure(error) == TIMED_OUT:
            cause = f"no whole answer from {url_base} for {what} within `request_timeout`"
        else:
            proxy = proxy_for(str(request.url)) if request is not None else None
            through = f" through the proxy {proxy[0]} (set by {proxy[1]})" if proxy else ""
            cause = f"cannot reach {url_base}{through} for {what} ({connection_failure(error)})"
        if tries == 1:
            left = self.max_tries - 1
            within = sum(self.wait_before(attempt) for attempt in range(1, left + 1))
            logger.warning(
                "%s: retrying up to %d times within about %.0f s, in case it passes "
                "(a short outage, a busy moment).",
                cause[0].upper() + cause[1:],
                left,
                within * (1 + JITTER),
            )
        else:
            logger.debug(
                "Retry %d of %d in %.1f s (%s).",
                tries,
                self.max_tries - 1,
                details.get("wait", 0.0),
                cause,
            )
