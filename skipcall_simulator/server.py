"""A real HTTP server on 127.0.0.1 that behaves like the Skipcall Public API.

It follows ``shared/skipcall-api``: the pages (authoritative) for ``/v1/calls`` and
``/v1/calls/{id}``; ``REFERENCE.md`` and ``openapi.yaml`` for the rest. Where the
documents leave a behaviour open, the choice made here is written next to the code
(look for "undocumented") and can be switched with a ``SimulatorConfig`` field so
that the tap is tested against each plausible variant.

The endpoints are a route table (:mod:`skipcall_simulator.endpoints`), injected failures
live in :mod:`skipcall_simulator.faults` and the ``/_sim/...`` control API (statistics,
faults, data mutation; no auth, not rate limited) in :mod:`skipcall_simulator.control`, so
that a tap running in another process (under Meltano, say) can be tested like one in-process.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from skipcall_simulator import control, quirks
from skipcall_simulator.data import Dataset
from skipcall_simulator.endpoints import SORT_STYLES, route
from skipcall_simulator.errors import ApiError
from skipcall_simulator.faults import Fault, Reply
from skipcall_simulator.mutations import MutationRule

__all__ = [
    "SORT_STYLES",
    "ApiError",
    "Fault",
    "MutationRule",
    "RunningSimulator",
    "Simulator",
    "SimulatorConfig",
]


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
    #: Whether a transcription finishing moves its call's updatedAt (undocumented; no).
    touch_call_on_transcription: bool = False
    #: Workspaces in the key's scope (None: all of them).
    scope: list[str] | None = None
    #: Shape of GET /v1/workspaces, undocumented: "data" ({data: [...]}), "list", "envelope".
    workspaces_shape: str = "data"
    #: A sequence contact's in-sequence calls, undocumented: "objects" or "ids".
    sequence_calls_shape: str = "objects"
    #: The stats rows' `date`, documented only by an example: None, "date" or "date-time".
    stats_date: str | None = None
    #: Seconds every answer waits before it is sent (a far-away API), plus up to ``jitter``.
    latency: float = 0.0
    jitter: float = 0.0
    #: Other keys of the same organisation, each with the workspaces in its scope (None: all):
    #: two keys that see the same users and contacts through different workspaces.
    more_keys: dict[str, list[str] | None] = field(default_factory=dict)
    #: A list that breaks its paging contract (:data:`skipcall_simulator.quirks.QUIRKS`),
    #: on these endpoints.
    list_quirk: str | None = None
    quirk_endpoints: tuple[str, ...] = ("list_calls",)


@dataclass
class Stats:
    """What the server saw: the figures tests and the benchmark assert on."""

    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    #: Every bearer token received (a test checks that no key reaches another API).
    tokens: Counter[str] = field(default_factory=Counter)
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


class RateWindow:
    """Requests allowed per window and key, shared by every endpoint (docs: per minute)."""

    def __init__(self, config: SimulatorConfig, time_fn: Any) -> None:
        self.config = config
        self.time = time_fn
        self.start = 0.0
        self.count = 0
        self.lock = threading.Lock()

    def take(self) -> tuple[dict[str, str], bool]:
        """Count one request; return the rate-limit headers and whether it is allowed."""
        limit = self.config.rate_limit
        if limit is None:
            return {}, True
        with self.lock:
            now = self.time()
            if now >= self.start + self.config.window_seconds:
                self.start, self.count = now, 0
            allowed = self.count < limit
            if allowed:
                self.count += 1
            reset = self.start + self.config.window_seconds
            in_ms = self.config.reset_unit == "ms"
            return {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(0, limit - self.count)),
                "X-RateLimit-Reset": str(math.ceil(reset * 1000) if in_ms else math.ceil(reset)),
            }, allowed


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
        self.window = RateWindow(self.config, time_fn)
        #: The rate windows of the other keys (the limit is per key).
        self._windows: dict[str, RateWindow] = {}
        self._time_fn = time_fn
        #: The key of the request each serving thread answers.
        self._current = threading.local()
        #: Ids of the calls served in this run (mutation rules may pick among them).
        self.served_call_ids: list[str] = []
        #: Derived data the endpoints rebuild only when the dataset changes.
        self.cache: dict[str, Any] = {}
        self.lock = threading.RLock()
        self._list_pages_served = 0
        self._quirk_answers: Counter[str] = Counter()
        self._fault_rng = random.Random(self.data.seed + 1)
        self._latency_rng = random.Random(self.data.seed + 2)

    def new_run(self) -> None:
        """Start counting pages and served calls afresh (mutation rules refer to one run)."""
        with self.lock:
            self._list_pages_served = 0
            self.served_call_ids = []

    def handle(
        self, path: str, query: str, authorization: str | None
    ) -> tuple[int, dict[str, str], Any, str]:
        """Answer one API request: (status, headers, JSON body or a fault's reply, endpoint)."""
        endpoint, params = route(path)
        name = endpoint.name if endpoint else "unknown"
        token = (authorization or "").partition(" ")[2]
        with self.lock:
            self.stats.tokens[token] += 1
        self._current.key = token
        headers, allowed = self._window_of(token).take()
        try:
            if not allowed:
                raise ApiError(429, "TOO_MANY_REQUESTS", "Rate limit exceeded, retry later")
            self._authorize(authorization)
            if endpoint is None:
                raise ApiError(404, "NOT_FOUND", f"Cannot GET {path}")
            fault = self._pick_fault(name)
            reply = fault.apply(headers) if fault is not None else None
            if reply is not None and not reply.wraps_answer:
                return reply.status, headers, reply, name
            asked = parse_qs(query, keep_blank_values=True)
            if reply is not None and reply.serve_page:
                asked = {**asked, "page": [str(reply.serve_page)]}
            body = self._answer(endpoint, name, asked, params)
            if reply is not None and reply.envelope is not None and isinstance(body, dict):
                body = {**body, **reply.envelope}
            if name == "list_calls":
                self._after_list_page()
            if reply is not None:  # the endpoint's answer: trickled, cut, recoded or grown
                if reply.pad_to is not None:
                    body = padded(body, reply.pad_to)
                reply.body = encode(body, reply.charset)
                if reply.encoding == "gzip":
                    reply.body = gzip.compress(reply.body, compresslevel=1)
                if reply.cut is not None:
                    reply.body = reply.body[: reply.cut]
                return reply.status, headers, reply, name
            return 200, headers, body, name
        except ApiError as error:
            return error.status, headers, error.body, name

    def _answer(self, endpoint: Any, name: str, query: dict[str, list[str]], params: Any) -> Any:
        """The endpoint's answer, as its list quirk (if any) makes it."""
        quirk = self.config.list_quirk if name in self.config.quirk_endpoints else None
        if quirk is None:
            return endpoint.handler(self, query, **params)
        with self.lock:
            served = self._quirk_answers[name]
            self._quirk_answers[name] += 1
        return quirks.answer(quirk, lambda q: endpoint.handler(self, q, **params), query, served)

    def latency(self) -> float:
        """How long the next answer waits (``latency`` plus up to ``jitter``)."""
        with self.lock:
            return self.config.latency + self._latency_rng.uniform(0.0, self.config.jitter)

    def record(self, endpoint: str, query: str, status: int) -> None:
        with self.lock:
            self.stats.by_endpoint[endpoint] += 1
            self.stats.by_status[status] += 1
            self.stats.log.append((endpoint, query, status))

    def _window_of(self, token: str) -> RateWindow:
        if token == self.config.api_key or token not in self.config.more_keys:
            return self.window
        with self.lock:
            return self._windows.setdefault(token, RateWindow(self.config, self._time_fn))

    def scope(self) -> list[str] | None:
        """The workspaces the key of the request being answered reaches (None: all)."""
        key = getattr(self._current, "key", self.config.api_key)
        if key in self.config.more_keys:
            return self.config.more_keys[key]
        return self.config.scope

    def _authorize(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        keys = {self.config.api_key, *self.config.more_keys}
        if scheme.lower() != "bearer" or token not in keys:
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
        with self.lock:
            for fault in self.faults:
                if fault.should_fire(endpoint, self._fault_rng.random()):
                    return fault
        return None

    def _after_list_page(self) -> None:
        with self.lock:
            self._list_pages_served += 1
            for rule in self.mutations:
                if rule.done or rule.after_page != self._list_pages_served:
                    continue
                rule.done = True
                served = None
                if rule.among == "served":
                    served = sorted(set(self.served_call_ids))
                elif rule.among == "unserved":
                    served = sorted(set(self.data.calls) - set(self.served_call_ids))
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

    def control(self, method: str, path: str, body: Any) -> Any:
        """Handle ``/_sim/...`` (see :mod:`skipcall_simulator.control`)."""
        return control.handle(self, method, path, body)


def padded(body: Any, size: int) -> Any:
    """The answer grown to about ``size`` bytes: its first call's notes made that long."""
    grown = dict(body)
    rows = [dict(row) for row in grown.get("data") or []]
    if rows:
        rows[0]["notes"] = "x" * max(0, size - len(encode(body)))
    grown["data"] = rows
    return grown


def encode(body: Any, charset: str | None = None) -> bytes:
    """JSON as a Node server writes it: UTF-8, and a lone surrogate as its escape."""
    try:
        return json.dumps(body, ensure_ascii=False).encode(charset or "utf-8")
    except UnicodeEncodeError:  # a string the charset cannot hold: JSON.stringify escapes it
        return json.dumps(body, ensure_ascii=True).encode(charset or "utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK
    # would add ~40 ms to every small answer.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; the stats say what happened."""

    def _send(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes,
        trickle: float | None = None,
        charset: str | None = None,
        reply: Reply | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"application/json; charset={charset or 'utf-8'}")
        chunked = reply is not None and reply.chunked
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        if reply is not None and reply.encoding:
            self.send_header("Content-Encoding", reply.encoding)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if reply is not None and reply.short is not None:
            self._send_short(body[: reply.short], chunked=chunked)
            return
        if trickle is None:
            self.wfile.write(body)
            return
        for index in range(len(body)):  # a byte at a time, each well within a read timeout
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()
            time.sleep(trickle)

    def _send_short(self, sent: bytes, *, chunked: bool) -> None:
        """Part of a body announced whole, then the connection closes (a cut-off answer)."""
        if chunked:
            for start in range(0, len(sent), 4096):
                piece = sent[start : start + 4096]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        else:
            self.wfile.write(sent)
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

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
        wait = simulator.latency()
        if wait > 0:
            time.sleep(wait)
        # Counted before the answer leaves, so a client never sees a request not yet counted.
        simulator.record(endpoint, parts.query, 0 if isinstance(body, Reply) else status)
        try:
            if isinstance(body, Reply) and body.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if isinstance(body, Reply):
                extra = dict(body.headers or {})
                if extra.get("Location") == "":  # a redirect to the very same URL
                    extra["Location"] = self.path
                self._send(
                    body.status,
                    {**headers, **extra},
                    body.body or b"",
                    body.trickle,
                    body.charset,
                    reply=body,
                )
                return
            self._send(status, headers, encode(body))
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
