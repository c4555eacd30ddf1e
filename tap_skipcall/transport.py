"""HTTP for every stream: one keep-alive session, one request budget, requests made ahead.

With ``max_concurrent_requests`` above 1, the calls stream starts the requests it will need
next (the next page of calls, the children of the calls on a page) while it writes the
current page; the SDK then finds each answer waiting when it asks for that request. Only
requests the sync is certain to make are started ahead, so the request count is unchanged.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from singer_sdk.exceptions import RetriableAPIError

from tap_skipcall.ratelimit import RequestBudget

if TYPE_CHECKING:
    from collections.abc import Callable


class BudgetedSession(requests.Session):
    """A session that waits for the shared request budget before every request.

    Proxies and the CA bundle are read from the environment once, for the API's host,
    rather than for every request (a few percent of a backfill's time in profiles).
    """

    def __init__(
        self, budget: RequestBudget, *, max_concurrent: int = 1, api_url: str | None = None
    ) -> None:
        super().__init__()
        self.budget = budget
        #: Every request this run sent, for the progress log.
        self.sent = 0
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._count_lock = threading.Lock()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max_concurrent)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        if api_url:
            self.proxies.update(requests.utils.get_environ_proxies(api_url))
            self.verify = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            )
            self.trust_env = False

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send once a slot and the budget allow, then learn from the rate-limit headers."""
        with self._slots:
            self.budget.acquire()
            with self._count_lock:
                self.sent += 1
            try:
                response = super().send(request, **kwargs)
            except BaseException:
                self.budget.observe(0, {})
                raise
            self.budget.observe(response.status_code, response.headers)
            return response


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
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.budget = RequestBudget(max_requests_per_minute, clock=clock, sleep=sleep)
        self.session = BudgetedSession(
            self.budget, max_concurrent=max_concurrent_requests, api_url=api_url
        )
        self.concurrent = max_concurrent_requests > 1
        self._pool = (
            ThreadPoolExecutor(max_concurrent_requests, thread_name_prefix="skipcall")
            if self.concurrent
            else None
        )
        self._ahead: dict[str, Future[requests.Response]] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.started_ahead = 0
        self.used_ahead = 0

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
