"""Runs an operator can watch: a run report, JSON logs and, optionally, OpenTelemetry.

The door: a tap begins a :class:`RunObservation` when its sync begins and finishes it when
the sync ends, however it ends (a failure, a signal); every layer reports to its
:attr:`~RunObservation.recorder` (:mod:`.recorder`). Finishing writes the report
(:mod:`.report`, ``run_report_path``) and ends the trace (:mod:`.telemetry`).
:data:`JSON_LOG_CONFIG` is the logging configuration of ``TAP_SKIPCALL_LOG_FORMAT=json``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tap_skipcall.errors import redact
from tap_skipcall.observe.recorder import RunRecorder, WarningsKept
from tap_skipcall.observe.report import Budget, report_path, run_report, write_atomically

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["JSON_LOG_CONFIG", "Budget", "RunObservation", "RunRecorder"]

#: The logging configuration that makes every stderr line one JSON object.
JSON_LOG_CONFIG = Path(__file__).with_name("json_logging.yml")
logger = logging.getLogger("tap-skipcall")


class RunObservation:
    """One run, watched: the recorder every layer tells, and the report written at its end.

    ``secrets`` (the API keys, the privacy key) are blanked from every sentence the report
    keeps, whatever said them.
    """

    def __init__(
        self,
        recorder: RunRecorder,
        report_template: str | None,
        *,
        secrets: list[str] | None = None,
    ) -> None:
        self.recorder = recorder
        self.report_template = report_template
        self.secrets = [s for s in secrets or [] if s]
        from tap_skipcall.observe import telemetry  # imports OpenTelemetry only when asked

        self.telemetry = telemetry.from_environment()
        recorder.watcher = self.telemetry
        recorder.started_at = time.time()
        self._before: dict[tuple[str, str | None], Any] = {}
        self._finished = threading.RLock()  # a signal may come while the main thread finishes
        self._done = False
        self._warnings = WarningsKept(recorder)
        logger.addHandler(self._warnings)
        if self.telemetry is not None:
            self.telemetry.run_began()

    def began_with(self, state: Mapping[str, Any]) -> None:
        """The state the run began with: each stream's bookmark before."""
        self._before = bookmarks_of(state)

    def finish(
        self,
        outcome: str,
        error: str | None,
        *,
        state: Mapping[str, Any],
        budgets: list[Budget],
    ) -> None:
        """The run ended so: write its report and end its trace (once, whoever asks first)."""
        with self._finished:
            if self._done:
                return
            self._done = True
            logger.removeHandler(self._warnings)
            error = self._blanked(error) if error else None
            if self.report_template:
                self._write(outcome, error, state, budgets)
            if self.telemetry is not None:
                self.telemetry.run_ended(outcome, error)

    def _write(
        self, outcome: str, error: str | None, state: Mapping[str, Any], budgets: list[Budget]
    ) -> None:
        after = bookmarks_of(state)
        bookmarks = {
            key: (self._before.get(key), after.get(key)) for key in set(self._before) | set(after)
        }
        content = run_report(
            self.recorder,
            outcome=outcome,
            error=error,
            finished_at=time.time(),
            bookmarks=bookmarks,
            budgets=budgets,
        )
        content["warnings"] = [self._blanked(w) for w in content["warnings"]]
        path = report_path(str(self.report_template), self.recorder.started_at)
        try:
            write_atomically(path, content)
        except OSError as problem:
            logger.error("The run report could not be written to %s: %s.", path, problem)

    def _blanked(self, text: str) -> str:
        for secret in self.secrets:
            text = redact(text, secret)
        return text


def bookmarks_of(state: Mapping[str, Any]) -> dict[tuple[str, str | None], Any]:
    """Each stream's bookmark in a state (per account with ``accounts``)."""
    found: dict[tuple[str, str | None], Any] = {}
    entries = state.get("accounts")
    sources = (
        [(name, entry) for name, entry in entries.items() if isinstance(entry, dict)]
        if isinstance(entries, dict)
        else [(None, state)]
    )
    for account, source in sources:
        for stream, entry in (source.get("bookmarks") or {}).items():
            if isinstance(entry, dict) and entry.get("replication_key_value") is not None:
                found[(stream, account)] = entry["replication_key_value"]
    return found
