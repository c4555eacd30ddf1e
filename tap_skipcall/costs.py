"""What a sync costs in requests and time: the formulas the README's tables and ``--test`` use.

The API has no batch endpoints: a list costs one request per page, a per-call stream one
request per call. Shares the API does not announce (how many calls have a transcription, how
many distinct contacts) are bounded by one per call, so an estimate with them is a maximum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Streams read once per call (recordings are read for transcriptions too).
PER_CALL = ("call_recordings", "call_transcriptions", "contacts")
#: Streams that cost about one request each (a list of a few pages, a report).
SMALL = (
    "workspaces",
    "workspace_members",
    "users",
    "sequence_contacts",
    "stats_tag_repartition",
    "stats_status_repartition",
    "stats_teams",
)


@dataclass(frozen=True)
class Estimate:
    """Requests a first sync needs; ``at_most`` when a per-call share is bounded, not known."""

    requests: int
    at_most: bool

    def minutes(self, per_minute: float) -> float:
        """Minutes at the plan's rate."""
        return self.requests / per_minute


def first_sync(calls: int, selected: set[str], page_size: int) -> Estimate:
    """What a first sync of the selected streams needs for this many calls."""
    needs_calls = "calls" in selected or bool(selected & set(PER_CALL))
    requests = math.ceil(calls / page_size) if needs_calls else 0
    per_call = set(selected) & set(PER_CALL)
    if "call_transcriptions" in per_call:
        per_call.add("call_recordings")  # read to know which calls have one
    requests += calls * len(per_call)
    requests += sum(1 for name in SMALL if name in selected)
    return Estimate(requests, at_most=bool(per_call - {"call_recordings"}))


def duration(minutes: float) -> str:
    """``6 s``, ``10 min``, ``1 h 41 min``."""
    if minutes * 60 < 1:
        return "under a second"
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"
