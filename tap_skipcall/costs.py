"""What a sync costs in requests and time: the formulas the README's tables and ``--test`` use.

The API has no batch endpoints: a list costs one request per page, a per-call stream one
request per call. Shares the API does not announce (how many calls have a transcription, how
many distinct contacts and sequences, how long a sequence's contacts list is) are bounded by
one per call without a :class:`Sample`; with one, ``--test`` estimates them from a few pages
of calls spread over the list, a few recordings and a few sequences.
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


#: Streams whose cost a sample of the list estimates (else it is bounded).
SAMPLED = ("call_transcriptions", "contacts", "sequence_contacts", "workspace_members")


@dataclass(frozen=True)
class Sample:
    """What a sample of the calls list shows of the shares the API does not announce.

    Of the ``calls`` sampled (pages spread over the list), ``with_contact`` have a known
    contact, ``contacts`` of them distinct; ``in_sequence`` belong to a sequence,
    ``sequences`` of them distinct, whose contacts take ``sequence_pages`` pages on average
    (None: none read). Of ``recordings`` read for sampled calls, ``transcribed`` announce a
    transcription. ``workspaces``: how many the key reads (None: not read).
    """

    calls: int
    with_contact: int = 0
    contacts: int = 0
    in_sequence: int = 0
    sequences: int = 0
    sequence_pages: float | None = None
    recordings: int = 0
    transcribed: int = 0
    workspaces: int | None = None


def distinct_among(draws: int, sampled: int, seen: int) -> float:
    """Distinct values among ``draws``, from ``seen`` distinct among ``sampled`` draws.

    Draws are taken as uniform over an unknown population D, which solves
    ``seen = D (1 - e^(-sampled / D))``; then ``D (1 - e^(-draws / D))`` are expected.
    With no repeat in the sample, every draw is counted distinct (an upper bound).
    """
    if sampled <= 0 or seen <= 0 or draws <= 0:
        return 0.0
    if draws <= sampled:
        return min(float(draws), seen * draws / sampled)
    if seen >= sampled:  # no repeat seen: every draw may be a new one
        return float(draws)
    low, high = float(seen), float(seen)
    while high * (1 - math.exp(-sampled / high)) < seen:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        if middle * (1 - math.exp(-sampled / middle)) < seen:
            low = middle
        else:
            high = middle
    return high * (1 - math.exp(-draws / high))


def first_sync(
    calls: int, selected: set[str], page_size: int, sample: Sample | None = None
) -> Estimate:
    """What a first sync of the selected streams needs for this many calls.

    Without a ``sample``, per-call shares are bounded by one per call (``at_most``).
    """
    needs_calls = "calls" in selected or bool(selected & set(PER_CALL))
    requests = math.ceil(calls / page_size) if needs_calls else 0
    per_call = set(selected) & set(PER_CALL)
    if "call_transcriptions" in per_call:
        per_call.add("call_recordings")  # read to know which calls have one
    small = [name for name in SMALL if name in selected]
    if sample is None or sample.calls <= 0:
        requests += calls * len(per_call)
        requests += len(small)
        return Estimate(requests, at_most=bool(per_call - {"call_recordings"}))
    share = calls / sample.calls
    extra = 0.0
    if "call_recordings" in per_call:
        extra += calls
    if "call_transcriptions" in per_call and sample.recordings:
        extra += calls * sample.transcribed / sample.recordings
    if "contacts" in per_call:
        extra += distinct_among(
            round(sample.with_contact * share), sample.with_contact, sample.contacts
        )
    if "sequence_contacts" in selected:
        sequences = distinct_among(
            round(sample.in_sequence * share), sample.in_sequence, sample.sequences
        )
        extra += sequences * (sample.sequence_pages or 1.0)
        small.remove("sequence_contacts")
    if "workspace_members" in selected and sample.workspaces is not None:
        extra += sample.workspaces
        small.remove("workspace_members")
    return Estimate(requests + round(extra) + len(small), at_most=False)


def duration(minutes: float) -> str:
    """``6 s``, ``10 min``, ``1 h 41 min``."""
    if minutes * 60 < 1:
        return "under a second"
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"
