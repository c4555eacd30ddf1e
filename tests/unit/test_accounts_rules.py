"""Several organisations: the setting's sentences, the state side by side, the relay's gate."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta

import pytest
import singer_sdk.singerlib as singer

from tap_skipcall.accounts.relay import Relay
from tap_skipcall.accounts.settings import Account, accounts_in
from tap_skipcall.accounts.state import (
    accounts_state_problem,
    clock_moved,
    reconcile_together,
    starting_state,
    with_account_state,
)
from tap_skipcall.output import RecordsHeldWriter
from tap_skipcall.settings import config_problems

KEY = "sk_live_0123456789abcdef"


def entry(name: str = "fr", **more) -> dict:
    return {"name": name, "api_key": KEY, **more}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"accounts": [entry("fr"), entry("de")]}, None),
        (
            {"accounts": [entry("fr", api_url="http://127.0.0.1:8765", start_date="2024-01-01")]},
            None,
        ),
        ({"accounts": [entry()], "api_key": KEY}, "`api_key` and `accounts` are both set"),
        ({"accounts": []}, "`accounts` must be a list of organisations"),
        ({"accounts": {"fr": KEY}}, "`accounts` must be a list of organisations"),
        ({"accounts": ["fr"]}, "`accounts` entry 1 must be an object with `name` and `api_key`"),
        ({"accounts": [{"api_key": KEY}]}, "entry 1: `name` must be a short slug"),
        ({"accounts": [entry("Acme Corp")]}, "(got 'Acme Corp')"),
        ({"accounts": [entry("fr"), entry("fr")]}, "entry 2 (fr): two accounts are named fr"),
        ({"accounts": [{"name": "fr"}]}, "entry 1 (fr): `api_key` is missing or empty"),
        ({"accounts": [entry(apikey=KEY)]}, "has `apikey`, which an account does not take"),
        ({"accounts": [entry(page_size=10)]}, "the other settings are shared"),
        (
            {"accounts": [entry(api_url="http://api.example.com")]},
            "entry 1 (fr): `api_url` uses plain http to api.example.com",
        ),
        ({"accounts": [entry(workspace_ids="w1")]}, "entry 1 (fr): `workspace_ids` must be"),
        ({"accounts": [entry(start_date="soon")]}, "entry 1 (fr): `start_date` 'soon' is not"),
        ({"accounts": [entry(api_key=f" {KEY}")]}, "entry 1 (fr): `api_key` has leading or"),
        ({"accounts": [entry()], "max_concurrent_accounts": 0}, "`max_concurrent_accounts` must"),
        ({}, "`api_key` is missing or empty: set it to your Skipcall API key"),
    ],
    ids=[
        "two",
        "own-url-and-date",
        "both",
        "empty",
        "not-a-list",
        "not-an-object",
        "no-name",
        "not-a-slug",
        "twice",
        "no-key",
        "misspelled",
        "a-shared-setting",
        "plain-http",
        "workspaces",
        "date",
        "key-spaces",
        "concurrency",
        "neither",
    ],
)
def test_each_way_to_get_accounts_wrong_is_one_sentence(config, expected):
    problems = config_problems(config)
    if expected is None:
        assert problems == []
        return
    assert len(problems) == 1, problems
    assert expected in problems[0]
    assert KEY not in problems[0]  # a key is never echoed


def test_each_account_has_its_own_settings_over_the_shared_ones():
    shared = {"accounts": [entry("fr", api_url="http://127.0.0.1:1")], "page_size": 50}
    (account,) = accounts_in(shared) or []
    config = account.config({**shared, "max_concurrent_accounts": 2, "start_date": "2024-01-01"})
    assert config == {
        "api_key": KEY,
        "api_url": "http://127.0.0.1:1",
        "page_size": 50,
        "start_date": "2024-01-01",
    }
    assert accounts_in({"api_key": KEY}) is None  # api_key alone: no accounts at all


def at(day: int) -> str:
    return (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=day)).isoformat()


def calls_state(reconciled_day: int | None, *, bookmark: bool = True) -> dict:
    calls = {"replication_key": "updatedAt", "last_run_at": at(9)}
    if bookmark:
        calls["replication_key_value"] = at(8)
    if reconciled_day is not None:
        calls["reconciled_at"] = at(reconciled_day)
    return {"bookmarks": {"calls": calls}}


@pytest.mark.parametrize(
    ("states", "period", "together"),
    [
        ({}, 7, False),  # first syncs: nothing loaded yet to remove
        ({"fr": calls_state(5), "de": calls_state(6)}, 7, False),
        ({"fr": calls_state(1), "de": calls_state(6)}, 7, True),  # fr is due: both read whole
        ({"fr": calls_state(None), "de": calls_state(6)}, 7, True),  # fr never reconciled
        ({"fr": calls_state(None, bookmark=False), "de": calls_state(6)}, 7, False),
        ({"fr": calls_state(1)}, 0, False),  # deletions_within_days 0: never
    ],
    ids=["first-syncs", "none-due", "one-due", "one-never", "one-new", "never"],
)
def test_accounts_reconcile_together_when_any_is_due(states, period, together):
    now = datetime(2025, 1, 10, tzinfo=UTC)
    dates = {"fr": None, "de": None}
    assert reconcile_together(states, dates, now=now, period_days=period) is together


def test_the_run_state_holds_each_account_side_by_side():
    state, notes = starting_state({}, ["fr", "de"])
    assert state == {"accounts": {}}
    assert notes == []
    state = with_account_state(state, "fr", calls_state(1))
    state = with_account_state(state, "de", calls_state(2))
    state = with_account_state(state, "fr", calls_state(3))  # fr's entry replaced, de's kept
    assert state["accounts"]["de"] == calls_state(2)
    assert state["accounts"]["fr"] == calls_state(3)
    moved = clock_moved(state["accounts"]["fr"], datetime(2025, 2, 1, tzinfo=UTC))
    assert moved["bookmarks"]["calls"]["reconciled_at"] == "2025-02-01T00:00:00Z"
    assert moved["bookmarks"]["calls"]["replication_key_value"] == at(8)


def test_a_state_of_api_key_alone_or_of_gone_accounts_is_said_and_left():
    single = calls_state(1)
    state, notes = starting_state(single, ["fr"])
    assert state == {"accounts": {}}
    assert "written with `api_key` alone" in notes[0]
    state, notes = starting_state({"accounts": {"fr": {}, "old": calls_state(1)}}, ["fr"])
    assert state == {"accounts": {"fr": {}}}
    assert notes == ["The state's accounts old are no longer configured: their state is dropped."]


def test_an_account_entry_is_held_to_a_one_account_state_rules():
    bad = {"accounts": {"fr": {"bookmarks": {"calls": {"replication_key": "id"}}}}}
    problem = accounts_state_problem(bad, ["fr"], {"calls"})
    assert problem is not None
    assert problem.startswith("Account fr: The state bookmarks calls by")
    assert accounts_state_problem({"accounts": []}, ["fr"], {"calls"}) is not None
    assert accounts_state_problem({"accounts": {"fr": calls_state(1)}}, ["fr"], {"calls"}) is None


def relayed(messages: list[tuple[str, singer.Message]], accounts: list[str]) -> list[dict]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        relay = Relay(RecordsHeldWriter(), {"accounts": {}})
        writers = {name: relay.writer(name) for name in accounts}
        for account, message in messages:
            writers[account].write_message(message)
        for stream, version in sorted(relay.activations(accounts).items()):
            relay.activate(stream, version)
        relay.flush()
    out.flush()
    text = out.buffer.getvalue().decode()  # type: ignore[attr-defined]
    return [json.loads(line) for line in text.splitlines() if line]


def schema(stream: str) -> singer.SchemaMessage:
    return singer.SchemaMessage(
        stream=stream,
        schema={"properties": {"id": {"type": "string"}}},
        key_properties=["skipcall_account", "id"],
    )


def record(stream: str, account: str, ident: str, version: int | None = 7) -> singer.RecordMessage:
    return singer.RecordMessage(
        stream=stream, record={"skipcall_account": account, "id": ident}, version=version
    )


def test_the_relay_writes_a_schema_once_and_a_state_of_every_account():
    written = relayed(
        [
            ("fr", schema("users")),
            ("de", schema("users")),
            ("fr", record("users", "fr", "u1")),
            ("fr", singer.StateMessage(value={"bookmarks": {"calls": {"a": 1}}})),
            ("de", record("users", "de", "u1")),
            ("de", singer.StateMessage(value={"bookmarks": {"calls": {"b": 2}}})),
        ],
        ["fr", "de"],
    )
    assert [m["type"] for m in written] == ["SCHEMA", "RECORD", "STATE", "RECORD", "STATE"]
    assert written[-1]["value"] == {
        "accounts": {
            "fr": {"bookmarks": {"calls": {"a": 1}}},
            "de": {"bookmarks": {"calls": {"b": 2}}},
        }
    }
    # each STATE follows the records of its own account
    assert written[2]["value"]["accounts"] == {"fr": {"bookmarks": {"calls": {"a": 1}}}}


@pytest.mark.parametrize(
    ("activated", "written"),
    [
        ({"fr": 7, "de": 7, "it": 7}, [7]),  # every account read the table whole: once
        ({"fr": 7, "it": 7}, []),  # de's read failed: nobody's rows are touched
        ({"fr": 7, "de": 8, "it": 7}, []),  # versions that differ cannot be one activation
        ({}, []),
    ],
    ids=["all", "one-failed", "two-versions", "none"],
)
def test_a_table_is_activated_only_when_every_account_read_it_whole(activated, written):
    messages = [
        (name, singer.ActivateVersionMessage(stream="users", version=version))
        for name, version in activated.items()
    ]
    out = relayed(messages, ["fr", "de", "it"])
    assert [m["version"] for m in out if m["type"] == "ACTIVATE_VERSION"] == written


def test_accounts_are_named_and_carry_their_own_settings():
    account = Account("fr", {"name": "fr", "api_key": KEY, "start_date": None})
    assert account.config({"api_key": "shared?", "page_size": 10}) == {
        "api_key": KEY,
        "page_size": 10,
    }
