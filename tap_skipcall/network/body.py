"""An answer's JSON, parsed once however many hooks look at it."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import RetriableAPIError

if TYPE_CHECKING:
    import requests

_PARSED: weakref.WeakKeyDictionary[requests.Response, Any] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def json_body(response: requests.Response) -> Any:
    """The response's JSON, parsed once however many hooks look at it.

    Unparseable JSON (a truncated answer) is retried like a dropped connection.
    """
    with _LOCK:
        if response in _PARSED:
            return _PARSED[response]
    try:
        payload = response.json()
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
