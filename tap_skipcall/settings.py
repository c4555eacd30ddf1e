"""The tap's settings: their schema, and one plain sentence for each way to get one wrong."""

from __future__ import annotations

import difflib
import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from singer_sdk import typing as th

from tap_skipcall.accounts.settings import accounts_problems
from tap_skipcall.calls.order import SORT_STYLES
from tap_skipcall.client.base import api_base
from tap_skipcall.privacy import privacy_problems
from tap_skipcall.privacy.rules import FREE_TEXT as PRIVACY_FREE_TEXT
from tap_skipcall.privacy.rules import KINDS as PRIVACY_KINDS
from tap_skipcall.privacy.rules import PEOPLE as PRIVACY_PEOPLE
from tap_skipcall.values import calendar_date, parse_timestamp

DEFAULT_API_URL = "https://api-public.skipcall.app"

MAX_PAGE_SIZE = 100
MAX_CONCURRENT_REQUESTS = 32
#: Enough to use a 1,000-a-minute plan fully with answers up to about 400 ms (measured).
DEFAULT_CONCURRENT_REQUESTS = 8
#: Organisations read at the same time, with ``accounts``.
DEFAULT_CONCURRENT_ACCOUNTS = 4
#: Far above any page of calls (100 calls are about 40 kB), far below what fills memory.
DEFAULT_MAX_ANSWER_MEGABYTES = 64
STATS_GRANULARITIES = ("hour", "day", "week", "month", "none")
SORT_STYLE_CHOICES = ("auto", *SORT_STYLES)
LOG_FORMATS = ("text", "json")

#: The tap's own settings. A fresh dict per ``to_dict()``: the SDK adds its built-in
#: settings into ``config_jsonschema`` in place.
SETTINGS = th.PropertiesList(
    th.Property(
        "api_key",
        th.StringType,
        secret=True,
        title="API key",
        description="Skipcall API key (sk_live_… or sk_test_…), from Settings > API Keys. For "
        "several organisations, set `accounts` instead.",
    ),
    th.Property(
        "accounts",
        th.ArrayType(
            th.ObjectType(
                th.Property("name", th.StringType, required=True),
                th.Property("api_key", th.StringType, required=True, secret=True),
                th.Property("api_url", th.StringType),
                th.Property("workspace_ids", th.ArrayType(th.StringType)),
                th.Property("start_date", th.DateTimeType),
            )
        ),
        secret=True,
        title="Accounts",
        description="Several Skipcall organisations in one pipeline, instead of `api_key`: a "
        'list of {"name", "api_key", "api_url"?, "workspace_ids"?, "start_date"?}. `name` is a '
        "short slug (fr, client_acme) that every record carries in `skipcall_account`, a key "
        "column of every stream; each account's state is its own, and accounts are read side "
        "by side. Sensitive: keep it in .env (meltano config set stores it there).",
    ),
    th.Property(
        "max_concurrent_accounts",
        th.IntegerType(minimum=1, maximum=MAX_CONCURRENT_REQUESTS),
        default=DEFAULT_CONCURRENT_ACCOUNTS,
        title="Max concurrent accounts",
        description="With `accounts`: how many organisations are read at the same time, 1 to "
        "32. Each key has its own rate limit, request budget and `max_requests_per_minute`.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="Earliest `updatedAt` to sync on the first run: a date (2024-01-31) or a "
        "date-time, with an offset or without (read as UTC). Omit to sync the whole history.",
    ),
    th.Property(
        "api_url",
        th.StringType,
        default=DEFAULT_API_URL,
        title="API URL",
        description="API host; a trailing `/v1` is dropped (the tap adds it to every path). "
        "Plain http is only accepted for loopback addresses (a local simulator).",
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
        description="Seconds an answer may take, its body included, before it is dropped and "
        "the request retried.",
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
        "max_concurrent_requests",
        th.IntegerType(minimum=1, maximum=MAX_CONCURRENT_REQUESTS),
        default=DEFAULT_CONCURRENT_REQUESTS,
        title="Max concurrent requests",
        description="Requests in flight together, 1 to 32 (1: one at a time). They share the "
        "one request budget, so this speeds up a sync whose answers are slow, never past the "
        "plan's limit.",
    ),
    th.Property(
        "max_answer_megabytes",
        th.IntegerType(minimum=1),
        default=DEFAULT_MAX_ANSWER_MEGABYTES,
        title="Max answer megabytes",
        description="The largest answer read, in megabytes once decompressed: a page of 100 "
        "calls is well under one, so a larger answer (a compressed bomb, a runaway page) ends "
        "the run with one sentence instead of filling memory.",
    ),
    th.Property(
        "calls_pages_ahead",
        th.IntegerType(minimum=1, maximum=MAX_CONCURRENT_REQUESTS),
        title="Pages of calls ahead",
        description="During a first sync (a backfill), read up to this many pages of calls "
        "together, 1 to 32 (1: one after another). Each batch costs one more request, to check "
        "that no call moved while its pages were served. Default: chosen from the plan's rate "
        "(X-RateLimit-Limit over its window) and the first answer's time: as many as "
        "max_concurrent_requests when answers are slower than the plan's pace, else 1.",
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
        "deletions_within_days",
        th.IntegerType(minimum=0),
        default=7,
        title="Deletions within days",
        description="Calls deleted in Skipcall (also those the API no longer lists) are marked "
        "deleted in the warehouse within this many days: that often, a sync reads the whole "
        "calls list (one request per 100 calls, no child requests) and ends with "
        "ACTIVATE_VERSION. 0: never.",
    ),
    th.Property(
        "contacts_max_age_days",
        th.IntegerType(minimum=0),
        default=7,
        title="Contacts max age days",
        description="Contacts and sequence contacts (edited by a CRM, moving on in a sequence, "
        "with no call changing) are read again at least this often: sequences in rotation, "
        "and a seventh of the period apart (daily for 7) a sync reads the calls list (one "
        "request per 100 calls) to re-read the contacts whose turn it is. 0: only those of "
        "changed calls.",
    ),
    th.Property(
        "emit_activate_version_messages",
        th.BooleanType,
        default=True,
        title="Emit ACTIVATE_VERSION messages",
        description="Send ACTIVATE_VERSION after every complete read (workspaces, users, "
        "members every run; calls per deletions_within_days), so that loaders that act on it "
        "(target-postgres, target-snowflake) mark removed rows deleted; loaders that do not "
        "ignore it.",
    ),
    th.Property(
        "privacy_pseudonymize",
        th.ArrayType(th.StringType(allowed_values=list(PRIVACY_KINDS))),
        title="Privacy: pseudonymize",
        description="Replace these personal values by keyed pseudonyms (phone:…, name:…, "
        "email:…, url:…), the same everywhere (streams, accounts, runs) so that analysts can "
        "join on them: any of phone_numbers, names, emails, profile_urls. Needs privacy_key.",
    ),
    th.Property(
        "privacy_free_text",
        th.StringType,
        allowed_values=list(PRIVACY_FREE_TEXT),
        title="Privacy: free text",
        description="Calls' notes, transcripts, summaries and contacts' custom fields: keep "
        "(as written, the default), redact (phone numbers, e-mails and the names of the people "
        "on the call replaced by their pseudonyms) or drop (null; an utterance keeps its "
        "speaker, times and confidence). Needs privacy_key.",
    ),
    th.Property(
        "privacy_people",
        th.StringType,
        allowed_values=list(PRIVACY_PEOPLE),
        title="Privacy: people",
        description="Whose data the privacy settings cover: contacts (the people called, the "
        "default) or everyone (reps and users too: users, workspace members, calls' callers). "
        "Needs privacy_key.",
    ),
    th.Property(
        "privacy_phone_region",
        th.StringType,
        title="Privacy: phone region",
        description="How national phone numbers are read (in notes and transcripts too), to "
        "pseudonymise them in E.164: a two-letter region code (default FR).",
    ),
    th.Property(
        "privacy_key",
        th.StringType,
        secret=True,
        title="Privacy key",
        description="The secret key of the pseudonyms (HMAC-SHA-256), at least 16 characters: "
        "required as soon as any privacy setting is set. Keep it in .env; a new key gives new "
        "pseudonyms (reload the tables).",
    ),
    th.Property(
        "run_report_path",
        th.StringType,
        title="Run report path",
        description="Write a JSON report of every run here when it ends (succeeded, failed or "
        "interrupted): its outcome and error, each stream's records, requests, retries, "
        "rate-limit waits and bookmarks, the budget used, its warnings. `{started_at}` (the "
        "run's start) and $ENVIRONMENT_VARIABLES in the path are filled in: "
        "reports/skipcall-{started_at}.json keeps one report per run.",
    ),
    th.Property(
        "log_format",
        th.StringType,
        default="text",
        allowed_values=list(LOG_FORMATS),
        title="Log format",
        description="text (the default) or json: every stderr line one JSON object (level, "
        "ts, logger_name, message, and a progress line's stream, records, requests, "
        "eta_seconds), the SDK's METRIC lines included.",
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
        description="First day of the window the stats_* report streams cover: a date, or a "
        "date-time's day (default: 30 days ago).",
    ),
    th.Property(
        "stats_end_date",
        th.DateType,
        title="Stats end date",
        description="Last day of the stats_* report window: a date, or a date-time's day "
        "(default: today).",
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


def defaults() -> dict[str, Any]:
    """Each setting's default, from :data:`SETTINGS` (the one place defaults are written)."""
    return {
        name: spec["default"]
        for name, spec in SETTINGS.to_dict()["properties"].items()
        if "default" in spec
    }


def config_problems(given: dict[str, Any], *, needs_key: bool = True) -> list[str]:
    """Every problem in the settings, one clear sentence each, before any request is sent.

    ``needs_key``: a missing key is a problem (not for ``--about`` or ``--discover``).
    """
    problems = [
        f"`{name}` is null: leave it out to use the default ({default}), or give a value."
        for name, default in defaults().items()
        if name in given and given[name] is None
    ]
    config = {**defaults(), **{k: v for k, v in given.items() if v is not None}}
    if config.get("accounts") is not None:
        problems.extend(accounts_problems(config, config_problems, needs_key=needs_key))
        needs_key = False  # each account has its own
        config = {k: v for k, v in config.items() if k != "accounts"}
    key = config.get("api_key")
    if key is None and not needs_key:
        pass
    elif not isinstance(key, str) or not key.strip():
        problems.append(
            "`api_key` is missing or empty: set it to your Skipcall API key "
            "(for example with TAP_SKIPCALL_API_KEY), or `accounts` for several organisations."
        )
    elif key != key.strip():
        problems.append("`api_key` has leading or trailing spaces: paste the key alone.")
    elif not _header_text(key, ascii_only=True) or " " in key:
        problems.append(
            "`api_key` holds characters no API key has (spaces, line breaks or letters "
            "beyond ASCII): paste the key alone."
        )
    for name in ("emit_activate_version_messages",):
        if not isinstance(config.get(name), bool):
            problems.append(f"`{name}` must be true or false (got {config.get(name)!r}).")
    agent = config.get("user_agent")
    if agent is not None and not (isinstance(agent, str) and _header_text(agent)):
        problems.append(
            "`user_agent` must be text an HTTP header can carry (no line breaks, Latin-1 "
            f"letters only), such as my-company-elt/1.0 (got {str(agent)[:40]!r})."
        )
    start = config.get("start_date")
    if start is not None and parse_timestamp(start) is None:
        problems.append(
            f"`start_date` {str(start)[:40]!r} is not an ISO 8601 date or "
            "date-time, such as 2024-01-31, 2024-01-31T00:00:00 (read as UTC) or "
            "2024-01-31T00:00:00+01:00."
        )
    problems.extend(_url_problems(config["api_url"]))
    for name, highest in (
        ("page_size", MAX_PAGE_SIZE),
        ("max_concurrent_requests", MAX_CONCURRENT_REQUESTS),
        ("calls_pages_ahead", MAX_CONCURRENT_REQUESTS),
        ("max_concurrent_accounts", MAX_CONCURRENT_REQUESTS),
        ("request_timeout", None),
        ("max_requests_per_minute", None),
        ("max_answer_megabytes", None),
    ):
        value = config.get(name)
        if value is not None and not _whole_number(value, highest):
            limits = f"from 1 to {highest}" if highest else "of at least 1"
            problems.append(f"`{name}` must be a whole number {limits} (got {value!r}).")
    for name in ("deletions_within_days", "contacts_max_age_days"):
        days = config.get(name)
        if not _whole_number(days, None, lowest=0):
            problems.append(f"`{name}` must be a whole number of days, 0 for never (got {days!r}).")
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
        if value is not None and calendar_date(value) is None:
            problems.append(
                f"`{name}` {str(value)[:40]!r} is not a date such as 2024-01-31 "
                "(a date-time gives its day)."
            )
    granularity = config["stats_granularity"]
    if granularity not in STATS_GRANULARITIES:
        problems.append(
            f"`stats_granularity` must be one of {', '.join(STATS_GRANULARITIES)} "
            f"(got {granularity!r})."
        )
    style = config["sort_style"]
    if style not in SORT_STYLE_CHOICES:
        problems.append(
            f"`sort_style` must be one of {', '.join(SORT_STYLE_CHOICES)} (got {style!r})."
        )
    log_format = config["log_format"]
    if log_format not in LOG_FORMATS:
        problems.append(f"`log_format` must be text or json (got {log_format!r}).")
    report = config.get("run_report_path")
    if report is not None and (
        not isinstance(report, str) or not report.strip() or Path(report).expanduser().is_dir()
    ):
        problems.append(
            "`run_report_path` must name a file, such as "
            f"reports/skipcall-{{started_at}}.json (got {report!r})."
        )
    problems.extend(privacy_problems(config))
    return problems


def _whole_number(value: Any, highest: int | None, *, lowest: int = 1) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and lowest <= value <= (value if highest is None else highest)
    )


def _header_text(text: str, *, ascii_only: bool = False) -> bool:
    """Whether an HTTP header can carry this text as it is."""
    limit = 0x7F if ascii_only else 0xFF
    return all(0x20 <= ord(c) <= limit and ord(c) != 0x7F for c in text)


def _url_problems(url: Any) -> list[str]:
    if not isinstance(url, str):
        return [f"`api_url` must be text, such as {DEFAULT_API_URL} (got {url!r})."]
    try:
        parts = urlsplit(api_base(url))
        parts.port  # noqa: B018  (reading it checks it)
    except ValueError:
        parts = urlsplit("")
    if parts.query or parts.fragment:
        return [
            f"`api_url` {url[:80]!r} has a query or a fragment: give the API host only, such "
            f"as {DEFAULT_API_URL}."
        ]
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


def config_notes(config: dict[str, Any]) -> list[str]:
    """What the tap reads differently from how it was written, a line each (not errors)."""
    url = config.get("api_url")
    if isinstance(url, str) and api_base(url) != url.strip().rstrip("/"):
        return [
            f"`api_url` {url!r} is read as {api_base(url)}: the tap adds /v1 to every path itself."
        ]
    return []


def secret_values(config: Any, schema: dict[str, Any] | None = None) -> list[str]:
    """Every value of a setting the schema marks secret (an account's key inside `accounts`).

    What no report, span or log may show; a secret setting added later is covered too.
    """
    schema = SETTINGS.to_dict() if schema is None else schema
    found: list[str] = []
    if isinstance(config, list):
        for item in config:
            found += secret_values(item, schema.get("items") or {})
    elif isinstance(config, dict):
        for name, spec in (schema.get("properties") or {}).items():
            value = config.get(name)
            if spec.get("secret") and isinstance(value, str):
                found.append(value)
            elif value is not None:
                found += secret_values(value, spec)
    return found


def unknown_settings(config: dict[str, Any], known: set[str]) -> list[str]:
    """A warning for each setting the tap does not know, naming the one probably meant."""
    warnings = []
    for name in sorted(set(config) - known):
        guess = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f" Did you mean `{guess[0]}`?" if guess else ""
        warnings.append(f"Unknown setting `{name}` is ignored.{hint}")
    return warnings
