"""A sample of the account for ``--test``'s estimate: what the API does not announce.

A few pages of calls spread over the list show the share of calls with a known contact and
how often contacts and sequences repeat; a few of their recordings, how many announce a
transcription; a few sequences, how long their contacts lists are; the workspaces list, how
many members' lists there are. Each is read only when a selected stream's cost depends on it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tap_skipcall.costs import Sample
from tap_skipcall.network.body import json_body
from tap_skipcall.values import positive_int

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_skipcall.client.base import SkipcallStream
    from tap_skipcall.streams.calls import CallsStream

#: Pages of calls read (spread over the list), recordings and sequences sampled, at most.
PAGES = 5
RECORDINGS = 20
SEQUENCES = 10


def pages_to_sample(pages: int, most: int = PAGES) -> list[int]:
    """Page numbers spread evenly over a list of ``pages`` pages, the first and last included."""
    if pages <= 0:
        return []
    count = min(most, pages)
    if count == 1:
        return [1]
    return sorted({1 + round(i * (pages - 1) / (count - 1)) for i in range(count)})


def spread(items: list[Any], most: int) -> list[Any]:
    """At most ``most`` of the items, spread over them."""
    if len(items) <= most:
        return items
    return [items[math.floor(i * len(items) / most)] for i in range(most)]


def take_sample(
    streams: Mapping[str, SkipcallStream], selected: set[str], visible: int, page_size: int
) -> Sample:
    """Read what the selected streams' costs depend on; the sample (see :class:`Sample`)."""
    calls_stream: CallsStream = streams["calls"]  # type: ignore[assignment]
    calls: list[dict[str, Any]] = []
    for number in pages_to_sample(math.ceil(visible / page_size)):
        data = json_body(calls_stream.calls_list.page(number, None)).get("data") or []
        calls.extend(call for call in data if isinstance(call, dict))
    contacts = [
        str(contact["id"])
        for call in calls
        if isinstance(contact := call.get("contact"), dict)
        and contact.get("id")
        and not contact.get("isUnknown")
    ]
    sequences = [str(call["sequenceId"]) for call in calls if call.get("sequenceId")]
    sample = Sample(
        calls=len(calls),
        with_contact=len(contacts),
        contacts=len(set(contacts)),
        in_sequence=len(sequences),
        sequences=len(set(sequences)),
    )
    recordings = transcribed = 0
    if "call_transcriptions" in selected:
        stream = streams["call_recordings"]
        for call in spread([c for c in calls if c.get("id")], RECORDINGS):
            context = {"call_id": str(call["id"])}
            response = stream.send_with_retries(stream.prepared_request(context, None), context)
            recordings += 1
            transcribed += response.status_code == 200 and bool(
                json_body(response).get("hasTranscription")
            )
    pages: list[int] = []
    if "sequence_contacts" in selected:
        stream = streams["sequence_contacts"]
        for sequence_id in spread(sorted(set(sequences)), SEQUENCES):
            context = {"sequence_id": sequence_id}
            response = stream.send_with_retries(stream.prepared_request(context, 1), context)
            total = positive_int(json_body(response).get("total"), allow_zero=True)
            pages.append(max(1, math.ceil((total or 0) / page_size)))
    workspaces = None
    if "workspace_members" in selected:
        stream = streams["workspaces"]
        response = stream.send_with_retries(stream.prepared_request(None, None), None)
        workspaces = sum(1 for _ in stream.parse_response(response))
    return replace(
        sample,
        recordings=recordings,
        transcribed=transcribed,
        sequence_pages=sum(pages) / len(pages) if pages else None,
        workspaces=workspaces,
    )
