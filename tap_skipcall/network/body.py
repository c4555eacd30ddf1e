r"""An answer's JSON, parsed once however many hooks look at it, and writable whatever it holds.

JSON may carry strings no UTF-8 can encode: a lone surrogate escape such as ``"\udc80"``
(half of an emoji cut in two by a client that wrote the note). The SDK's writer cannot
write those, so they become U+FFFD, the replacement character, as bytes that are not
UTF-8 do. Everything else is kept as the API sent it.
"""

from __future__ import annotations

import codecs
import json
import re
import threading
import weakref
from typing import TYPE_CHECKING, Any

import msgspec
from singer_sdk.exceptions import RetriableAPIError

if TYPE_CHECKING:
    import requests

_PARSED: weakref.WeakKeyDictionary[requests.Response, Any] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
_DECODE = msgspec.json.Decoder()
#: A code point left alone from a pair (a pair is joined into one character when parsed).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def json_body(response: requests.Response) -> Any:
    """The response's JSON, parsed once however many hooks look at it.

    Unparseable JSON (a truncated answer) is retried like a dropped connection.
    """
    with _LOCK:
        if response in _PARSED:
            return _PARSED[response]
    try:
        payload = parse(response.content, response.encoding)
    except ValueError as error:
        path = response.request.path_url.split("?")[0] if response.request else "the API"
        msg = (
            f"Skipcall answered {path} with a body that is not valid JSON "
            f"(HTTP {response.status_code}, {len(response.content)} bytes): {error}"
        )
        raise RetriableAPIError(msg, response) from error
    with _LOCK:
        _PARSED[response] = payload
    return payload


def parse(content: bytes, charset: str | None = None) -> Any:
    """JSON text as values the tap can write: unencodable code points become U+FFFD.

    msgspec reads UTF-8, fast and strictly; what it refuses (lone surrogates, ``NaN``, bytes
    that are not UTF-8) and text in another declared ``charset`` are read by the standard
    library, leniently, and cleaned.
    """
    try:
        if _is_utf8(charset):
            try:
                return _DECODE.decode(content)
            except msgspec.DecodeError:
                pass
            try:
                payload = json.loads(content)  # UTF-16 and UTF-32 are told by their bytes
            except UnicodeDecodeError:
                payload = json.loads(content.decode("utf-8", errors="replace"))
        else:
            payload = json.loads(content.decode(str(charset), errors="replace"))
    except RecursionError:
        msg = "nested too deeply to be a Skipcall answer"
        raise ValueError(msg) from None
    return writable(payload)


def _is_utf8(charset: str | None) -> bool:
    """Whether a declared charset is UTF-8 (or none, or one Python does not know)."""
    if not charset:
        return True
    try:
        return codecs.lookup(charset).name == "utf-8"
    except LookupError:
        return True


def writable(value: Any) -> Any:
    """The value with every lone surrogate replaced, in strings and in keys."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {writable(key): writable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [writable(item) for item in value]
    return value
