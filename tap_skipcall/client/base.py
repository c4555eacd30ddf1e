"""The base class of every Skipcall stream: auth, one request builder, retries, errors.

Each concern it adds to the SDK's stream is a small object or module it hands the SDK's hooks
to: the retry policy (:mod:`.retries`), table versions (:mod:`.versions`), the shared
transport (:mod:`tap_skipcall.network.transport`), and the SDK's private methods
(:mod:`tap_skipcall.sdk_private`).
"""

from __future__ import annotations

import copy
import logging
import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import SchemaDirectory
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import RESTStream
from singer_sdk.streams.rest import PageContext

from tap_skipcall import __version__, logs, schemas, sdk_private
from tap_skipcall.client import versions
from tap_skipcall.client.retries import RetryPolicy
from tap_skipcall.errors import (
    SkipcallAPIError,
    error_detail,
    explain_client_error,
    redact,
)
from tap_skipcall.network.body import json_body
from tap_skipcall.run_context import RunContext

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence

    import requests
    from backoff.types import Details
    from singer_sdk import Tap
    from singer_sdk.helpers._batch import BatchConfig
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib import Catalog

    from tap_skipcall.network.transport import Transport
    from tap_skipcall.privacy import Privacy

#: The JSON schema of every stream, one file each in ``tap_skipcall/schemas``.
SCHEMAS = SchemaDirectory(schemas)
#: The API's version prefix, which every documented path already carries.
VERSION_PREFIX = "/v1"
#: With ``accounts``: the column every record carries, its account's name, first of its keys.
ACCOUNT_COLUMN = "skipcall_account"


def with_account_key(keys: Sequence[str]) -> tuple[str, ...]:
    """A stream's keys with the account column first (once)."""
    return (ACCOUNT_COLUMN, *(key for key in keys if key != ACCOUNT_COLUMN))


def api_base(api_url: str) -> str:
    """The API host the paths are joined to: ``api_url`` less trailing slashes and ``/v1``.

    The documented paths start with ``/v1``, and the docs site's own server entry ends with
    it, so users paste ``…/v1`` too.
    """
    base = str(api_url).strip().rstrip("/")
    while base.lower().endswith(VERSION_PREFIX):
        base = base[: -len(VERSION_PREFIX)].rstrip("/")
    return base


@sdk_private.records_without_selection_walk
class SkipcallStream(RESTStream[Any]):
    """Base class for every Skipcall stream; the tap hands each one the shared transport."""

    #: Records are parsed JSON already (no datetimes, bytes or Decimals to coerce), top-level
    #: fields the schema lacks are moved to ``extra`` by ``post_process`` and nested objects
    #: allow extra keys, so the SDK's per-record conformance would change nothing; it was the
    #: largest per-record cost in profiles.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    #: True for per-object endpoints where 404 means "nothing here" rather than an error.
    not_found_means_empty: ClassVar[bool] = False
    #: Read whole every run (a child: whole per parent): one table version, and
    #: ``ACTIVATE_VERSION`` after the last record (see :mod:`.versions`).
    read_whole: ClassVar[bool] = False

    #: Retry policy for 429, 5xx, timeouts and dropped connections (tests shorten it).
    retry_max_tries: ClassVar[int] = 6
    retry_base_seconds: ClassVar[float] = 1.0
    retry_max_seconds: ClassVar[float] = 30.0

    def __init__(
        self,
        tap: Tap,
        *,
        transport: Transport,
        run: RunContext | None = None,
        privacy: Privacy | None = None,
    ) -> None:
        self.transport = transport
        #: The account this stream reads and what it shares with the run's other accounts.
        self.run_context = run or RunContext()
        #: What personal data becomes before a record is written (None: as it is).
        self.privacy = privacy
        super().__init__(tap)
        logs.install(self.logger.name)
        if self.run_context.account is not None:
            self._own_account_column()
        if privacy is not None:
            vars(self)["schema"] = privacy.schema(self.name, self.schema)

    def _own_account_column(self) -> None:
        """With ``accounts``: ``skipcall_account`` in the schema and first of the keys.

        Two organisations may share ids (a user seen by two keys of one organisation): the
        account keeps their rows apart.
        """
        schema = copy.deepcopy(self.schema)
        schema.setdefault("properties", {})[ACCOUNT_COLUMN] = {
            "type": "string",
            "description": "The `accounts` entry (its `name`) this row was read for.",
        }
        vars(self)["schema"] = schema  # the class's schema is shared by every account
        self.primary_keys = with_account_key(self.primary_keys)

    @override
    def apply_catalog(self, catalog: Catalog) -> None:
        """The SDK's, and the account column among the keys whatever the catalog says."""
        super().apply_catalog(catalog)
        if self.run_context.account is not None:
            self.primary_keys = with_account_key(self.primary_keys)

    @override
    @property
    def emit_activate_version_messages(self) -> bool:
        """Never the SDK's way (before the records): see :attr:`versions_on`."""
        return False

    @property
    def versions_on(self) -> bool:
        """Whether full reads carry a table version and end with ``ACTIVATE_VERSION``."""
        return bool(self.config.get("emit_activate_version_messages"))

    @override
    def get_batch_config(self, config: Mapping[str, Any]) -> BatchConfig | None:
        """RECORD messages for a stream read whole when versions are on: BATCH rows carry none."""
        return None if self.read_whole and self.versions_on else super().get_batch_config(config)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The SDK's records; a top-level stream read whole gets one table version."""
        records = super().get_records(context)
        if self.parent_stream_type is not None:
            return records  # written within the parent's records
        if self.read_whole:
            records = versions.with_one_version(self, records)
        return self._handed_on_at_end(self._watched(records))

    def _watched(
        self, records: Iterable[dict[str, Any]], *, span: bool = True
    ) -> Iterator[dict[str, Any]]:
        """The records, the stream's requests, retries and waits counted as its own."""
        recorder = self.transport.recorder
        if recorder is None:
            yield from records
            return
        with recorder.streaming(self.name, span=span):
            yield from records

    def _handed_on_at_end(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The records; then every record the writer holds is written, even after an error.

        The tap's writer holds RECORD messages until another message comes
        (:mod:`tap_skipcall.output`): a stream ending in an error writes no STATE, and its
        last records would otherwise wait for the process to end.
        """
        try:
            yield from records
        finally:
            sdk_private.flush_messages(self)

    @override
    @property
    def url_base(self) -> str:
        """The API host; documented paths already start with ``/v1`` (see :func:`api_base`)."""
        return api_base(self.config["api_url"])

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
        return int(self.config["request_timeout"])

    @override
    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        """The SDK's lines that repeat the tap's final sentence, or say nothing, at DEBUG."""
        super().log(message, *args, level=logs.demoted(message, level), **kwargs)

    # -- retries -------------------------------------------------------------------------

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retries of this stream's requests (from the class's ``retry_*`` settings)."""
        return RetryPolicy(self.retry_max_tries, self.retry_base_seconds, self.retry_max_seconds)

    @override
    def backoff_max_tries(self) -> int:
        """Bounded: a persistent failure ends the sync with its cause instead of spinning."""
        return self.retry_max_tries

    @override
    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        """Exponential waits, except a 429 whose reset is known: the budget already waits."""
        return self.retry_policy.waits(self.transport.budget)

    @override
    def backoff_jitter(self, value: float) -> float:
        """Up to 25 % extra, so that parallel taps do not retry in step."""
        return RetryPolicy.jitter(value)

    @override
    def backoff_handler(self, details: Details) -> None:
        """At the first failure, what is retried and why; then one line per retry at DEBUG."""
        self.retry_policy.report(
            details, path=self.path, url_base=self.url_base, logger=self.logger
        )
        if self.transport.recorder is not None:
            self.transport.recorder.retrying(int(details.get("tries", 1)))

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

    # -- requests ------------------------------------------------------------------------

    def prepared_request(self, context: Context | None, token: Any) -> requests.PreparedRequest:
        """The request for this context and page token, built as the SDK builds its own.

        The one builder of the tap's requests: the SDK's (through ``get_http_request``), those
        started ahead and probes all come from it, so the URL a request started ahead is
        filed under is the URL the SDK later asks for.
        """
        http = self.get_http_request(
            page=PageContext(stream_context=context, next_page_token=token)
        )
        return self.build_prepared_request(
            method=http.method, url=http.url, params=http.encode_params(), headers=http.headers
        )

    @override
    def request_decorator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """The SDK's retrying request, or the answer to it if it was started ahead."""
        retrying = super().request_decorator(func)
        transport = self.transport

        def request(prepared: requests.PreparedRequest, context: Context | None) -> Any:
            ahead = transport.take(str(prepared.url))
            return ahead.result() if ahead is not None else retrying(prepared, context)

        return request

    @cached_property
    def send_with_retries(self) -> Callable[[requests.PreparedRequest, Context | None], Any]:
        """The SDK's own request with its retries, never an answer started ahead."""
        return super().request_decorator(sdk_private.sdk_request(self))

    def fetch_ahead(self, context: Context | None, token: Any = None) -> None:
        """Start now the request the SDK will make for this context and page token.

        The SDK's own request then takes its answer. Nothing happens when requests are not
        concurrent.
        """
        if not self.transport.concurrent:
            return
        prepared = self.prepared_request(context, token)
        send = self.send_with_retries

        def fetch() -> requests.Response:
            return self.answered_ahead(send(prepared, context), context)

        recorder = self.transport.recorder
        self.transport.ahead(
            str(prepared.url), recorder.carried(fetch, self.name) if recorder else fetch
        )

    def answered_ahead(
        self, response: requests.Response, context: Context | None
    ) -> requests.Response:
        """What to start once a request started ahead is answered (nothing by default)."""
        return response

    # -- records -----------------------------------------------------------------------

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Keep fields the schema does not declare in ``extra`` instead of dropping them.

        With ``accounts``, the row says whose it is.
        """
        account = self.run_context.account
        if account is not None:
            row[ACCOUNT_COLUMN] = account
        if self.transport.recorder is not None:
            self.transport.recorder.written(self.name, account)
        if not row.keys() <= self._declared_fields:  # the usual case checked without a set
            undeclared = row.keys() - self._declared_fields
            row["extra"] = {key: row.pop(key) for key in sorted(undeclared)}
        if self.privacy is not None:
            row = self.privacy.record(self.name, row, self.call_for_names)
        return row

    def call_for_names(self, call_id: str) -> dict[str, Any] | None:
        """A call this run did not read, for the names of the people on it (privacy)."""
        url = f"{self.url_base}{VERSION_PREFIX}/calls/{call_id}"
        prepared = self.build_prepared_request(method="GET", url=url, headers=self.http_headers)
        response = self.send_with_retries(prepared, None)
        if response.status_code == 404:
            return None
        payload = json_body(response)
        return payload if isinstance(payload, dict) else None

    @cached_property
    def _declared_fields(self) -> frozenset[str]:
        return frozenset(self.schema.get("properties", {}))
