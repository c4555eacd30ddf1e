"""The base classes of every Skipcall stream: auth, retries, readable errors, pages."""

from __future__ import annotations

import logging
import random
import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from singer_sdk import metrics
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseAPIPaginator, PageNumberPaginator
from singer_sdk.streams import RESTStream

from tap_skipcall import __version__
from tap_skipcall.errors import SkipcallAPIError, error_detail, explain_client_error, redact
from tap_skipcall.sdk_private import NoSelectionWalk, SchemaOncePerRun
from tap_skipcall.transport import json_body

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable

    import requests
    from backoff.types import Details
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_skipcall.transport import Transport

DEFAULT_API_URL = "https://api-public.skipcall.app"
_Meter = TypeVar("_Meter", bound=metrics.Meter)


class SkipcallStream(NoSelectionWalk, RESTStream[Any]):
    """Base class for every Skipcall stream; the tap hands each one the shared transport."""

    #: Records are parsed JSON already (no datetimes, bytes or Decimals to coerce), top-level
    #: fields the schema lacks are moved to ``extra`` by ``post_process`` and nested objects
    #: allow extra keys, so the SDK's per-record conformance would change nothing; it was the
    #: largest per-record cost in profiles.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    #: Retry policy for 429, 5xx, timeouts and dropped connections (tests shorten it).
    retry_max_tries: ClassVar[int] = 6
    retry_base_seconds: ClassVar[float] = 1.0
    retry_max_seconds: ClassVar[float] = 30.0
    #: True for per-object endpoints where 404 means "nothing here" rather than an error.
    not_found_means_empty: ClassVar[bool] = False

    def __init__(self, tap: Tap, *, transport: Transport) -> None:
        self.transport = transport
        super().__init__(tap)

    @override
    @property
    def url_base(self) -> str:
        """The API host; documented paths already start with ``/v1``."""
        return str(self.config.get("api_url", DEFAULT_API_URL)).rstrip("/")

    @override
    @cached_property
    def authenticator(self) -> BearerTokenAuthenticator:
        """Bearer API key, as documented."""
        return BearerTokenAuthenticator(token=self.config["api_key"])

    @override
    @property
    def http_headers(self) -> dict[str, str]:
        """Ask for JSON and say who is calling."""
        return {"Accept": "application/json", "User-Agent": self.user_agent}

    @override
    @cached_property
    def user_agent(self) -> str:
        """The configured user agent, or tap-skipcall's own."""
        return str(self.config.get("user_agent") or f"tap-skipcall/{__version__}")

    @override
    @property
    def requests_session(self) -> requests.Session:
        """The session handed in by the tap, so that every stream shares one budget."""
        return self.transport.session

    @override
    @property
    def timeout(self) -> int:
        """Seconds to wait for an answer before retrying."""
        return int(self.config.get("request_timeout", 60))

    # -- answers -----------------------------------------------------------------------

    @override
    def validate_response(self, response: requests.Response) -> None:
        """Retry what can pass, stop on what cannot, with a sentence that says what to fix."""
        status = response.status_code
        if status == 429 or status >= 500:
            _, message = error_detail(response)
            detail = f": {message}" if message else ""
            msg = f"Skipcall answered HTTP {status} {response.reason} for {self.path}{detail}"
            raise RetriableAPIError(msg, response)
        if status == 404 and self.not_found_means_empty:
            return
        if status >= 400:
            sentence = explain_client_error(
                response, self.path, narrowed=bool(self.config.get("workspace_ids"))
            )
            raise SkipcallAPIError(redact(sentence, self.config.get("api_key")))
        self.check_payload(json_body(response))

    def check_payload(self, payload: Any) -> None:
        """Refuse a well-formed JSON answer of the wrong shape (overridden per endpoint kind)."""
        if not isinstance(payload, dict):
            msg = (
                f"Skipcall answered {self.path} with an unexpected JSON "
                f"{type(payload).__name__} where an object was expected."
            )
            raise SkipcallAPIError(msg)

    # -- requests made ahead ------------------------------------------------------------

    @override
    def request_decorator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """The SDK's retrying request, or the answer to it if it was started ahead."""
        retrying = super().request_decorator(func)
        transport = self.transport

        def request(prepared: requests.PreparedRequest, context: Context | None) -> Any:
            ahead = transport.take(str(prepared.url))
            return ahead.result() if ahead is not None else retrying(prepared, context)

        return request

    def fetch_ahead(self, context: Context | None, token: Any = None) -> None:
        """Start now the request the SDK will make for this context and page token.

        It is built as the SDK builds it (same URL, same retries); the SDK's own request
        then takes its answer. Nothing happens when requests are not concurrent.
        """
        if not self.transport.concurrent:
            return
        prepared = self.build_prepared_request(
            method="GET",
            url=self.get_url(context),
            params=self.get_url_params(context, token),
            headers=self.http_headers,
        )
        send = self.send_with_retries
        self.transport.ahead(str(prepared.url), lambda: send(prepared, context))

    @cached_property
    def send_with_retries(self) -> Callable[..., requests.Response]:
        """:meth:`send_and_check` with the SDK's retries, built once per stream."""
        return super().request_decorator(self.send_and_check)

    def send_and_check(
        self, prepared: requests.PreparedRequest, context: Context | None = None
    ) -> requests.Response:
        """One request as the SDK sends it: authenticated, timed out, validated."""
        response = self.requests_session.send(
            self.authenticator(prepared), timeout=self.timeout, allow_redirects=self.allow_redirects
        )
        self.validate_response(response)
        return response

    # -- retries -----------------------------------------------------------------------

    @override
    def backoff_max_tries(self) -> int:
        """Bounded: a persistent failure ends the sync with its cause instead of spinning."""
        return self.retry_max_tries

    @override
    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        """Exponential waits, except a 429 whose reset is known: the budget already waits."""
        attempt = 0
        exception = yield  # type: ignore[misc]
        while True:
            attempt += 1
            response = getattr(exception, "response", None)
            if (
                response is not None
                and response.status_code == 429
                and self.transport.budget.knows_reset
            ):
                delay = 0.0
            else:
                delay = min(self.retry_base_seconds * 2 ** (attempt - 1), self.retry_max_seconds)
            exception = yield delay

    @override
    def backoff_jitter(self, value: float) -> float:
        """Up to 25 % extra, so that parallel taps do not retry in step."""
        return value * random.uniform(1.0, 1.25)

    @override
    def backoff_handler(self, details: Details) -> None:
        """One readable warning per retry."""
        error = details.get("exception")
        response = getattr(error, "response", None)
        cause = f"HTTP {response.status_code}" if response is not None else type(error).__name__
        self.logger.warning(
            "Retrying %s in %.1f s after attempt %d of %d failed (%s).",
            self.path,
            details.get("wait", 0.0),
            details.get("tries", 0),
            self.retry_max_tries,
            cause,
        )

    # -- records -----------------------------------------------------------------------

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Keep fields the schema does not declare in ``extra`` instead of dropping them."""
        undeclared = row.keys() - self._declared_fields
        if undeclared:
            row["extra"] = {key: row.pop(key) for key in sorted(undeclared)}
        return row

    @cached_property
    def _declared_fields(self) -> frozenset[str]:
        return frozenset(self.schema.get("properties", {}))


class EnvelopePaginator(PageNumberPaginator):
    """``page`` from 1 until ``totalPages`` (or an empty page)."""

    def __init__(self) -> None:
        super().__init__(start_value=1)

    @override
    def has_more(self, response: requests.Response) -> bool:
        """More pages while this one is not the last announced one.

        An answer without ``totalPages`` (a bare list, a ``{data}`` wrapper) is one page.
        """
        if response.status_code == 404:
            return False
        payload = json_body(response)
        if not isinstance(payload, dict) or not payload.get("data"):
            return False
        total_pages = positive_int(payload.get("totalPages"))
        page = positive_int(payload.get("page")) or self.current_value
        return total_pages is not None and page < total_pages


def positive_int(value: Any, *, allow_zero: bool = False) -> int | None:
    """A count the API announced, or None if absent or not a count."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = int(value)
    return number if number > 0 or (allow_zero and number == 0) else None


class SkipcallListStream(SkipcallStream):
    """A stream over a paginated list: ``{data, total, page, limit, totalPages}``."""

    #: Whether the endpoint takes ``workspaceIds`` (documented for calls and users).
    narrows_by_workspace: ClassVar[bool] = True

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        """Page numbers from 1 to ``totalPages``."""
        return EnvelopePaginator()

    @override
    def check_payload(self, payload: Any) -> None:
        """The documented envelope, or a clear error naming what arrived instead."""
        super().check_payload(payload)
        if not isinstance(payload.get("data"), list):
            keys = ", ".join(sorted(payload)) or "nothing"
            msg = (
                f"Skipcall answered {self.path} without the documented `data` list "
                f"(got keys: {keys})."
            )
            raise SkipcallAPIError(msg)

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The page's items (none for a parent the API says is not there)."""
        if response.status_code != 404:
            yield from json_body(response)["data"]

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """Page number and size; workspaces narrowed when configured."""
        params: dict[str, Any] = {
            "page": next_page_token or 1,
            "limit": self.config.get("page_size", 100),
        }
        if self.narrows_by_workspace and self.config.get("workspace_ids"):
            params["workspaceIds"] = ",".join(self.config["workspace_ids"])
        return params


class SkipcallChildStream(SchemaOncePerRun, SkipcallStream):
    """A stream read per parent record: no per-parent state, never ACTIVATE_VERSION.

    Only parents emitted in this sync reach it, so an incremental run costs requests only
    for what changed; a target must therefore never treat one run as the whole table.
    """

    state_partitioning_keys: ClassVar[list[str]] = []
    #: Context key this stream is read for; each value is requested once per sync.
    parent_key: ClassVar[str]
    #: Record field that carries the parent's id (None: the record has it already).
    parent_field: ClassVar[str | None] = None
    #: A parent outside the key's scope, or without this child, answers 404: no rows.
    not_found_means_empty = True

    def __init__(self, tap: Tap, *, transport: Transport) -> None:
        super().__init__(tap, transport=transport)
        # One sync per parent: its SDK metrics and "Beginning sync" lines would be a few per
        # call. They go to a logger that shows them only when the tap runs at DEBUG.
        quiet = logging.getLogger(f"{self.metrics_logger.name}.per_parent")
        quiet.setLevel(
            logging.DEBUG if self.metrics_logger.isEnabledFor(logging.DEBUG) else logging.WARNING
        )
        self.metrics_logger = quiet

    @override
    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        """Per-parent chatter (sync started, no pages for a parent) at DEBUG."""
        super().log(
            message, *args, level=logging.DEBUG if level == logging.INFO else level, **kwargs
        )

    @override
    def get_record_counter(self, **kwargs: Any) -> metrics.Counter:
        """Counted as usual, logged at DEBUG."""
        return self._quiet(super().get_record_counter(**kwargs))

    @override
    def get_sync_timer(self) -> metrics.Timer:
        """Timed as usual, logged at DEBUG."""
        return self._quiet(super().get_sync_timer())

    @override
    def get_http_request_counter(self) -> metrics.Counter:
        """Counted as usual, logged at DEBUG."""
        return self._quiet(super().get_http_request_counter())

    def _quiet(self, meter: _Meter) -> _Meter:
        meter.logger = self.metrics_logger
        return meter

    @override
    @property
    def emit_activate_version_messages(self) -> bool:
        """Never: a run sees only the children of changed parents."""
        return False

    @cached_property
    def _parents_read(self) -> set[Any]:
        return set()

    @cached_property
    def wanted(self) -> bool:
        """Whether this stream or one below it is selected (fixed for the run)."""
        return bool(self.selected or self.has_selected_descendents)

    def wants(self, context: Context) -> bool:
        """Whether syncing this parent would cost a request worth making.

        Parents ask before handing a record to their children, because the SDK's
        per-record child sync costs milliseconds even when the child has nothing to do.
        """
        key = context.get(self.parent_key)
        return key is not None and key not in self._parents_read

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Records for this parent, unless it has none or was already read in this sync."""
        key = (context or {}).get(self.parent_key)
        if key is None or key in self._parents_read:
            return
        self._parents_read.add(key)
        for record in super().get_records(context):
            yield {self.parent_field: key, **record} if self.parent_field else record


class SkipcallObjectStream(SkipcallChildStream):
    """One object per parent (``GET /v1/<things>/{id}``); 404 means there is none."""

    @override
    def get_new_paginator(self) -> None:
        """A single object: no pages."""
        return

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The object, or nothing on 404."""
        if response.status_code != 404:
            yield json_body(response)
