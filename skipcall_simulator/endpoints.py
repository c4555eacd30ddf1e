"""The API's endpoints as a route table: one function per endpoint, and what they share.

Each endpoint takes the simulator, the parsed query and the path's parameters, and returns
the JSON body or raises :class:`~skipcall_simulator.errors.ApiError`.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from skipcall_simulator.errors import ApiError, validation_error

if TYPE_CHECKING:
    from collections.abc import Callable

    from skipcall_simulator.server import Simulator

SORT_STYLES = ("deep_object", "json", "flat")
SORTABLE_CALL_FIELDS = ("createdAt", "updatedAt", "startedAt", "endedAt", "status")
Query = dict[str, list[str]]


# -- parameters ---------------------------------------------------------------------


def key_scope(api: Simulator) -> set[str]:
    scope = api.scope()
    return set(scope if scope is not None else api.data.workspaces)


def workspace_filter(api: Simulator, query: Query) -> set[str]:
    """Both documented forms: ``workspaceIds=a,b`` and ``workspaceIds[]=a&workspaceIds[]=b``."""
    raw = query.get("workspaceIds", []) + query.get("workspaceIds[]", [])
    requested = {part.strip() for value in raw for part in value.split(",") if part.strip()}
    scope = key_scope(api)
    if not requested:
        return scope
    if not requested <= scope:
        # Documented as a 403 without a body schema; this body shape is a guess.
        raise ApiError(
            403, "FORBIDDEN", "One or more requested workspaceIds are outside the API key scope"
        )
    return requested


def int_param(query: Query, name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    try:
        value = float(values[-1])
    except ValueError:
        raise validation_error(f"{name} must be a number") from None
    if not value.is_integer():
        raise validation_error(f"{name} must be an integer number")
    return int(value)


def page_params(api: Simulator, query: Query) -> tuple[int, int]:
    page = int_param(query, "page", 1)
    limit = int_param(query, "limit", 10)
    if page < 1:
        raise validation_error("page must not be less than 1")
    if limit < 1:
        raise validation_error("limit must not be less than 1")
    if limit > api.config.max_limit:
        raise validation_error(f"limit must not be greater than {api.config.max_limit}")
    return page, min(limit, api.config.clamp_limit or limit)


def sort_params(api: Simulator, query: Query) -> tuple[str, str]:
    """Read `sort` in whichever wire forms this server is configured to understand."""
    styles = api.config.sort_styles
    order_by = order = None
    if "deep_object" in styles and "sort[orderBy]" in query:
        order_by, order = query["sort[orderBy]"][-1], query.get("sort[order]", ["asc"])[-1]
    elif "json" in styles and "sort" in query:
        try:
            parsed = json.loads(query["sort"][-1])
        except ValueError:
            raise validation_error("sort must be a valid JSON object") from None
        if not isinstance(parsed, dict):
            raise validation_error("sort must be a valid JSON object")
        order_by, order = parsed.get("orderBy"), parsed.get("order", "asc")
    elif "flat" in styles and "orderBy" in query:
        order_by, order = query["orderBy"][-1], query.get("order", ["asc"])[-1]
    if order_by is None:
        return "createdAt", "asc"  # the DTO's example and default
    if order_by not in SORTABLE_CALL_FIELDS:
        raise validation_error(f"sort.orderBy must be one of: {', '.join(SORTABLE_CALL_FIELDS)}")
    if order not in {"asc", "desc"}:
        raise validation_error("sort.order must be one of the following values: asc, desc")
    return order_by, order


def paginate(items: list[Any], page: int, limit: int) -> dict[str, Any]:
    total = len(items)
    return {
        "data": items[(page - 1) * limit : page * limit],
        "total": total,
        "page": page,
        "limit": limit,
        "totalPages": math.ceil(total / limit) if total else 0,
    }


# -- endpoints --------------------------------------------------------------------


def health(api: Simulator, query: Query) -> Any:
    return {"status": "ok"}


def sorted_calls(
    api: Simulator, order_by: str, order: str, workspaces: set[str]
) -> list[dict[str, Any]]:
    key = (order_by, order, frozenset(workspaces), api.config.hide_deleted, api.data.version)
    cached = api.cache.get("sorted_calls")
    if cached is not None and cached[0] == key:
        return cached[1]
    calls = [
        call
        for cid, call in api.data.calls.items()
        if api.data.call_workspace[cid] in workspaces
        and not (api.config.hide_deleted and call["deletedAt"])
    ]
    present = sorted(
        (c for c in calls if c.get(order_by) is not None),
        key=lambda c: (c[order_by], c["id"]),
        reverse=order == "desc",
    )
    ordered = present + [c for c in calls if c.get(order_by) is None]
    api.cache["sorted_calls"] = (key, ordered)
    return ordered


def list_calls(api: Simulator, query: Query) -> Any:
    page, limit = page_params(api, query)
    order_by, order = sort_params(api, query)
    workspaces = workspace_filter(api, query)
    if "filters" in query:
        # The grammar is undocumented: reject what is not JSON, ignore the rest.
        try:
            json.loads(query["filters"][-1])
        except ValueError:
            raise validation_error("filters must be a valid JSON string") from None
    with api.data.lock:
        body = paginate(sorted_calls(api, order_by, order, workspaces), page, limit)
        body["data"] = [dict(call) for call in body["data"]]
    api.served_call_ids.extend(call["id"] for call in body["data"])
    return body


def visible_call(api: Simulator, call_id: str) -> dict[str, Any]:
    call = api.data.calls.get(call_id)
    if call is None or api.data.call_workspace[call_id] not in key_scope(api):
        raise ApiError(404, "NOT_FOUND", "Call not found")
    return call


def get_call(api: Simulator, query: Query, id: str) -> Any:
    return visible_call(api, id)


def recording(api: Simulator, query: Query, id: str) -> Any:
    visible_call(api, id)
    if id not in api.data.recordings:
        raise ApiError(404, "NOT_FOUND", "Recording not found")  # undocumented: 404 assumed
    return api.data.recordings[id]


def transcription(api: Simulator, query: Query, id: str) -> Any:
    visible_call(api, id)
    if id not in api.data.transcriptions:
        raise ApiError(404, "NOT_FOUND", "Transcription not found")  # undocumented: 404 assumed
    return api.data.transcriptions[id]


def get_contact(api: Simulator, query: Query, id: str) -> Any:
    contact = api.data.contacts.get(id)
    if contact is None or contact["teamId"] not in key_scope(api):
        raise ApiError(404, "NOT_FOUND", "Contact not found")
    return contact


def list_workspaces(api: Simulator, query: Query) -> Any:
    scope = key_scope(api)
    items = [w for wid, w in api.data.workspaces.items() if wid in scope]
    if api.config.workspaces_shape == "list":
        return items
    if api.config.workspaces_shape == "envelope":
        page, limit = page_params(api, query)
        return paginate(items, page, limit)
    return {"data": items}  # like the stats endpoints


def list_members(api: Simulator, query: Query, id: str) -> Any:
    if id not in key_scope(api):
        raise ApiError(404, "NOT_FOUND", "Workspace not found")
    page, limit = page_params(api, query)
    return paginate(api.data.members[id], page, limit)


def list_users(api: Simulator, query: Query) -> Any:
    page, limit = page_params(api, query)
    workspaces = workspace_filter(api, query)
    users = [u for u in api.data.users.values() if workspaces & set(u["workspaceIds"])]
    return paginate(users, page, limit)


def sequence_contacts(api: Simulator, query: Query, id: str) -> Any:
    sequence = api.data.sequences.get(id)
    if sequence is None or sequence["workspaceId"] not in key_scope(api):
        raise ApiError(404, "NOT_FOUND", "Sequence not found")
    page, limit = page_params(api, query)
    index = sequence_calls_index(api)
    items = []
    for contact_id in dict.fromkeys(sequence["contactIds"]):
        contact = api.data.contacts[contact_id]
        calls = index.get((id, contact_id), [])
        items.append(
            {
                "id": contact_id,
                "contactId": contact_id,
                "firstName": contact["firstName"],
                "lastName": contact["lastName"],
                "phoneNumbers": contact["phoneNumbers"],
                "status": api.data.sequence_status.get(
                    (id, contact_id), "CALLED" if calls else "NOT_INITIATED"
                ),
                "tags": [
                    {
                        "id": f"tag-{contact['lastModificationSource'].lower()}",
                        "label": contact["lastModificationSource"].title(),
                    }
                ],
                "calls": [call["id"] for call in calls]
                if api.config.sequence_calls_shape == "ids"
                else calls,
            }
        )
    return paginate(items, page, limit)


def sequence_calls_index(api: Simulator) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(sequence, contact) -> in-sequence calls, rebuilt only when the data changes."""
    cached = api.cache.get("sequence_index")
    if cached is not None and cached[0] == api.data.version:
        return cached[1]
    index: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for call in api.data.calls.values():
        contact_id = (call["contact"] or {}).get("id")
        if call["sequenceId"] and contact_id:
            index.setdefault((call["sequenceId"], contact_id), []).append(
                {"id": call["id"], "status": call["status"], "startedAt": call["startedAt"]}
            )
    api.cache["sequence_index"] = (api.data.version, index)
    return index


def stats_calls(api: Simulator, query: Query) -> list[dict[str, Any]]:
    start = (query.get("startDate") or [""])[-1]
    end = (query.get("endDate") or ["9999"])[-1]
    workspace = (query.get("workspaceId") or query.get("teamId") or [None])[-1]
    if workspace is not None and workspace not in key_scope(api):
        raise ApiError(403, "FORBIDDEN", "workspaceId is outside the API key scope")
    return [
        c
        for cid, c in api.data.calls.items()
        if start <= c["createdAt"] <= end + "~"
        and (workspace is None or api.data.call_workspace[cid] == workspace)
    ]


def stats_date(api: Simulator) -> str | None:
    """A stats row's bucket date in the configured shape (the docs show only an example)."""
    shape = api.config.stats_date
    if shape == "date":
        return "2025-01-06"
    if shape == "date-time":
        return "2025-01-06T00:00:00.000Z"
    return None


def tag_repartition(api: Simulator, query: Query) -> Any:
    counts = Counter(c["status"] for c in stats_calls(api, query))
    return {
        "data": [
            {
                "tagId": f"tag-{status}",
                "label": status.title(),
                "count": count,
                "isSuccess": status == "completed",
                "date": stats_date(api),
            }
            for status, count in sorted(counts.items())
        ]
    }


def status_repartition(api: Simulator, query: Query) -> Any:
    counts = Counter(c["status"] for c in stats_calls(api, query))
    return {
        "data": [
            {"status": s, "count": n, "date": stats_date(api)} for s, n in sorted(counts.items())
        ],
        "nonCalledCount": sum(1 for c in api.data.contacts.values() if not c["callCount"]),
    }


def team_stats(api: Simulator, query: Query) -> Any:
    period = (query.get("period") or [None])[-1]
    if period not in {"day", "week", "month", "custom"}:
        raise validation_error(
            "period must be one of the following values: day, week, month, custom"
        )
    calls = stats_calls(api, query)
    teams = []
    for wid in sorted(key_scope(api)):
        mine = [c for c in calls if api.data.call_workspace[c["id"]] == wid]
        teams.append(
            {
                "teamId": wid,
                "teamName": api.data.workspaces[wid]["name"],
                "calls": len(mine),
                "callDuration": sum(
                    api.data.recordings.get(c["id"], {}).get("duration", 0) for c in mine
                ),
                "contacts": len({(c["contact"] or {}).get("id") for c in mine} - {None}),
                "activeSequences": sum(
                    1 for s in api.data.sequences.values() if s["workspaceId"] == wid
                ),
                "members": len(api.data.members[wid]),
            }
        )
    aggregate = {
        key: sum(t[key] for t in teams)
        for key in ("calls", "callDuration", "contacts", "activeSequences")
    }
    return {
        "aggregate": {
            "totalCalls": aggregate["calls"],
            "totalCallDuration": aggregate["callDuration"],
            "totalContacts": aggregate["contacts"],
            "activeSequences": aggregate["activeSequences"],
        },
        "teams": teams,
    }


@dataclass(frozen=True)
class Route:
    """An endpoint: its name (used by faults and statistics), its path and its handler."""

    name: str
    pattern: re.Pattern[str]
    handler: Callable[..., Any]


ROUTES = [
    Route(name, re.compile(pattern), handler)
    for name, pattern, handler in [
        ("health", r"/v1/health", health),
        ("list_calls", r"/v1/calls", list_calls),
        ("get_call", r"/v1/calls/(?P<id>[^/]+)", get_call),
        ("recording", r"/v1/calls/(?P<id>[^/]+)/recording", recording),
        ("transcription", r"/v1/calls/(?P<id>[^/]+)/transcription", transcription),
        ("get_contact", r"/v1/contacts/(?P<id>[^/]+)", get_contact),
        ("list_workspaces", r"/v1/workspaces", list_workspaces),
        ("list_members", r"/v1/workspaces/(?P<id>[^/]+)/members", list_members),
        ("list_users", r"/v1/users", list_users),
        ("sequence_contacts", r"/v1/sequences/(?P<id>[^/]+)/contacts", sequence_contacts),
        ("tag_repartition", r"/v1/stats/tag-repartition", tag_repartition),
        ("status_repartition", r"/v1/stats/status-repartition", status_repartition),
        ("team_stats", r"/v1/teams/stats", team_stats),
    ]
]


def route(path: str) -> tuple[Route | None, dict[str, str]]:
    """The route serving this path, and the parameters it took from it."""
    for candidate in ROUTES:
        match = candidate.pattern.fullmatch(path)
        if match:
            return candidate, match.groupdict()
    return None, {}
