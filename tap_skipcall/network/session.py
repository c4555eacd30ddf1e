"""One keep-alive session for the whole tap, that waits for the shared request budget."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter

if TYPE_CHECKING:
    from tap_skipcall.network.budget import RequestBudget


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
