"""Injected failures: what can go wrong, when it fires, and the answer it makes, in one place."""

from __future__ import annotations

import functools
import time
import zlib
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from skipcall_simulator.errors import ApiError


class FaultKind(StrEnum):
    """The failures a test can ask for."""

    STATUS = "status"  # an error status with the documented body
    DROP = "drop"  # the connection closes without an answer
    SLOW = "slow"  # the answer comes ``seconds`` late (a timeout, or a slow backend)
    BAD_JSON = "bad_json"  # a 200 whose body is cut off
    WRONG_SHAPE = "wrong_shape"  # a 200 of valid JSON in a shape the docs do not describe
    RATE_LIMIT = "rate_limit"  # a 429 with X-RateLimit-Remaining 0
    REDIRECT = "redirect"  # a 302 to ``location`` (another origin, or the same one)
    TRICKLE = "trickle"  # the answer's body, one byte every ``seconds``
    HEADERS = "headers"  # the usual answer with ``headers`` in place of the rate-limit ones
    REPLY = "reply"  # ``status``, ``headers`` and ``body`` exactly as given
    CUT = "cut"  # the usual answer cut after ``cut`` bytes (a dropped connection mid-body)
    RECODE = "recode"  # the usual answer in ``charset``, declared in Content-Type
    SHORT = "short"  # the whole answer's Content-Length, ``cut`` bytes of it, then a close
    BROKEN_CHUNKED = "broken_chunked"  # chunked, ``cut`` bytes of it, then a close mid-body
    GZIP_BOMB = "gzip_bomb"  # gzip that inflates to ``size`` bytes (about size/1000 sent)
    PAD = "pad"  # the usual answer grown to about ``size`` bytes (long notes), gzip if asked
    GZIP = "gzip"  # the usual answer, gzip-compressed (Content-Encoding: gzip)
    ENVELOPE = "envelope"  # the usual answer with ``envelope``'s fields over its own, and
    #: page ``serve_page`` served whatever page was asked (0: the page asked)


@dataclass
class Reply:
    """What the HTTP layer sends instead of the endpoint's answer (None fields: as usual)."""

    status: int = 200
    body: bytes | None = None
    drop: bool = False
    #: Extra headers (a redirect's Location).
    headers: dict[str, str] | None = None
    #: Seconds between two bytes of the body (None: all at once).
    trickle: float | None = None
    #: The endpoint's answer cut after this many bytes (None: whole).
    cut: int | None = None
    #: The endpoint's answer in this charset (None: UTF-8).
    charset: str | None = None
    #: Send only this many bytes of the endpoint's answer while announcing all of it
    #: (Content-Length, or chunks with no last one), then close the connection.
    short: int | None = None
    chunked: bool = False
    #: Content-Encoding of the body (the endpoint's answer compressed, or ``body`` as is).
    encoding: str | None = None
    #: Grow the endpoint's answer to about this many bytes (None: as it is).
    pad_to: int | None = None
    #: Fields laid over the answer's envelope (None: as it is), and the page served instead.
    envelope: dict[str, Any] | None = None
    serve_page: int = 0

    @property
    def wraps_answer(self) -> bool:
        """Whether it sends the endpoint's own answer, transformed."""
        return (
            self.trickle is not None
            or self.cut is not None
            or self.charset is not None
            or self.short is not None
            or self.pad_to is not None
            or self.envelope is not None
            or (self.encoding is not None and self.body is None)
        )


@dataclass
class Fault:
    """An injected failure: which endpoint, what kind, when and how often."""

    kind: FaultKind | str
    endpoint: str = "*"  # route name (list_calls, recording, ...) or "*"
    status: int = 500
    seconds: float = 0.0
    skip: int = 0  # let this many matching requests through first
    times: int = 1  # then fire this many times (-1: forever)
    probability: float | None = None  # or fire at random with this chance
    location: str = ""  # where a redirect sends the client (a path keeps the origin)
    headers: dict[str, str] | None = None  # the rate-limit headers a ``headers`` fault sends
    body: bytes = b""  # what a ``reply`` fault sends
    cut: int = 0  # where a ``cut`` fault cuts
    charset: str = "utf-8"  # what a ``recode`` fault encodes in
    size: int = 0  # what a ``gzip_bomb`` inflates to, or a ``pad`` answer grows to (bytes)
    envelope: dict[str, Any] | None = None  # an ``envelope`` fault's fields
    serve_page: int = 0  # an ``envelope`` fault serves this page (0: the one asked)
    encoding: str = ""  # "gzip": a ``pad`` answer is sent compressed
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        self.kind = FaultKind(self.kind)

    def should_fire(self, endpoint: str, rng_value: float) -> bool:
        """Count a matching request and say whether the fault fires on it."""
        if self.endpoint not in {"*", endpoint}:
            return False
        self.seen += 1
        if self.seen <= self.skip or (0 <= self.times <= self.fired):
            return False
        if self.probability is not None and rng_value >= self.probability:
            return False
        self.fired += 1
        return True

    def apply(self, headers: dict[str, str]) -> Reply | None:
        """Make the failure happen: raise an error answer, wait, or return what to send.

        None means the endpoint answers as usual (after a ``slow`` fault's wait).
        """
        if self.kind is FaultKind.RATE_LIMIT:
            headers["X-RateLimit-Remaining"] = "0"
            raise ApiError(429, "TOO_MANY_REQUESTS", "Rate limit exceeded, retry later")
        if self.kind is FaultKind.STATUS:
            code = HTTPStatus(self.status).phrase.upper().replace(" ", "_")
            raise ApiError(self.status, code, "Injected failure")
        if self.kind is FaultKind.SLOW:
            time.sleep(self.seconds)
            return None
        if self.kind is FaultKind.DROP:
            return Reply(drop=True)
        if self.kind is FaultKind.REDIRECT:
            return Reply(status=302, body=b"", headers={"Location": self.location})
        if self.kind is FaultKind.TRICKLE:
            return Reply(trickle=self.seconds)
        if self.kind is FaultKind.REPLY:
            headers.update(self.headers or {})
            return Reply(status=self.status, body=self.body)
        if self.kind is FaultKind.CUT:
            return Reply(cut=self.cut)
        if self.kind is FaultKind.RECODE:
            return Reply(charset=self.charset)
        if self.kind is FaultKind.SHORT:
            return Reply(short=self.cut)
        if self.kind is FaultKind.BROKEN_CHUNKED:
            return Reply(short=self.cut, chunked=True)
        if self.kind is FaultKind.GZIP_BOMB:
            return Reply(body=gzip_bomb(self.size), encoding="gzip")
        if self.kind is FaultKind.PAD:
            return Reply(pad_to=self.size, encoding=self.encoding or None)
        if self.kind is FaultKind.GZIP:
            return Reply(encoding="gzip")
        if self.kind is FaultKind.ENVELOPE:
            return Reply(envelope=dict(self.envelope or {}), serve_page=self.serve_page)
        if self.kind is FaultKind.HEADERS:
            for name in [h for h in headers if h.lower().startswith("x-ratelimit")]:
                del headers[name]
            headers.update(self.headers or {})
            return None
        if self.kind is FaultKind.BAD_JSON:
            return Reply(body=b'{"data": [{"id": "trunc')
        return Reply(body=b'{"items": [], "count": 0}')


@functools.lru_cache(maxsize=4)
def gzip_bomb(size: int) -> bytes:
    """A gzip body that inflates to ``size`` bytes: a JSON object's start, then blanks."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    parts = [compressor.compress(b'{"data": [' + b" " * 1024)]
    block = b" " * (1 << 20)
    left = size - 1034
    while left > 0:
        parts.append(compressor.compress(block[: min(left, len(block))]))
        left -= len(block)
    parts.append(compressor.flush())
    return b"".join(parts)
