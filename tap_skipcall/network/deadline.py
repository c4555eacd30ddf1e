"""A whole answer within ``request_timeout``, body included.

``requests``' timeout bounds each socket read, not an answer: a server that trickles a byte
every few seconds holds a request as long as it likes. Here one watchdog thread, shared by
every request of the tap, shuts the socket of an answer still coming past its deadline;
the session then raises a timeout, which is retried like any other.

The socket is found through the connection classes the session's pools use
(:data:`POOL_CLASSES`): a connection reading an answer hands its socket to the deadline
the sending thread is under.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from tap_skipcall.threads import leave_signals_to_main_thread

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@dataclass(eq=False)
class Watch:
    """One request's deadline (monotonic seconds), its socket once known, and whether it ran out."""

    deadline: float
    sock: socket.socket | None = None
    expired: bool = False


class Watchdog:
    """Shuts the socket of every answer still coming past its deadline (one thread for all)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._changed = threading.Condition()
        self._armed: set[Watch] = set()
        self._thread: threading.Thread | None = None
        self._current = threading.local()

    @contextmanager
    def within(self, seconds: float | None) -> Iterator[Watch | None]:
        """Everything this thread sends meanwhile must be answered within ``seconds``."""
        if seconds is None or seconds <= 0:
            yield None
            return
        watch = Watch(self._clock() + seconds)
        outer = getattr(self._current, "watch", None)
        self._current.watch = watch
        with self._changed:
            self._armed.add(watch)
            self._start()
            self._changed.notify()
        try:
            yield watch
        finally:
            with self._changed:
                self._armed.discard(watch)
            self._current.watch = outer

    def reading(self, sock: socket.socket | None) -> None:
        """The socket this thread's request is answered on (called as its answer is read)."""
        watch = getattr(self._current, "watch", None)
        if watch is None or sock is None:
            return
        with self._changed:
            watch.sock = sock
            if watch.expired:
                _shut(sock)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="skipcall-deadlines", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        leave_signals_to_main_thread()
        with self._changed:
            while True:
                if not self._armed:
                    self._changed.wait()
                    continue
                now = self._clock()
                soonest = min(watch.deadline for watch in self._armed)
                if soonest > now:
                    self._changed.wait(soonest - now)
                    continue
                for watch in [w for w in self._armed if w.deadline <= now]:
                    self._armed.discard(watch)
                    watch.expired = True
                    if watch.sock is not None:
                        _shut(watch.sock)


def _shut(sock: socket.socket) -> None:
    """End the answer on this socket: the read under way returns, and the request fails."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


#: The one watchdog of the process.
WATCHDOG = Watchdog()


class _WatchedHTTPConnection(HTTPConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        WATCHDOG.reading(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        WATCHDOG.reading(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


#: urllib3 pool classes whose connections tell the watchdog the socket they read from.
POOL_CLASSES: dict[str, type[HTTPConnectionPool]] = {
    "http": _WatchedHTTPPool,
    "https": _WatchedHTTPSPool,
}
