"""How a stream retries: what can pass is retried with backoff, and said once, plainly."""

from __future__ import annotations

import random
import sys
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.streams import RESTStream

from tap_skipcall.errors import connection_failure

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Generator

    from backoff.types import Details

    from tap_skipcall.network.transport import Transport


class PoliteRetries(RESTStream[Any]):
    """Bounded retries: a 429 waits for the known reset, the rest back off exponentially."""

    #: Retry policy for 429, 5xx, timeouts and dropped connections (tests shorten it).
    retry_max_tries: ClassVar[int] = 6
    retry_base_seconds: ClassVar[float] = 1.0
    retry_max_seconds: ClassVar[float] = 30.0
    #: The shared session and budget (handed in by the tap).
    transport: Transport

    @override
    def backoff_max_tries(self) -> int:
        """Bounded: a persistent failure ends the sync with its cause instead of spinning."""
        return self.retry_max_tries

    @override
    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        """Exponential waits, except a 429 whose reset is known: the budget already waits."""
        attempt = 0
        exception = yield  # type: ignore[misc]
        while True:
            attempt += 1
            response = getattr(exception, "response", None)
            if (
                response is not None
                and response.status_code == 429
                and self.transport.budget.knows_reset
            ):
                delay = 0.0
            else:
                delay = min(self.retry_base_seconds * 2 ** (attempt - 1), self.retry_max_seconds)
            exception = yield delay

    @override
    def backoff_jitter(self, value: float) -> float:
        """Up to 25 % extra, so that parallel taps do not retry in step."""
        return value * random.uniform(1.0, 1.25)

    @override
    def backoff_handler(self, details: Details) -> None:
        """At the first failure, what is retried and why; then one line per retry at DEBUG."""
        error = details.get("exception")
        tries = details.get("tries", 0)
        response = getattr(error, "response", None)
        if response is not None:
            cause = f"Skipcall answered HTTP {response.status_code} for {self.path}"
        else:
            cause = f"cannot reach {self.url_base} ({connection_failure(error)})"
        if tries == 1:
            left = self.retry_max_tries - 1
            waits = [
                min(self.retry_base_seconds * 2**i, self.retry_max_seconds) for i in range(left)
            ]
            self.logger.warning(
                "%s: retrying up to %d times within about %.0f s, in case it passes "
                "(a short outage, a busy moment).",
                cause[0].upper() + cause[1:],
                left,
                sum(waits) * 1.25,  # with the jitter
            )
        else:
            self.logger.debug(
                "Retry %d of %d in %.1f s (%s).",
                tries,
                self.retry_max_tries - 1,
                details.get("wait", 0.0),
                cause,
            )
