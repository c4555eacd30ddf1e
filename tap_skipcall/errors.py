"""Skipcall's error answers, turned into one sentence that says what to fix."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The documented subscription errors, and what the user can do about each.
SUBSCRIPTION_ADVICE = {
    "SUBSCRIPTION_REQUIRED": "the organization needs an active Skipcall subscription",
    "PLAN_NOT_ELIGIBLE": "API access needs the STARTER, INTERMÉDIAIRE or EXPERT plan",
}


class SkipcallAPIError(FatalAPIError):
    """An answer the tap cannot get past: the message says what to fix."""


class AnswerTooLarge(SkipcallAPIError):
    """An answer larger, once decompressed, than ``max_answer_megabytes``: not retried."""


class CutShort(requests.exceptions.ChunkedEncodingError):
    """An answer's body ended before its announced end: retried like a timeout."""


class CommandLineError(ValueError):
    """The command line asks for something the tap does not do: the message says what it does."""


class StateError(ValueError):
    """The state given to the tap is not one it can resume from."""


#: How the one sentence that ends a failed run begins.
STOPPED = "tap-skipcall stopped: "


def sentence_of(error: BaseException) -> str | None:
    """The sentence a run that ends with ``error`` is told with (None: not one the tap knows).

    Settings, the command line, the state, the API's answers and the network each end a run
    with a sentence that says what to fix; anything else is a bug, shown with its traceback.
    """
    from singer_sdk.exceptions import ConfigValidationError, RetriableAPIError

    if isinstance(error, ConfigValidationError):
        return "invalid settings: " + " ".join(error.errors or [str(error)])
    if isinstance(error, (CommandLineError, FatalAPIError, StateError)):
        return str(error)
    if isinstance(error, RetriableAPIError):
        return f"{str(error).rstrip('.')} (gave up after retrying)."
    if isinstance(error, requests.exceptions.RequestException):
        return network_sentence(error)
    return None


def error_detail(response: requests.Response) -> tuple[str | None, str | None]:
    """Code and message from any of the error shapes Skipcall may use (REFERENCE §2.5)."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    nested = body.get("error")
    if isinstance(nested, dict):
        body = {**body, **nested}
    code = body.get("code")
    message = body.get("message")
    if isinstance(message, list):
        message = "; ".join(str(part) for part in message)
    return (str(code) if code else None), (str(message) if message else None)


def explain_client_error(response: requests.Response, path: str, *, narrowed: bool) -> str:
    """One sentence per documented 4xx: what happened and what to change.

    ``narrowed`` says whether the user set ``workspace_ids`` (the usual cause of a 403).
    """
    status = response.status_code
    code, message = error_detail(response)
    said = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    if status == 401:
        return (
            f"Skipcall rejected the API key ({said}). Set `api_key` to a valid key "
            "(Skipcall > Settings > API Keys)."
        )
    if status == 403 and code in SUBSCRIPTION_ADVICE:
        return f"Skipcall refused access ({said}): {SUBSCRIPTION_ADVICE[code]}."
    if status == 403 and narrowed:
        return (
            f"Skipcall refused access to {path} ({said}). Check that every id in "
            "`workspace_ids` is a workspace this API key can access."
        )
    if status == 403:
        return f"Skipcall refused access to {path} ({said})."
    if status == 400:
        return (
            f"Skipcall rejected the request to {path} as invalid ({said}). "
            "Check `page_size` (1-100), `workspace_ids` and `start_date`."
        )
    if status == 404:
        return (
            f"Skipcall answered {said} for {path}. Check `api_url`: it should be "
            "the API host only, such as https://api-public.skipcall.app."
        )
    return f"Skipcall answered {said} for {path}."


def redact(text: str, secret: str | None) -> str:
    """The text without the secret (never echo an API key, even one the API quotes back)."""
    secret = secret or ""
    return text.replace(secret, "***") if len(secret) >= 4 else text


#: :func:`connection_failure`'s words for a request that ran past ``request_timeout``.
TIMED_OUT = "timed out"


def connection_failure(error: BaseException | None) -> str:
    """Why a connection failed, in a few plain words (the exception's text is long)."""
    text = str(error)
    for needle, words in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("getaddrinfo failed", "host name not found"),
        ("Temporary failure in name resolution", "host name not found"),
        ("timed out", TIMED_OUT),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
        ("Connection reset", "connection reset"),
        ("RemoteDisconnected", "connection closed without an answer"),
        ("Unable to connect to proxy", "the proxy does not answer"),
        ("Tunnel connection failed", "the proxy refused to connect onwards"),
    ):
        if needle in text:
            return words
    return type(error).__name__ if error is not None else "no answer"


def asking_for(request: Any) -> str:
    """What a request asked for, as a sentence names it: ``page 3 of /v1/calls``, a path."""
    url = getattr(request, "url", None)
    if not url:
        return "the API"
    parts = urlsplit(str(url))
    path = parts.path or "/"
    page = parse_qs(parts.query).get("page")
    return f"page {page[-1]} of {path}" if page and page[-1].isdigit() else path


#: The variables a proxy for each scheme comes from, in the order ``requests`` reads them.
PROXY_VARIABLES = {
    "https": ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"),
    "http": ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"),
}


def proxy_for(url: str, environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """The proxy requests to this URL go through, and the environment variable that set it.

    The proxy is named by its origin, never its password; None when requests go direct (no
    proxy, or the host in ``NO_PROXY``).
    """
    environ = os.environ if environ is None else environ
    if requests.utils.should_bypass_proxies(url, no_proxy=environ.get("NO_PROXY")):
        return None
    scheme = urlsplit(url).scheme.lower()
    for name in PROXY_VARIABLES.get(scheme, ()):
        value = environ.get(name, "").strip()
        if value:
            return origin_of_url(value if "://" in value else f"http://{value}"), name
    return None


def network_sentence(error: requests.exceptions.RequestException) -> str:
    """The one sentence a network failure ends a run with: what was asked, where, and why."""
    request = getattr(error, "request", None)
    origin = origin_of(error) or "the API"
    what = asking_for(request)
    if isinstance(error, CutShort):
        return (
            f"{error} on every try: the server, or something on the way (a proxy, a "
            "firewall), ends answers early; try again later, or lower `page_size` if it "
            "happens to large pages."
        )
    proxy = proxy_for(str(request.url)) if request is not None and request.url else None
    failure = connection_failure(error)
    if failure == TIMED_OUT:
        return (
            f"The Skipcall API at {origin} did not answer {what} in full within "
            "`request_timeout`, even after retrying: raise `request_timeout` if its answers "
            "are that slow, or check that this machine reaches it at full speed "
            f"({_route(proxy)})."
        )
    if proxy is not None:
        address, variable = proxy
        return (
            f"Could not reach the Skipcall API at {origin} through the proxy {address} (set "
            f"by {variable}) while asking for {what} ({failure}), even after retrying: check "
            f"that the proxy runs and lets this machine through, or fix {variable} (NO_PROXY "
            "lists the hosts to reach without it)."
        )
    return (
        f"Could not reach the Skipcall API at {origin} while asking for {what} ({failure}), "
        f"even after retrying: check `api_url` ({origin}) and that this machine can reach it "
        "(network, proxy, firewall)."
    )


def _route(proxy: tuple[str, str] | None) -> str:
    if proxy is None:
        return "network, proxy"
    return f"network, and the proxy {proxy[0]} set by {proxy[1]}"


def origin_of(error: BaseException) -> str | None:
    """The scheme, host and port the failed request went to, if known."""
    request = getattr(error, "request", None)
    url = getattr(request, "url", None)
    return origin_of_url(str(url)) if url else None


#: The port each scheme implies: ``https://host`` and ``https://host:443`` are one origin.
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of_url(url: str) -> str:
    """A URL's origin, ``scheme://host[:port]`` (the port only when not the scheme's own)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    try:
        port = parts.port
    except ValueError:
        port = None
    shown = f":{port}" if port is not None and port != DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{shown}"
