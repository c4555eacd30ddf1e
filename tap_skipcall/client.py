"""Shared REST plumbing: auth, the request budget, retries and readable errors."""

from __future__ import annotations

import json
import random
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import RESTStream

from tap_skipcall.pagination import EnvelopePaginator

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable

    from backoff.types import Details
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator

    from tap_skipcall.ratelimit import RequestBudget

#: The documented subscription errors, and what the user can do about each.
SUBSCRIPTION_ADVICE = {
    "SUBSCRIPTION_REQUIRED": "the organization needs an active Skipcall subscription",
    "PLAN_NOT_ELIGIBLE": "API access needs the STARTER, INTERMÉDIAIRE or EXPERT plan",
}


class SkipcallAPIError(FatalAPIError):
    """An answer the tap cannot get past: the message says what to fix."""


class BudgetedSession(requests.Session):
    """A session that waits for the shared request budget before every request."""

    def __init__(self, budget: RequestBudget) -> None:
        super().__init__()
        self.budget = budget

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send once the budget allows, then learn from the rate-limit headers."""
        self.budget.acquire()
        response = super().send(request, **kwargs)
        self.budget.observe(response.status_code, response.headers)
        return response


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


class SkipcallStream(RESTStream[Any]):
    """Base class for every Skipcall stream."""

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

    @property
    def url_base(self) -> str:
        """The API host; documented paths already start with ``/v1``."""
        return str(self.config.get("api_url", "https://api-public.skipcall.app")).rstrip("/")

    @cached_property
    def authenticator(self) -> BearerTokenAuthenticator:
        """Bearer API key, as documented."""
        return BearerTokenAuthenticator(token=self.config["api_key"])

    @property
    def http_headers(self) -> dict[str, str]:
        """Ask for JSON and say who is calling."""
        return {"Accept": "application/json", "User-Agent": self.user_agent}

    @cached_property
    def user_agent(self) -> str:
        """The configured user agent, or tap-skipcall's own."""
        from tap_skipcall import __version__

        return str(self.config.get("user_agent") or f"tap-skipcall/{__version__}")

    @property
    def requests_session(self) -> requests.Session:
        """The tap's one session, so that every stream draws on the same request budget."""
        return self._tap.http_session  # type: ignore[attr-defined,no-any-return]

    @property
    def timeout(self) -> int:
        """Seconds to wait for an answer before retrying."""
        return int(self.config.get("request_timeout", 60))

    # -- answers -----------------------------------------------------------------------

    def payload_of(self, response: requests.Response) -> Any:
        """The response's JSON, parsed once however many hooks look at it."""
        cached = getattr(self, "_payload_cache", None)
        if cached is not None and cached[0] is response:
            return cached[1]
        try:
            payload = response.json()
        except ValueError as error:
            msg = (
                f"Skipcall answered {self.path} with a body that is not valid JSON "
                f"(HTTP {response.status_code}, {len(response.content)} bytes): {error}"
            )
            raise RetriableAPIError(msg, response) from error
        self._payload_cache = (response, payload)
        return payload

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
            raise SkipcallAPIError(self._redact(self.explain_client_error(response)))
        self.check_payload(self.payload_of(response))

    def check_payload(self, payload: Any) -> None:
        """Refuse a well-formed JSON answer of the wrong shape (overridden per endpoint kind)."""
        if not isinstance(payload, dict):
            msg = (
                f"Skipcall answered {self.path} with an unexpected JSON "
                f"{type(payload).__name__} where an object was expected."
            )
            raise SkipcallAPIError(msg)

    def explain_client_error(self, response: requests.Response) -> str:
        """One sentence per documented 4xx: what happened and what to change."""
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
        if status == 403 and self.config.get("workspace_ids"):
            return (
                f"Skipcall refused access to {self.path} ({said}). Check that every id in "
                "`workspace_ids` is a workspace this API key can access."
            )
        if status == 403:
            return f"Skipcall refused access to {self.path} ({said})."
        if status == 400:
            return (
                f"Skipcall rejected the request to {self.path} as invalid ({said}). "
                "Check `page_size` (1-100), `workspace_ids` and `start_date`."
            )
        if status == 404:
            return (
                f"Skipcall answered {said} for {self.path}. Check `api_url`: it should be "
                "the API host only, such as https://api-public.skipcall.app."
            )
        return f"Skipcall answered {said} for {self.path}."

    def _redact(self, text: str) -> str:
        key = str(self.config.get("api_key") or "")
        return text.replace(key, "***") if len(key) >= 4 else text

    # -- retries -----------------------------------------------------------------------

    def backoff_max_tries(self) -> int:
        """Bounded: a persistent failure ends the sync with its cause instead of spinning."""
        return self.retry_max_tries

    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        """Exponential waits, except a 429 whose reset is known: the budget already waits."""
        attempt = 0
        exception = yield  # type: ignore[misc]
        while True:
            attempt += 1
            response = getattr(exception, "response", None)
            if response is not None and response.status_code == 429 and self._budget.knows_reset:
                delay = 0.0
            else:
                delay = min(self.retry_base_seconds * 2 ** (attempt - 1), self.retry_max_seconds)
            exception = yield delay

    def backoff_jitter(self, value: float) -> float:
        """Up to 25 % extra, so that parallel taps do not retry in step."""
        return value * random.uniform(1.0, 1.25)

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

    @property
    def _budget(self) -> RequestBudget:
        return self._tap.request_budget  # type: ignore[attr-defined,no-any-return]

    # -- records -----------------------------------------------------------------------

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


class SkipcallListStream(SkipcallStream):
    """A stream over a paginated list: ``{data, total, page, limit, totalPages}``."""

    #: Whether the endpoint takes ``workspaceIds`` (documented for calls and users).
    narrows_by_workspace: ClassVar[bool] = True

    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        """Page numbers from 1 to ``totalPages``."""
        return EnvelopePaginator(self.payload_of)

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

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The page's items (none for a parent the API says is not there)."""
        if response.status_code != 404:
            yield from self.payload_of(response)["data"]

    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """Page number and size; workspaces narrowed when configured."""
        params: dict[str, Any] = {
            "page": next_page_token or 1,
            "limit": self.config.get("page_size", 100),
        }
        if self.narrows_by_workspace and self.config.get("workspace_ids"):
            params["workspaceIds"] = ",".join(self.config["workspace_ids"])
        return params


class SkipcallChildStream(SkipcallStream):
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

    @property
    def emit_activate_version_messages(self) -> bool:
        """Never: a run sees only the children of changed parents."""
        return False

    def _write_schema_message(self) -> None:
        """Once per run. The SDK calls this for every parent record; the schema never changes."""
        if not self.__dict__.get("_schema_sent"):
            super()._write_schema_message()
            self._schema_sent = True

    @cached_property
    def _parents_read(self) -> set[Any]:
        return set()

    def wants(self, context: Context) -> bool:
        """Whether syncing this parent would cost a request worth making.

        Parents ask before handing a record to their children, because the SDK's
        per-record child sync costs milliseconds even when the child has nothing to do.
        """
        key = context.get(self.parent_key)
        return (
            (self.selected or self.has_selected_descendents)
            and key is not None
            and key not in self._parents_read
        )

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

    def get_new_paginator(self) -> None:
        """A single object: no pages."""
        return

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The object, or nothing on 404."""
        if response.status_code != 404:
            yield self.payload_of(response)


def dumps(value: Any) -> str:
    """Compact JSON for query parameters."""
    return json.dumps(value, separators=(",", ":"))
