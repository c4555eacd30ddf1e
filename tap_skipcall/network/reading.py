"""An answer's body, read as a stream: within a size once decompressed, and whole or said not.

``requests`` reads a body into memory whole, inflating whatever the server compressed: a
megabyte of gzip can become a gigabyte. Here the session asks for the body as a stream and
reads it in blocks, decompressed as they come (urllib3 2.6 and later inflate a bounded block
at a time), until its end or a cap. A body past the cap is refused with one sentence: no
page of calls comes near it, and reading on would only cost memory. A body that ends before
the length it announced (or a chunked body broken off) is cut short: said with the bytes
received of those announced, and retried like a timeout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

from tap_skipcall.errors import AnswerTooLarge, CutShort, asking_for, origin_of_url

if TYPE_CHECKING:
    from urllib3 import BaseHTTPResponse

#: Bytes read (decompressed) at a time.
BLOCK = 1 << 16
MEGABYTE = 1 << 20


def read_within(response: requests.Response, cap_bytes: int) -> None:
    """Read the body of a streamed answer now, at most ``cap_bytes`` once decompressed.

    The body becomes the response's content, as ``requests`` would have read it.
    """
    raw: BaseHTTPResponse = response.raw
    blocks: list[bytes] = []
    size = 0
    try:
        for block in raw.stream(BLOCK, decode_content=True):
            size += len(block)
            if size > cap_bytes:
                response.close()
                raise AnswerTooLarge(too_large(response, cap_bytes))
            blocks.append(block)
    except ProtocolError as error:
        raise cut_short(response, error) from error
    except DecodeError as error:
        raise requests.exceptions.ContentDecodingError(error, request=response.request) from error
    except ReadTimeoutError as error:
        raise requests.exceptions.ReadTimeout(error, request=response.request) from error
    except SSLError as error:
        raise requests.exceptions.SSLError(error, request=response.request) from error
    # requests keeps a body read by hand here; nothing else reads it after.
    response._content = b"".join(blocks)
    response._content_consumed = True  # type: ignore[attr-defined]


def announced_length(response: requests.Response) -> int | None:
    """The body's length the answer announced (None: chunked, or no length given)."""
    value = response.headers.get("Content-Length", "")
    return int(value) if value.strip().isdigit() else None


def too_large(response: requests.Response, cap_bytes: int) -> str:
    """The sentence for an answer past the cap, naming its URL and its size."""
    on_wire = announced_length(response)
    wire = f" ({on_wire / MEGABYTE:,.1f} MB on the wire, compressed)" if on_wire else ""
    return (
        f"Skipcall answered {asking_for(response.request)} at "
        f"{origin_of_url(str(response.url))} with more than {cap_bytes / MEGABYTE:,.0f} MB once "
        f"decompressed{wire}, the most `max_answer_megabytes` allows: a page of 100 calls is "
        "well under a megabyte, so the tap does not read on (raise `max_answer_megabytes` only "
        "if your calls carry very long notes)."
    )


def cut_short(response: requests.Response, error: BaseException) -> CutShort:
    """The error of a body that ended before its announced end."""
    received = response.raw.tell() if response.raw is not None else 0
    announced = announced_length(response)
    of = f" of {announced:,} announced" if announced is not None else " (chunked, length unsaid)"
    message = (
        f"Skipcall's answer to {asking_for(response.request)} at "
        f"{origin_of_url(str(response.url))} was cut short: {received:,} bytes arrived{of} "
        f"before the connection closed ({type(error).__name__})"
    )
    return CutShort(message, request=response.request)
