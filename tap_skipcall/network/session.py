"""One keep-alive session for the whole tap: the shared budget, whole-answer deadlines, one origin.

Every request waits for the shared request budget, must be answered whole within its
timeout (:mod:`.deadline`), and stays with the origin it was sent to: a redirect to another
scheme, host or port is refused rather than followed, so that neither the key nor the data
leave ``api_url``. A TLS failure that no retry can mend (a plain-http server, an untrusted
certificate) ends the run at once with what to fix.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from tap_skipcall.errors import SkipcallAPIError, origin_of_url
from tap_skipcall.network.deadline import POOL_CLASSES, WATCHDOG
from tap_skipcall.network.reading import read_within

#: The largest answer read, once decompressed, unless set (``max_answer_megabytes``).
DEFAULT_MAX_ANSWER_BYTES = 64 << 20

if TYPE_CHECKING:
    from collections.abc import Callable

    from urllib3 import PoolManager

    from tap_skipcall.network.budget import RequestBudget

#: What OpenSSL says when the other side does not speak TLS at all (a plain-http server).
PLAIN_HTTP_SIGNS = ("WRONG_VERSION_NUMBER", "wrong version number", "record layer failure")
#: What it says of a certificate it does not trust: retrying cannot change that either.
UNTRUSTED_SIGNS = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "Hostname mismatch")


class OriginError(SkipcallAPIError):
    """The API sent the tap elsewhere, or does not speak the protocol ``api_url`` names."""


class _WatchedAdapter(HTTPAdapter):
    """Connection pools whose connections tell the deadline watchdog what they read from."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(POOL_CLASSES)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(POOL_CLASSES)
        return manager


class BudgetedSession(requests.Session):
    """A session that waits for the shared request budget before every request.

    Proxies and the CA bundle are read from the environment once, for the API's host,
    rather than for every request (a few percent of a backfill's time in profiles).
    """

    def __init__(
        self,
        budget: RequestBudget,
        *,
        max_concurrent: int = 1,
        api_url: str | None = None,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        on_sent: Callable[[str, str], Callable[[int | None, float], None]] | None = None,
    ) -> None:
        super().__init__()
        self.budget = budget
        #: The largest body read, once decompressed (:mod:`.reading`).
        self.max_answer_bytes = max_answer_bytes
        #: Told of every request as it is sent (method, URL); what it returns is told of the
        #: answer (status, None for none; seconds).
        self.on_sent = on_sent
        #: Every request this run sent, for the progress log.
        self.sent = 0
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._count_lock = threading.Lock()
        adapter = _WatchedAdapter(pool_connections=1, pool_maxsize=max_concurrent)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        if api_url:
            self.proxies.update(requests.utils.get_environ_proxies(api_url))
            self.verify = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            )
            self.trust_env = False

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send once a slot and the budget allow; the whole answer within the timeout.

        The body is read here, as a stream within ``max_answer_bytes`` (:mod:`.reading`),
        whatever the caller asked: a caller never meets a body not read yet.
        """
        kwargs["stream"] = True
        with self._slots:
            self.budget.acquire()
            with self._count_lock:
                self.sent += 1
            seconds = _read_timeout(kwargs.get("timeout"))
            watch = None
            began, status = time.monotonic(), None
            answered = self.on_sent(str(request.method), str(request.url)) if self.on_sent else None
            try:
                with WATCHDOG.within(seconds) as watch:
                    response = super().send(request, **kwargs)
                    status = response.status_code
                    read_within(response, self.max_answer_bytes)
                    if watch is not None and watch.expired:
                        raise _answer_too_slow(request, seconds)
            except requests.exceptions.SSLError as error:
                self.budget.observe(0, {})
                failure = _tls_failure(request, error)
                if failure is not None:
                    raise failure from error
                raise
            except requests.RequestException as error:
                self.budget.observe(0, {})
                if watch is not None and watch.expired:
                    raise _answer_too_slow(request, seconds) from error
                raise
            except BaseException:
                self.budget.observe(0, {})
                raise
            finally:
                if answered is not None:
                    answered(status, time.monotonic() - began)
            self.budget.observe(response.status_code, response.headers)
            return response

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """Where a redirect leads, if it stays with the origin it came from; else an error."""
        came_from = origin_of_url(resp.url)
        try:
            target = super().get_redirect_target(resp)
            if target is None:
                return None
            goes_to = origin_of_url(urljoin(resp.url, target))
        except ValueError:  # a Location that is not UTF-8, or no URL at all
            msg = (
                f"Skipcall's API at {came_from} answered with a redirect (HTTP "
                f"{resp.status_code}) to a location that is not a URL: the tap does not follow "
                "it; check `api_url`."
            )
            raise OriginError(msg) from None
        if goes_to != came_from:
            path = urlsplit(resp.url).path or "/"
            msg = (
                f"Skipcall's API at {came_from} answered {path} with a redirect "
                f"(HTTP {resp.status_code}) to {goes_to}, another origin: the tap does not "
                "follow it, so that neither the API key nor the data leave `api_url`; check "
                "`api_url`."
            )
            raise OriginError(msg)
        return target


def _read_timeout(timeout: Any) -> float | None:
    """The read part of a ``requests`` timeout (a number, or a (connect, read) pair)."""
    if isinstance(timeout, tuple):
        timeout = timeout[-1]
    return float(timeout) if isinstance(timeout, (int, float)) else None


def _answer_too_slow(
    request: requests.PreparedRequest, seconds: float | None
) -> requests.exceptions.ReadTimeout:
    """The timeout an answer still coming past its deadline ends in (retried like any)."""
    path = urlsplit(str(request.url)).path
    return requests.exceptions.ReadTimeout(
        f"Read timed out: {path} was not answered whole within {seconds:g} s (`request_timeout`).",
        request=request,
    )


def _tls_failure(request: requests.PreparedRequest, error: BaseException) -> OriginError | None:
    """One sentence for a TLS failure no retry can mend, else None (retried as usual)."""
    text, origin = str(error), origin_of_url(str(request.url))
    if any(sign in text for sign in PLAIN_HTTP_SIGNS):
        parts = urlsplit(str(request.url))
        plain = f"http://{parts.netloc}"
        return OriginError(
            f"The server at {origin} speaks plain http, not https: set `api_url` to the "
            f"address it answers at ({plain} is accepted for a local simulator only; for "
            "Skipcall, https://api-public.skipcall.app)."
        )
    if any(sign in text for sign in UNTRUSTED_SIGNS):
        return OriginError(
            f"The TLS certificate of {origin} is not trusted (a proxy that intercepts TLS, or "
            "a wrong host): point REQUESTS_CA_BUNDLE at the certificate authority to trust, "
            "or check `api_url`."
        )
    return None
