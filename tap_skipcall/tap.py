"""tap-skipcall: settings, validation and the list of streams."""

from __future__ import annotations

import ipaddress
import sys
from datetime import date, datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import requests
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_skipcall import streams
from tap_skipcall.client import BudgetedSession, SkipcallStream
from tap_skipcall.pagination import SORT_STYLES, parse_timestamp
from tap_skipcall.ratelimit import RequestBudget

MAX_PAGE_SIZE = 100
STATS_GRANULARITIES = ("hour", "day", "week", "month", "none")
SORT_STYLE_CHOICES = ("auto", *SORT_STYLES)

#: The tap's own settings. A fresh dict per ``to_dict()``: the SDK adds its built-in
#: settings into ``config_jsonschema`` in place.
SETTINGS = th.PropertiesList(
    th.Property(
        "api_key",
        th.StringType,
        required=True,
        secret=True,
        title="API key",
        description="Skipcall API key (sk_live_… or sk_test_…), from Settings > API Keys.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="Earliest `updatedAt` to sync on the first run (ISO 8601). "
        "Omit to sync the whole history.",
    ),
    th.Property(
        "api_url",
        th.StringType,
        default="https://api-public.skipcall.app",
        title="API URL",
        description="API host, without `/v1`. Plain http is only accepted for loopback "
        "addresses (a local simulator).",
    ),
    th.Property(
        "workspace_ids",
        th.ArrayType(th.StringType),
        title="Workspace IDs",
        description="Only sync these workspaces (sent as the comma-separated "
        "`workspaceIds`). Omit to sync every workspace the key can access.",
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=MAX_PAGE_SIZE),
        default=100,
        title="Page size",
        description="Items per list request (`limit`), 1 to 100.",
    ),
    th.Property(
        "request_timeout",
        th.IntegerType(minimum=1),
        default=60,
        title="Request timeout",
        description="Seconds to wait for an answer before retrying the request.",
    ),
    th.Property(
        "max_requests_per_minute",
        th.IntegerType(minimum=1),
        title="Max requests per minute",
        description="Send at most this many requests a minute, to leave part of the "
        "plan's limit (100 or 1000 a minute) to other integrations. The tap "
        "always pauses when X-RateLimit-Remaining reaches 0.",
    ),
    th.Property(
        "sort_style",
        th.StringType,
        default="auto",
        allowed_values=list(SORT_STYLE_CHOICES),
        title="Sort parameter style",
        description="How to encode `sort` in the query, which the API docs leave open: "
        "`deep_object` (sort[orderBy]=…), `json` (sort={…}), `flat` "
        "(orderBy=…&order=…), or `auto` to try them in that order.",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        title="User agent",
        description="User-Agent header to send (default: tap-skipcall/<version>).",
    ),
    th.Property(
        "stats_start_date",
        th.DateType,
        title="Stats start date",
        description="First day of the window the stats_* report streams cover "
        "(default: 30 days ago).",
    ),
    th.Property(
        "stats_end_date",
        th.DateType,
        title="Stats end date",
        description="Last day of the stats_* report window (default: today).",
    ),
    th.Property(
        "stats_granularity",
        th.StringType,
        default="day",
        allowed_values=list(STATS_GRANULARITIES),
        title="Stats granularity",
        description="Time buckets of the tag and status reports: hour, day, week, month or none.",
    ),
)


def config_problems(config: dict[str, Any]) -> list[str]:
    """Every problem in the settings, one clear sentence each, before any request is sent."""
    problems = []
    key = config.get("api_key")
    if not isinstance(key, str) or not key.strip():
        problems.append(
            "`api_key` is missing or empty: set it to your Skipcall API key "
            "(for example with TAP_SKIPCALL_API_KEY)."
        )
    elif key != key.strip():
        problems.append("`api_key` has leading or trailing spaces: paste the key alone.")
    start = config.get("start_date")
    if start is not None:
        try:
            datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        except ValueError:
            problems.append(
                f"`start_date` {str(start)[:40]!r} is not an ISO 8601 date or "
                "date-time, such as 2024-01-31 or 2024-01-31T00:00:00Z."
            )
    problems.extend(_url_problems(config.get("api_url", "https://api-public.skipcall.app")))
    size = config.get("page_size", 100)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        problems.append(
            f"`page_size` must be a whole number from 1 to {MAX_PAGE_SIZE} (got {size!r})."
        )
    for name in ("request_timeout", "max_requests_per_minute"):
        value = config.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            problems.append(f"`{name}` must be a whole number of at least 1 (got {value!r}).")
    ids = config.get("workspace_ids")
    if ids is not None and (
        not isinstance(ids, list)
        or not all(isinstance(i, str) and i.strip() and "," not in i for i in ids)
    ):
        problems.append(
            "`workspace_ids` must be a list of workspace ids (strings without "
            'commas), such as ["550e8400-e29b-41d4-a716-446655440000"].'
        )
    for name in ("stats_start_date", "stats_end_date"):
        value = config.get(name)
        if value is not None and not _is_date(value):
            problems.append(f"`{name}` {str(value)[:40]!r} is not a date such as 2024-01-31.")
    granularity = config.get("stats_granularity", "day")
    if granularity not in STATS_GRANULARITIES:
        problems.append(
            f"`stats_granularity` must be one of {', '.join(STATS_GRANULARITIES)} "
            f"(got {granularity!r})."
        )
    style = config.get("sort_style", "auto")
    if style not in SORT_STYLE_CHOICES:
        problems.append(
            f"`sort_style` must be one of {', '.join(SORT_STYLE_CHOICES)} (got {style!r})."
        )
    return problems


def _is_date(value: Any) -> bool:
    try:
        date.fromisoformat(str(value)[:10])
    except ValueError:
        return False
    return True


def _url_problems(url: Any) -> list[str]:
    parts = urlsplit(str(url))
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return [
            f"`api_url` {str(url)[:80]!r} is not an http(s) URL, such as "
            "https://api-public.skipcall.app."
        ]
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        return [
            f"`api_url` uses plain http to {parts.hostname}: the API key would travel "
            "unencrypted. Use https (plain http is accepted for loopback addresses only)."
        ]
    return []


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class StateError(ValueError):
    """The state given to the tap is not one it can resume from."""


def state_problem(state: Any, streams: set[str]) -> str | None:
    """One sentence on what is wrong with a state file, or None."""
    fix = (
        "Give tap-skipcall its own state (Meltano keeps one per extractor and loader "
        "pair) or start without one."
    )
    bookmarks = state.get("bookmarks", {}) if isinstance(state, dict) else None
    if not isinstance(bookmarks, dict) or not all(isinstance(b, dict) for b in bookmarks.values()):
        return f"The state is not a Singer state (no `bookmarks` object of streams). {fix}"
    if bookmarks and not set(bookmarks) & streams:
        names = ", ".join(sorted(bookmarks)[:5])
        return (
            f"The state holds bookmarks only for streams this tap does not have ({names}): "
            f"it looks like another tap's state. {fix}"
        )
    calls = bookmarks.get("calls", {})
    key, value = calls.get("replication_key"), calls.get("replication_key_value")
    if key not in (None, "updatedAt"):
        return (
            f"The state bookmarks calls by {key!r}, not `updatedAt`: it was written by "
            f"another tap or another version. {fix}"
        )
    if value is not None and parse_timestamp(value) is None:
        return (
            f"The state's calls bookmark {str(value)[:40]!r} is not an ISO 8601 timestamp: "
            f"it was written by another tap or another version. {fix}"
        )
    return None


class TapSkipcall(Tap):
    """Singer tap for the Skipcall Public API."""

    name = "tap-skipcall"
    config_jsonschema = SETTINGS.to_dict()
    #: msgspec encodes Singer messages several times faster than the default writer.
    message_writer_class = MsgSpecWriter

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Plain-sentence checks first (they never echo the key), then the JSON schema."""
        problems = config_problems(dict(self.config))
        if problems and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=problems)
        return problems or super()._validate_config(raise_errors=raise_errors)

    @cached_property
    def request_budget(self) -> RequestBudget:
        """The one budget every stream draws on."""
        return RequestBudget(self.config.get("max_requests_per_minute"))

    @cached_property
    def http_session(self) -> requests.Session:
        """One keep-alive session for every stream."""
        return BudgetedSession(self.request_budget)

    def load_state(self, state: dict[str, Any]) -> None:
        """Refuse, before any request, a state this tap did not write."""
        problem = state_problem(state, {stream.name for stream in self.streams.values()})
        if problem:
            raise StateError(problem)
        super().load_state(state)

    def discover_streams(self) -> list[SkipcallStream]:
        """The streams this tap offers."""
        return [
            stream_class(self)
            for stream_class in (
                streams.WorkspacesStream,
                streams.WorkspaceMembersStream,
                streams.UsersStream,
                streams.CallsStream,
                streams.CallRecordingsStream,
                streams.CallTranscriptionsStream,
                streams.ContactsStream,
                streams.SequenceContactsStream,
                streams.TagRepartitionStream,
                streams.StatusRepartitionStream,
                streams.TeamStatsStream,
            )
        ]


def cli() -> None:
    """Console entry point: API and network failures end in one line, not a traceback."""
    try:
        TapSkipcall.cli()
    except (
        FatalAPIError,
        RetriableAPIError,
        StateError,
        requests.exceptions.RequestException,
    ) as error:
        message = str(error)
        if isinstance(error, RetriableAPIError):
            message += " (gave up after retrying)"
        elif isinstance(error, requests.exceptions.RequestException):
            message = (
                f"Could not reach the Skipcall API ({type(error).__name__}), even after "
                f"retrying: {error}"
            )
        TapSkipcall.logger.error("tap-skipcall stopped: %s", message)
        sys.exit(1)


if __name__ == "__main__":
    cli()
