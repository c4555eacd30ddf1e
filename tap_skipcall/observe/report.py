"""The run report: one JSON file a machine reads to tell what a run did.

Written at the end of every run (succeeded, failed, interrupted), atomically: to a temporary
file in the same folder, then renamed over the path, so a reader never sees half of it.
Its shape is ``run_report.schema.json`` (shipped in the package); ``report_version`` says
which.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tap_skipcall import __version__

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_skipcall.observe.recorder import RunRecorder

REPORT_VERSION = 1
SCHEMA = Path(__file__).with_name("run_report.schema.json")
OUTCOMES = ("succeeded", "failed", "interrupted")


@dataclass(frozen=True)
class Budget:
    """One key's plan and what its run sent: the share of the plan's budget used."""

    account: str | None
    requests: int
    #: The plan the API announced: ``limit`` requests per ``window_seconds`` (None: unknown).
    limit: int | None
    window_seconds: float | None
    seconds: float

    @property
    def used(self) -> float | None:
        """Requests sent over what the plan allowed during the run (None: plan unknown).

        A run shorter than the plan's window is measured against one window: 20 requests
        of a 100-a-minute plan in 3 s used 0.2 of it; 1,000 in ten minutes, 1.0.
        """
        if not self.limit or not self.window_seconds:
            return None
        windows = max(1.0, self.seconds / self.window_seconds)
        return round(self.requests / (self.limit * windows), 3)


def run_report(
    recorder: RunRecorder,
    *,
    outcome: str,
    error: str | None,
    finished_at: float,
    bookmarks: Mapping[tuple[str, str | None], tuple[Any, Any]],
    budgets: list[Budget],
) -> dict[str, Any]:
    """The run report (see ``run_report.schema.json``)."""
    keys = sorted(set(recorder.counts) | set(bookmarks), key=lambda k: (k[1] or "", k[0]))
    streams = []
    for stream, account in keys:
        counts = recorder.counts.get((stream, account))
        before, after = bookmarks.get((stream, account), (None, None))
        streams.append(
            {
                "stream": stream,
                "account": account,
                "records": counts.records if counts else 0,
                "requests": counts.requests if counts else 0,
                "retries": counts.retries if counts else 0,
                "rate_limit_waits": counts.rate_limit_waits if counts else 0,
                "wait_seconds": round(counts.wait_seconds, 3) if counts else 0.0,
                "bookmark": {"before": before, "after": after},
            }
        )
    used = [b.used for b in budgets if b.used is not None]
    return {
        "report_version": REPORT_VERSION,
        "tap_version": __version__,
        "started_at": _iso(recorder.started_at),
        "finished_at": _iso(finished_at),
        "outcome": outcome,
        "error": error,
        "streams": streams,
        "keys": [
            {
                "account": b.account,
                "requests": b.requests,
                "plan": (
                    {"limit": b.limit, "window_seconds": b.window_seconds} if b.limit else None
                ),
                "budget_used": b.used,
            }
            for b in budgets
        ],
        "totals": {
            "requests": recorder.requests,
            "retries": recorder.retries,
            "records": sum(c.records for c in recorder.counts.values()),
            "rate_limit_waits": sum(c.rate_limit_waits for c in recorder.counts.values()),
            "wait_seconds": round(sum(c.wait_seconds for c in recorder.counts.values()), 3),
            "budget_used": max(used) if used else None,
        },
        "warnings": list(recorder.warnings),
    }


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def report_path(template: str, started_at: float, environ: Mapping[str, str] | None = None) -> Path:
    """Where this run's report goes: ``{started_at}`` and ``$VARIABLES`` filled in.

    ``{started_at}`` is the run's start (``20261202T041500Z``); a ``$MELTANO_JOB_ID`` or
    ``$MELTANO_RUN_ID`` Meltano leaves unexpanded is read from the environment.
    """
    environ = os.environ if environ is None else environ
    stamp = datetime.fromtimestamp(started_at, UTC).strftime("%Y%m%dT%H%M%SZ")
    path = template.replace("{started_at}", stamp)
    path = re.sub(
        r"\$\{?([A-Z_][A-Z0-9_]*)\}?",
        lambda m: environ.get(m.group(1), m.group(0)),
        path,
    )
    return Path(path).expanduser()


def write_atomically(path: Path, content: dict[str, Any]) -> None:
    """Write the report so that a reader sees the old file or the whole new one, never half."""
    import tempfile  # once a run, at its end: not in every start-up

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(content, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
