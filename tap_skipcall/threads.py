"""Threads of the tap leave SIGINT and SIGTERM to the main thread.

The kernel hands a process's signal to any thread that does not block it, and Python runs
its handler in the main thread only once that thread runs Python again. A main thread
waiting (for an answer started ahead, a rate-limit pause, the accounts' threads) would not
see a signal another thread received until its wait ended, up to a minute later. So every
thread the tap starts blocks them, and Ctrl-C stops a run at once.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def leave_signals_to_main_thread() -> None:
    """In a thread the tap starts, first: block the stop signals (an executor's initializer)."""
    if hasattr(signal, "pthread_sigmask"):  # POSIX; elsewhere signals go to the main thread
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


@contextmanager
def threads_leave_signals() -> Iterator[None]:
    """Threads started meanwhile by this (main) thread, a library's too, block the stop signals.

    A new thread inherits the signal mask of the thread that starts it.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
