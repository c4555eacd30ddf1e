"""A real HTTP server on 127.0.0.1 that behaves like the Skipcall Public API.

It follows ``shared/skipcall-api``: the pages (authoritative) for ``/v1/calls`` and
``/v1/calls/{id}``; ``REFERENCE.md`` and ``openapi.yaml`` for the rest. Where the
documents leave a behaviour open, the choice made here is written next to the code
(look for "undocumented") and can be switched with a ``SimulatorConfig`` field so
that the tap is tested against each plausible variant.

Besides the API it serves ``/_sim/...`` control endpoints (no auth, not rate
limited): statistics, fault injection and data mutation, so that a tap running in
another process (under Meltano, say) can be tested the same way as in-process.
"""

from __future__ import annotations

import json
import math
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from skipcall_simulator.data import Dataset

SORT_STYLES = ("deep_object", "json", "flat")
SORTABLE_CALL_FIELDS = ("createdAt", "updatedAt", "startedAt", "endedAt", "status")


@dataclass
class SimulatorConfig:
    """Knobs for the behaviours the documents leave open or that tests need to vary."""

    api_key: str = "sk_test_simulator"
    #: "active", or the documented 403 codes "SUBSCRIPTION_REQUIRED" / "PLAN_NOT_ELIGIBLE".
    subscription: str = "active"
    #: Requests allowed per window and key, shared by every endpoint (docs: per minute).
    rate_limit: int | None = 1000
    window_seconds: float = 60.0
    #: Unit of X-RateLimit-Reset: "s" (Unix seconds, the usual convention) or "ms".
    reset_unit: str = "s"
    #: Which wire forms of the `sort` object this server understands (undocumented).
    sort_styles: tuple[str, ...] = SORT_STYLES
    #: Largest accepted `limit` (the docs' hidden page says 100).
    max_limit: int = 100
    #: Serve at most this many items a page whatever `limit` asks, echoing it in `limit`.
    clamp_limit: int | None = None
    #: Whether soft-deleted calls disappear from lists (undocumented; default: listed).
    hide_deleted: bool = False
    #: Workspaces in the key's scope (None: all of them).
    scope: list[str] | None = None
    #: Shape of GET /v1/workspaces, undocumented: "data" ({data: [...]}), "list", "envelope".
    workspaces_shape: str = "data"


@dataclass
class Fault:
    """An injected failure: which endpoint, what kind, when and how often."""

    kind: str  # status | drop | slow | bad_json | wrong_shape | rate_limit
    endpoint: str = "*"  # route name (list_calls, recording, ...) or "*"
    status: int = 500
    seconds: float = 0.0
    skip: int = 0  # let this many matching requests through first
    times: int = 1  # then fire this many times (-1: forever)
    probability: float | None = None  # or fire at random with this chance
    seen: int = 0
    fired: int = 0

    def should_fire(self, endpoint: str, rng_value: float) -> bool:
        if self.endpoint not in {"*", endpoint}:
            return False
        self.seen += 1
        if self.seen <= self.skip or (0 <= self.times <= self.fired):
            return False
        if self.probability is not None and rng_value >= self.probability:
            return False
        self.fired += 1
        return True


@dataclass
class MutationRule:
    """Change data after the N-th list-calls page is served (before the next request)."""

    after_page: int
    update: int = 0
    create: int = 0
    delete: int = 0
    #: "served": touch calls the client has already been sent; "any": anywhere.
    among: str = "any"
    done: bool = False


@dataclass
class Stats:
    """What the server saw: the figures tests and the benchmark assert on."""

    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    log: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.by_endpoint.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_endpoint": dict(self.by_endpoint),
            "by_status": {str(k): v for k, v in self.by_status.items()},
            "rate_limited": self.by_status.get(429, 0),
        }


class ApiError(Exception):
    """An error answer: status plus body (the documented shape unless given)."""

    def __init__(self, status: int, code: str, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = (
            body
            if body is not None
            else {"error": {"code": code, "message": message, "status": status}}
        )


def validation_error(*messages: str) -> ApiError:
    """A NestJS ValidationPipe answer: the framework's default shape (REFERENCE §2.5)."""
    return ApiError(
        400,
        "BAD_REQUEST",
        messages[0],
        body={"statusCode": 400, "message": list(messages), "error": "Bad Request"},
    )


ROUTES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("health", r"/v1/health"),
        ("list_calls", r"/v1/calls"),
        ("get_call", r"/v1/calls/(?P<id>[^/]+)"),
        ("recording", r"/v1/calls/(?P<id>[^/]+)/recording"),
        ("transcription", r"/v1/calls/(?P<id>[^/]+)/transcription"),
        ("get_contact", r"/v1/contacts/(?P<id>[^/]+)"),
        ("list_workspaces", r"/v1/workspaces"),
        ("list_members", r"/v1/workspaces/(?P<id>[^/]+)/members"),
        ("list_users", r"/v1/users"),
        ("sequence_contacts", r"/v1/sequences/(?P<id>[^/]+)/contacts"),
        ("tag_repartition", r"/v1/stats/tag-repartition"),
        ("status_repartition", r"/v1/stats/status-repartition"),
        ("team_stats", r"/v1/teams/stats"),
    ]
]


class Simulator:
    """The API's behaviour, independent of the HTTP plumbing (usable in-process)."""

    def __init__(
        self,
        dataset: Dataset | None = None,
        config: SimulatorConfig | None = None,
        *,
        time_fn: Any = time.time,
    ) -> None:
        self.data = dataset or Dataset()
        self.config = config or SimulatorConfig()
        self.faults: list[Fault] = []
        self.mutations: list[MutationRule] = []
        self.stats = Stats()
        self.time = time_fn
        self._window_start = 0.0
        self._window_count = 0
        self._list_pages_served = 0
        self._served_call_ids: list[str] = []
        self._sorted_cache: tuple[Any, list[dict[str, Any]]] | None = None
        self._lock = threading.RLock()
        self._fault_rng = self.data.rng.__class__(self.data.seed + 1)

    def new_run(self) -> None:
        """Start counting pages and served calls afresh (mutation rules refer to one run)."""
        with self._lock:
            self._list_pages_served = 0
            self._served_call_ids = []

    # -- rate limiting ----------------------------------------------------------------

    def _take_budget(self) -> tuple[dict[str, str], bool]:
        """Count one request against the shared window; return headers and whether allowed."""
        limit = self.config.rate_limit
        if limit is None:
            return {}, True
        with self._lock:
            now = self.time()
            if now >= self._window_start + self.config.window_seconds:
                self._window_start, self._window_count = now, 0
            allowed = self._window_count < limit
            if allowed:
                self._window_count += 1
            reset = self._window_start + self.config.window_seconds
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(0, limit - self._window_count)),
                "X-RateLimit-Reset": str(
                    math.ceil(reset * 1000) if self.config.reset_unit == "ms" else math.ceil(reset)
                ),
            }
            return headers, allowed

    # -- request handling -------------------------------------------------------------

    def handle(
        self, path: str, query: str, authorization: str | None
    ) -> tuple[int, dict[str, str], Any, str]:
        """Answer one API request: (status, headers, JSON body or fault marker, endpoint)."""
        endpoint, params = "unknown", {}
        for name, pattern in ROUTES:
            match = pattern.fullmatch(path)
            if match:
                endpoint, params = name, match.groupdict()
                break
        headers, allowed = self._take_budget()
        try:
            if not allowed:
                raise ApiError(429, "TOO_MANY_REQUESTS", "Rate limit exceeded, retry later")
            self._authorize(authorization)
            if endpoint == "unknown":
                raise ApiError(404, "NOT_FOUND", f"Cannot GET {path}")
            fault = self._pick_fault(endpoint)
            if fault is not None:
                if fault.kind == "rate_limit":
                    headers["X-RateLimit-Remaining"] = "0"
                    raise ApiError(429, "TOO_MANY_REQUESTS", "Rate limit exceeded, retry later")
                if fault.kind == "status":
                    raise ApiError(
                        fault.status,
                        HTTPStatus(fault.status).phrase.upper().replace(" ", "_"),
                        "Injected failure",
                    )
                if fault.kind == "slow":
                    time.sleep(fault.seconds)
                else:
                    return 200, headers, fault, endpoint
            query_params = parse_qs(query, keep_blank_values=True)
            body = getattr(self, f"_{endpoint}")(query_params, **params)
            if endpoint == "list_calls":
                self._after_list_page()
            return 200, headers, body, endpoint
        except ApiError as error:
            return error.status, headers, error.body, endpoint

    def record(self, endpoint: str, query: str, status: int) -> None:
        with self._lock:
            self.stats.by_endpoint[endpoint] += 1
            self.stats.by_status[status] += 1
            self.stats.log.append((endpoint, query, status))

    def _authorize(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or token != self.config.api_key:
            raise ApiError(401, "UNAUTHORIZED", "Invalid or revoked API key")
        if self.config.subscription == "SUBSCRIPTION_REQUIRED":
            raise ApiError(
                403, "SUBSCRIPTION_REQUIRED", "An active subscription is required to access the API"
            )
        if self.config.subscription == "PLAN_NOT_ELIGIBLE":
            raise ApiError(
                403,
                "PLAN_NOT_ELIGIBLE",
                "API access requires STARTER, INTERMÉDIAIRE or EXPERT plan",
            )

    def _pick_fault(self, endpoint: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.should_fire(endpoint, self._fault_rng.random()):
                    return fault
        return None

    def _after_list_page(self) -> None:
        with self._lock:
            self._list_pages_served += 1
            for rule in self.mutations:
                if rule.done or rule.after_page != self._list_pages_served:
                    continue
                rule.done = True
                served = sorted(set(self._served_call_ids)) if rule.among == "served" else None
                self.data.update_calls(rule.update, among=served)
                self.data.delete_calls(
                    rule.delete,
                    among=[
                        cid
                        for cid in (served or sorted(self.data.calls))
                        if self.data.calls[cid]["deletedAt"] is None
                    ],
                )
                self.data.create_calls(rule.create)

    # -- parameter parsing ------------------------------------------------------------

    def _scope(self) -> set[str]:
        return set(self.config.scope if self.config.scope is not None else self.data.workspaces)

    def _workspace_filter(self, query: dict[str, list[str]]) -> set[str]:
        """Both documented forms: ``workspaceIds=a,b`` and ``workspaceIds[]=a&workspaceIds[]=b``."""
        raw = query.get("workspaceIds", []) + query.get("workspaceIds[]", [])
        requested = {part.strip() for value in raw for part in value.split(",") if part.strip()}
        scope = self._scope()
        if not requested:
            return scope
        if not requested <= scope:
            # Documented as a 403 without a body schema; this body shape is a guess.
            raise ApiError(
                403, "FORBIDDEN", "One or more requested workspaceIds are outside the API key scope"
            )
        return requested

    @staticmethod
    def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
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

    def _page_params(self, query: dict[str, list[str]]) -> tuple[int, int]:
        page = self._int_param(query, "page", 1)
        limit = self._int_param(query, "limit", 10)
        if page < 1:
            raise validation_error("page must not be less than 1")
        if limit < 1:
            raise validation_error("limit must not be less than 1")
        if limit > self.config.max_limit:
            raise validation_error(f"limit must not be greater than {self.config.max_limit}")
        return page, min(limit, self.config.clamp_limit or limit)

    def _sort_params(self, query: dict[str, list[str]]) -> tuple[str, str]:
        """Read `sort` in whichever wire forms this server is configured to understand."""
        styles = self.config.sort_styles
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
            raise validation_error(
                f"sort.orderBy must be one of: {', '.join(SORTABLE_CALL_FIELDS)}"
            )
        if order not in {"asc", "desc"}:
            raise validation_error("sort.order must be one of the following values: asc, desc")
        return order_by, order

    @staticmethod
    def _paginate(items: list[Any], page: int, limit: int) -> dict[str, Any]:
        total = len(items)
        return {
            "data": items[(page - 1) * limit : page * limit],
            "total": total,
            "page": page,
            "limit": limit,
            "totalPages": math.ceil(total / limit) if total else 0,
        }

    # -- endpoints --------------------------------------------------------------------

    def _health(self, query: dict[str, list[str]]) -> Any:
        return {"status": "ok"}

    def _sorted_calls(
        self, order_by: str, order: str, workspaces: set[str]
    ) -> list[dict[str, Any]]:
        key = (order_by, order, frozenset(workspaces), self.config.hide_deleted, self.data.version)
        cached = self._sorted_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        calls = [
            call
            for cid, call in self.data.calls.items()
            if self.data.call_workspace[cid] in workspaces
            and not (self.config.hide_deleted and call["deletedAt"])
        ]
        present = sorted(
            (c for c in calls if c.get(order_by) is not None),
            key=lambda c: (c[order_by], c["id"]),
            reverse=order == "desc",
        )
        ordered = present + [c for c in calls if c.get(order_by) is None]
        self._sorted_cache = (key, ordered)
        return ordered

    def _list_calls(self, query: dict[str, list[str]]) -> Any:
        page, limit = self._page_params(query)
        order_by, order = self._sort_params(query)
        workspaces = self._workspace_filter(query)
        if "filters" in query:
            # The grammar is undocumented: reject what is not JSON, ignore the rest.
            try:
                json.loads(query["filters"][-1])
            except ValueError:
                raise validation_error("filters must be a valid JSON string") from None
        with self.data.lock:
            body = self._paginate(self._sorted_calls(order_by, order, workspaces), page, limit)
            body["data"] = [dict(call) for call in body["data"]]
        self._served_call_ids.extend(call["id"] for call in body["data"])
        return body

    def _visible_call(self, call_id: str) -> dict[str, Any]:
        call = self.data.calls.get(call_id)
        if call is None or self.data.call_workspace[call_id] not in self._scope():
            raise ApiError(404, "NOT_FOUND", "Call not found")
        return call

    def _get_call(self, query: dict[str, list[str]], id: str) -> Any:
        return self._visible_call(id)

    def _recording(self, query: dict[str, list[str]], id: str) -> Any:
        self._visible_call(id)
        if id not in self.data.recordings:
            raise ApiError(404, "NOT_FOUND", "Recording not found")  # undocumented: 404 assumed
        return self.data.recordings[id]

    def _transcription(self, query: dict[str, list[str]], id: str) -> Any:
        self._visible_call(id)
        if id not in self.data.transcriptions:
            raise ApiError(404, "NOT_FOUND", "Transcription not found")  # undocumented: 404 assumed
        return self.data.transcriptions[id]

    def _get_contact(self, query: dict[str, list[str]], id: str) -> Any:
        contact = self.data.contacts.get(id)
        if contact is None or contact["teamId"] not in self._scope():
            raise ApiError(404, "NOT_FOUND", "Contact not found")
        return contact

    def _list_workspaces(self, query: dict[str, list[str]]) -> Any:
        scope = self._scope()
        items = [w for wid, w in self.data.workspaces.items() if wid in scope]
        if self.config.workspaces_shape == "list":
            return items
        if self.config.workspaces_shape == "envelope":
            page, limit = self._page_params(query)
            return self._paginate(items, page, limit)
        return {"data": items}  # like the stats endpoints

    def _list_members(self, query: dict[str, list[str]], id: str) -> Any:
        if id not in self._scope():
            raise ApiError(404, "NOT_FOUND", "Workspace not found")
        page, limit = self._page_params(query)
        return self._paginate(self.data.members[id], page, limit)

    def _list_users(self, query: dict[str, list[str]]) -> Any:
        page, limit = self._page_params(query)
        workspaces = self._workspace_filter(query)
        users = [u for u in self.data.users.values() if workspaces & set(u["workspaceIds"])]
        return self._paginate(users, page, limit)

    def _sequence_contacts(self, query: dict[str, list[str]], id: str) -> Any:
        sequence = self.data.sequences.get(id)
        if sequence is None or sequence["workspaceId"] not in self._scope():
            raise ApiError(404, "NOT_FOUND", "Sequence not found")
        page, limit = self._page_params(query)
        index = self._sequence_calls_index()
        items = []
        for contact_id in dict.fromkeys(sequence["contactIds"]):
            contact = self.data.contacts[contact_id]
            calls = index.get((id, contact_id), [])
            items.append(
                {
                    "id": contact_id,
                    "contactId": contact_id,
                    "firstName": contact["firstName"],
                    "lastName": contact["lastName"],
                    "phoneNumbers": contact["phoneNumbers"],
                    "status": "CALLED" if calls else "NOT_INITIATED",
                    "tags": [
                        {
                            "id": f"tag-{contact['lastModificationSource'].lower()}",
                            "label": contact["lastModificationSource"].title(),
                        }
                    ],
                    "calls": calls,
                }
            )
        return self._paginate(items, page, limit)

    def _sequence_calls_index(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """(sequence, contact) -> in-sequence calls, rebuilt only when the data changes."""
        cached = getattr(self, "_sequence_index", None)
        if cached is not None and cached[0] == self.data.version:
            return cached[1]
        index: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for call in self.data.calls.values():
            contact_id = (call["contact"] or {}).get("id")
            if call["sequenceId"] and contact_id:
                index.setdefault((call["sequenceId"], contact_id), []).append(
                    {"id": call["id"], "status": call["status"], "startedAt": call["startedAt"]}
                )
        self._sequence_index = (self.data.version, index)
        return index

    def _stats_calls(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        start = (query.get("startDate") or [""])[-1]
        end = (query.get("endDate") or ["9999"])[-1]
        workspace = (query.get("workspaceId") or query.get("teamId") or [None])[-1]
        if workspace is not None and workspace not in self._scope():
            raise ApiError(403, "FORBIDDEN", "workspaceId is outside the API key scope")
        return [
            c
            for cid, c in self.data.calls.items()
            if start <= c["createdAt"] <= end + "~"
            and (workspace is None or self.data.call_workspace[cid] == workspace)
        ]

    def _tag_repartition(self, query: dict[str, list[str]]) -> Any:
        counts = Counter(c["status"] for c in self._stats_calls(query))
        return {
            "data": [
                {
                    "tagId": f"tag-{status}",
                    "label": status.title(),
                    "count": count,
                    "isSuccess": status == "completed",
                    "date": None,
                }
                for status, count in sorted(counts.items())
            ]
        }

    def _status_repartition(self, query: dict[str, list[str]]) -> Any:
        counts = Counter(c["status"] for c in self._stats_calls(query))
        return {
            "data": [{"status": s, "count": n, "date": None} for s, n in sorted(counts.items())],
            "nonCalledCount": sum(1 for c in self.data.contacts.values() if not c["callCount"]),
        }

    def _team_stats(self, query: dict[str, list[str]]) -> Any:
        period = (query.get("period") or [None])[-1]
        if period not in {"day", "week", "month", "custom"}:
            raise validation_error(
                "period must be one of the following values: day, week, month, custom"
            )
        calls = self._stats_calls(query)
        teams = []
        for wid in sorted(self._scope()):
            mine = [c for c in calls if self.data.call_workspace[c["id"]] == wid]
            teams.append(
                {
                    "teamId": wid,
                    "teamName": self.data.workspaces[wid]["name"],
                    "calls": len(mine),
                    "callDuration": sum(
                        self.data.recordings.get(c["id"], {}).get("duration", 0) for c in mine
                    ),
                    "contacts": len({(c["contact"] or {}).get("id") for c in mine} - {None}),
                    "activeSequences": sum(
                        1 for s in self.data.sequences.values() if s["workspaceId"] == wid
                    ),
                    "members": len(self.data.members[wid]),
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

    # -- control API ------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any) -> Any:
        """Handle ``/_sim/...``: stats, faults, mutations, truth."""
        if path == "/_sim/stats":
            return self.stats.as_dict()
        if path == "/_sim/reset_stats":
            self.stats = Stats()
            return {"ok": True}
        if path == "/_sim/faults":
            if method == "DELETE":
                self.faults.clear()
            else:
                self.faults.append(Fault(**body))
            return {"faults": [asdict(f) for f in self.faults]}
        if path == "/_sim/mutate":
            return {
                "updated": self.data.update_calls(body.get("update", 0)),
                "deleted": self.data.delete_calls(body.get("delete", 0)),
                "created": self.data.create_calls(body.get("create", 0)),
            }
        if path == "/_sim/mutation_rules":
            self.mutations.append(MutationRule(**body))
            return {"ok": True}
        if path == "/_sim/config":
            for key, value in (body or {}).items():
                setattr(self.config, key, tuple(value) if key == "sort_styles" else value)
            return asdict(self.config)
        if path == "/_sim/truth":
            return self.data.snapshot_calls()
        raise ApiError(404, "NOT_FOUND", f"No control endpoint {path}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK
    # would add ~40 ms to every small answer.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; the stats say what happened."""

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _control(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"null") if length else None
        try:
            answer = self.server.simulator.control(method, parts.path, payload)
            self._send(200, {}, json.dumps(answer).encode())
        except (ApiError, TypeError, ValueError) as error:
            self._send(
                getattr(error, "status", 400), {}, json.dumps({"error": str(error)}).encode()
            )

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path.startswith("/_sim/"):
            self._control("GET")
            return
        simulator = self.server.simulator
        status, headers, body, endpoint = simulator.handle(
            parts.path, parts.query, self.headers.get("Authorization")
        )
        # Counted before the answer leaves, so a client never sees a request not yet counted.
        simulator.record(endpoint, parts.query, 0 if isinstance(body, Fault) else status)
        try:
            if isinstance(body, Fault) and body.kind == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if isinstance(body, Fault) and body.kind == "bad_json":
                self._send(200, headers, b'{"data": [{"id": "trunc')
                return
            if isinstance(body, Fault) and body.kind == "wrong_shape":
                self._send(200, headers, b'{"items": [], "count": 0}')
                return
            self._send(status, headers, json.dumps(body, ensure_ascii=False).encode())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout test)

    def do_POST(self) -> None:
        self._control("POST")

    def do_DELETE(self) -> None:
        self._control("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        super().__init__(address, _Handler)
        self.simulator = simulator


class RunningSimulator:
    """A simulator serving HTTP on 127.0.0.1 in a background thread."""

    def __init__(self, simulator: Simulator, port: int = 0, host: str = "127.0.0.1") -> None:
        self.simulator = simulator
        self._server = _Server((host, port), simulator)
        self.port = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True, name="skipcall-simulator"
        )

    def start(self) -> RunningSimulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RunningSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in the calling thread (the command-line entry point)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
