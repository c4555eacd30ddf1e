"""HTTP for every stream: one keep-alive session that waits for the one request budget."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_skipcall.ratelimit import RequestBudget

if TYPE_CHECKING:
    from collections.abc import Callable


class BudgetedSession(requests.Session):
    """A session that waits for the shared request budget before every request."""

    def __init__(self, budget: RequestBudget) -> None:
        super().__init__()
        self.budget = budget
        #: Every request this run sent, for the progress log.
        self.sent = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send once the budget allows, then learn from the rate-limit headers."""
        self.budget.acquire()
        self.sent += 1
        response = super().send(request, **kwargs)
        self.budget.observe(response.status_code, response.headers)
        return response


class Transport:
    """What every stream of one tap run shares: the session and the request budget.

    Skipcall's rate limit is per key, not per endpoint, so the tap makes one and hands it to
    each stream it creates.
    """

    def __init__(
        self,
        max_requests_per_minute: int | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.budget = RequestBudget(max_requests_per_minute, clock=clock, sleep=sleep)
        self.session = BudgetedSession(self.budget)


_PARSED = "_skipcall_json"


def json_body(response: requests.Response) -> Any:
    """The response's JSON, parsed once however many hooks look at it.

    Unparseable JSON (a truncated answer) is retried like a dropped connection.
    """
    if _PARSED in response.__dict__:
        return response.__dict__[_PARSED]
    try:
        payload = response.json()
    except ValueError as error:
        path = response.request.path_url.split("?")[0] if response.request else "the API"
        msg = (
            f"Skipcall answered {path} with a body that is not valid JSON "
            f"(HTTP {response.status_code}, {len(response.content)} bytes): {error}"
        )
        raise RetriableAPIError(msg, response) from error
    response.__dict__[_PARSED] = payload
    return payload
