"""What the user reads agrees with itself: the SDK's lines that repeat or contradict ours go.

The tap ends every failure with one sentence; the SDK would add "Config validation failed"
after a settings sentence and "An unhandled error occurred while syncing" before an error's.
Its start-up lines (child streams added, env parsing skipped) and "Pagination stopped after
0 pages" (an incremental sync that found nothing new) say nothing a user acts on: DEBUG.
``quiet`` holds loggers at WARNING for a moment (``--test``'s start-up).
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Lines dropped at INFO and below, or at any level (repeats of the tap's own sentences).
STARTUP_CHATTER = ("Skipping parse of env var settings", "Added '", "Skipping deselected stream")
REPEATS = ("Config validation failed", "Backing off ", "Giving up ")
#: Stream-level lines shown at DEBUG only.
STREAM_CHATTER = ("An unhandled error occurred while syncing", "Pagination stopped after")


#: Threads reading one of several accounts are named so (``skipcall-account:fr``, and
#: ``skipcall-account:fr:ahead_0`` for its requests started ahead): their lines say whose.
ACCOUNT_THREAD = "skipcall-account:"


def account_of_thread() -> str | None:
    """The account the current thread reads (None: not an account's thread)."""
    name = threading.current_thread().name
    if not name.startswith(ACCOUNT_THREAD):
        return None
    return name[len(ACCOUNT_THREAD) :].split(":", 1)[0]


class PlainLog(logging.Filter):
    """Drops the SDK's lines that repeat or add nothing to the tap's own.

    The retry library's "Backing off"/"Giving up" lines repeat, with the whole exception,
    what the tap's retry warning and final sentence say. A line of one of several accounts
    starts with its name (``fr: calls: …``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the lines to drop."""
        message = record.msg if isinstance(record.msg, str) else ""
        if message.startswith(REPEATS):
            return False
        if record.levelno <= logging.INFO and message.startswith(STARTUP_CHATTER):
            return False
        account = account_of_thread()
        if account is not None and isinstance(record.msg, str):
            record.msg = f"{account}: {record.msg}"
        return True


def demoted(message: str, level: int) -> int:
    """The level a stream's message is logged at: DEBUG for the SDK's chatter."""
    return logging.DEBUG if message.startswith(STREAM_CHATTER) else level


def install(logger_name: str) -> None:
    """Filter the tap's logger (once)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, PlainLog) for f in logger.filters):
        logger.addFilter(PlainLog())


@contextmanager
def quiet(*names: str) -> Iterator[None]:
    """These loggers at WARNING for the duration (their levels are set again afterwards)."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
