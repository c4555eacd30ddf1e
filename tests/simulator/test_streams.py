"""Every stream against the simulator: records, schemas, 404s and request counts."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from skipcall_simulator import Fault, MutationRule
from tap_skipcall.freshness.walk import Walk, due_this_run
from tests.helpers import ALL_STREAMS, DEFAULT_STREAMS, run_tap, tap_config


def minimum_requests(sim, streams, page_size=100):
    """The fewest requests the API allows for these streams (it has no batch endpoints)."""
    data = sim.simulator.data
    calls = list(data.calls.values())
    pages = lambda n: max(1, math.ceil(n / page_size))  # noqa: E731
    known_contacts = {
        c["contact"]["id"] for c in calls if c["contact"] and not c["contact"]["isUnknown"]
    }
    sequences = {c["sequenceId"] for c in calls if c["sequenceId"]}
    cost = {
        "workspaces": 1,
        "workspace_members": sum(pages(len(m)) for m in data.members.values()),
        "users": pages(len(data.users)),
        "calls": pages(len(calls)),
        "call_recordings": len(calls),
        "call_transcriptions": sum(1 for r in data.recordings.values() if r["hasTranscription"]),
        "contacts": len(known_contacts),
        "sequence_contacts": sum(
            pages(len(set(data.sequences[s]["contactIds"]))) for s in sequences
        ),
        "stats_tag_repartition": 1,
        "stats_status_repartition": 1,
        "stats_teams": 1,
    }
    if "call_transcriptions" in streams and "call_recordings" not in streams:
        streams = [*streams, "call_recordings"]  # the parent is read to know hasTranscription
    if (
        set(streams) & {"call_recordings", "contacts", "sequence_contacts"}
        and "calls" not in streams
    ):
        streams = [*streams, "calls"]
    return sum(cost[s] for s in set(streams))


@pytest.fixture
def everything(make_simulator):
    sim = make_simulator(n_calls=700)
    result = run_tap(tap_config(sim, stats_start_date="2024-06-01"), select=ALL_STREAMS)
    return sim, result


@pytest.mark.slow
def test_every_stream_loads_what_the_api_holds(everything):
    sim, result = everything
    data = sim.simulator.data
    counts = Counter({s: len(r) for s, r in result.records_by_stream.items()})
    calls = list(data.calls.values())
    known_contacts = {
        c["contact"]["id"] for c in calls if c["contact"] and not c["contact"]["isUnknown"]
    }
    sequences = {c["sequenceId"] for c in calls if c["sequenceId"]}
    assert counts["workspaces"] == len(data.workspaces)
    assert counts["workspace_members"] == sum(len(m) for m in data.members.values())
    assert counts["users"] == len(data.users)
    assert counts["calls"] == len(calls)
    assert counts["call_recordings"] == len(data.recordings)
    assert counts["call_transcriptions"] == len(data.transcriptions)
    assert counts["contacts"] == len(known_contacts)
    assert counts["sequence_contacts"] == sum(
        len(set(data.sequences[s]["contactIds"])) for s in sequences
    )
    assert counts["stats_teams"] == len(data.workspaces)
    assert counts["stats_status_repartition"] == len({c["status"] for c in calls})
    assert counts["stats_tag_repartition"] == len({c["status"] for c in calls})


@pytest.mark.slow
def test_request_count_is_the_minimum_the_api_allows(everything):
    sim, _ = everything
    assert sim.simulator.stats.requests == minimum_requests(sim, ALL_STREAMS)
    by_endpoint = sim.simulator.stats.by_endpoint
    assert by_endpoint["recording"] == len(sim.simulator.data.calls)  # 404s included
    assert by_endpoint["transcription"] == len(sim.simulator.data.transcriptions)  # never wasted
    assert sim.simulator.stats.by_status[404] == len(sim.simulator.data.calls) - len(
        sim.simulator.data.recordings
    )


@pytest.mark.slow
def test_no_stream_drops_a_field_the_api_returned(everything):
    sim, result = everything
    data = sim.simulator.data
    truth = {
        "workspaces": {w["id"]: w for w in data.workspaces.values()},
        "users": {u["organizationMembershipId"]: u for u in data.users.values()},
        "contacts": data.contacts,
        "call_recordings": {r["id"]: r for r in data.recordings.values()},
        "call_transcriptions": {t["id"]: t for t in data.transcriptions.values()},
        "workspace_members": {m["id"]: m for ms in data.members.values() for m in ms},
    }
    for stream, expected in truth.items():
        for record in result.records(stream):
            key = record["organizationMembershipId"] if stream == "users" else record["id"]
            added = ("extra", "call_id", "workspace_id", "_sdc_deleted_at")  # by the tap
            merged = {k: v for k, v in record.items() if k not in added}
            merged.update(record.get("extra") or {})
            assert merged == expected[key], stream
            assert record.get("_sdc_deleted_at") is None  # none of these calls is deleted
    # Undocumented fields of users (role, workspaceIds) are kept in `extra`.
    assert all(set(r["extra"]) == {"role", "workspaceIds"} for r in result.records("users"))


@pytest.mark.slow
def test_records_match_their_schemas(everything):
    _, result = everything
    schemas = {m["stream"]: m["schema"] for m in result.messages if m["type"] == "SCHEMA"}
    assert set(schemas) == set(ALL_STREAMS)
    assert Counter(m["stream"] for m in result.messages if m["type"] == "SCHEMA") == Counter(
        dict.fromkeys(ALL_STREAMS, 1)
    )  # one SCHEMA per stream, not one per parent record
    for stream, records in result.records_by_stream.items():
        validator = jsonschema.Draft7Validator(schemas[stream])
        for record in records:
            assert list(validator.iter_errors(record)) == [], stream


@pytest.mark.slow
def test_child_records_carry_their_parent(everything):
    sim, result = everything
    for record in result.records("call_recordings"):
        assert sim.simulator.data.recordings[record["call_id"]]["id"] == record["id"]
    for record in result.records("call_transcriptions"):
        assert sim.simulator.data.transcriptions[record["call_id"]]["id"] == record["id"]
        assert record["transcript"] is None or all("confidence" in u for u in record["transcript"])
    members = {m["id"]: w for w, ms in sim.simulator.data.members.items() for m in ms}
    assert all(members[r["id"]] == r["workspace_id"] for r in result.records("workspace_members"))


def test_the_readme_stream_table_lists_every_stream_and_its_default():
    """The README's Streams table is held to the tap's one list of streams."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \|.*\| (yes|no) \|$", readme, flags=re.MULTILINE)
    assert [name for name, _ in rows] == ALL_STREAMS
    assert [name for name, default in rows if default == "yes"] == DEFAULT_STREAMS


def test_default_selection_leaves_out_per_call_streams(make_simulator):
    sim = make_simulator(n_calls=300)
    result = run_tap(tap_config(sim))
    assert set(result.records_by_stream) == set(DEFAULT_STREAMS)
    assert sim.simulator.stats.requests == minimum_requests(sim, DEFAULT_STREAMS)


def test_transcriptions_alone_still_read_recordings_but_emit_none(make_simulator):
    sim = make_simulator(n_calls=200)
    result = run_tap(tap_config(sim), select=["call_transcriptions"])
    assert set(result.records_by_stream) == {"call_transcriptions"}
    assert len(result.records("call_transcriptions")) == len(sim.simulator.data.transcriptions)
    assert sim.simulator.stats.requests == minimum_requests(sim, ["call_transcriptions"])


def test_incremental_run_reads_children_only_for_changed_calls(make_simulator):
    sim = make_simulator(n_calls=500)
    streams = ["calls", "call_recordings", "contacts", "sequence_contacts"]
    first = run_tap(tap_config(sim), select=streams)
    changed = sim.simulator.data.update_calls(12)
    before = Counter(sim.simulator.stats.by_endpoint)
    second = run_tap(tap_config(sim), select=streams, state=first.state)
    spent = Counter(sim.simulator.stats.by_endpoint) - before
    calls = [sim.simulator.data.calls[c] for c in changed]
    contacts = {c["contact"]["id"] for c in calls if c["contact"] and not c["contact"]["isUnknown"]}
    # Recordings whose transcription was still running are read again (the watch list).
    watched = {
        cid
        for cid, r in sim.simulator.data.recordings.items()
        if r["hasTranscription"] and r["transcriptionStatus"] not in ("COMPLETED", "FAILED")
    }
    assert first.state["bookmarks"]["call_recordings"]["unfinished"].keys() == watched
    assert sorted(second.ids()) == sorted(changed)
    assert spent["recording"] == len(set(changed) | watched)
    assert spent["get_contact"] == len(contacts)
    assert spent["list_calls"] == 1  # runs a moment apart: no share of the walk is due
    assert {r["call_id"] for r in second.records("call_recordings")} <= set(changed) | watched


def test_a_daily_walk_reads_the_list_once_and_each_due_contact_once(make_simulator, clock):
    """The contacts refresh reads its share of contacts, however many calls each one has."""
    sim = make_simulator(n_calls=900)
    data = sim.simulator.data
    streams = ["calls", "contacts"]
    first = run_tap(tap_config(sim), select=streams)
    clock.now += timedelta(days=1)
    before = Counter(sim.simulator.stats.by_endpoint)
    second = run_tap(tap_config(sim), select=streams, state=first.state)
    spent = Counter(sim.simulator.stats.by_endpoint) - before
    walk = Walk.from_state(first.state["bookmarks"]["calls"]["refresh_walk"], clock.now)
    due = due_this_run(walk, now=clock.now, interval=timedelta(days=1), period=timedelta(days=7))
    assert due is not None
    assert due.share == pytest.approx(1 / 6)
    known = {
        c["contact"]["id"]
        for c in data.calls.values()
        if c["contact"] and not c["contact"]["isUnknown"]
    }
    expected = {contact for contact in known if due.holds(contact)}
    assert 0 < len(expected) < len(known) / 4
    assert spent["get_contact"] == len(expected)  # each due contact once, no other
    assert sorted(second.ids("contacts")) == sorted(expected)
    assert spent["list_calls"] == 1 + math.ceil(len(data.calls) / 100)  # the sync's head, the walk
    after = second.state["bookmarks"]["calls"]["refresh_walk"]
    assert Walk.from_state(after, clock.now) == walk.after(due, clock.now)


def test_the_walk_meets_every_call_even_when_calls_leave_the_list_under_it(make_simulator, clock):
    """Calls hidden above the walk move the rows below up a page: it reads that page again."""
    sim = make_simulator(n_calls=1000, hide_deleted=True)
    streams = ["calls", "contacts"]
    first = run_tap(tap_config(sim), select=streams)
    clock.now += timedelta(days=1)
    sim.simulator.new_run()
    # The sync's own head is list page 1; the walk's pages follow.
    sim.simulator.mutations += [
        MutationRule(after_page=page, delete=30, among="served") for page in (3, 6)
    ]
    before = Counter(sim.simulator.stats.by_endpoint)
    run_tap(tap_config(sim), select=streams, state=first.state)
    spent = Counter(sim.simulator.stats.by_endpoint) - before
    listed = {cid for cid, call in sim.simulator.data.calls.items() if call["deletedAt"] is None}
    assert listed - set(sim.simulator.served_call_ids) == set()
    assert spent["list_calls"] == 1 + 10 + 2  # two pages read again


def test_a_reconciliation_gives_the_walk_its_contacts_without_reading_the_list_again(
    make_simulator, clock
):
    sim = make_simulator(n_calls=900)
    data = sim.simulator.data
    streams = ["calls", "contacts"]
    config = tap_config(sim, deletions_within_days=1)
    first = run_tap(config, select=streams)
    clock.now += timedelta(days=1)
    before = Counter(sim.simulator.stats.by_endpoint)
    second = run_tap(config, select=streams, state=first.state)
    spent = Counter(sim.simulator.stats.by_endpoint) - before
    assert len(second.ids()) == len(data.calls)  # a reconciliation: every call again
    pages = math.ceil(len(data.calls) / 100)
    assert spent["list_calls"] <= pages + 3  # the read and its head passes, no walk
    walk = Walk.from_state(first.state["bookmarks"]["calls"]["refresh_walk"], clock.now)
    due = due_this_run(walk, now=clock.now, interval=timedelta(days=1), period=timedelta(days=7))
    assert due is not None
    known = {
        c["contact"]["id"]
        for c in data.calls.values()
        if c["contact"] and not c["contact"]["isUnknown"]
    }
    assert spent["get_contact"] == len({c for c in known if due.holds(c)})
    after = second.state["bookmarks"]["calls"]["refresh_walk"]
    assert Walk.from_state(after, clock.now) == walk.after(due, clock.now)


def test_the_walk_reads_no_contact_of_a_call_older_than_start_date(make_simulator, clock):
    sim = make_simulator(n_calls=600)
    data = sim.simulator.data
    stamps = sorted(c["updatedAt"] for c in data.calls.values())
    start_date = stamps[len(stamps) // 2]
    config = tap_config(sim, start_date=start_date, contacts_max_age_days=2)
    first = run_tap(config, select=["calls", "contacts"])
    clock.now += timedelta(days=1)  # a two-day period: every contact is due each day
    before = Counter(sim.simulator.stats.by_endpoint)
    run_tap(config, select=["calls", "contacts"], state=first.state)
    spent = Counter(sim.simulator.stats.by_endpoint) - before
    synced = {
        c["contact"]["id"]
        for c in data.calls.values()
        if c["updatedAt"] >= start_date and c["contact"] and not c["contact"]["isUnknown"]
    }
    assert set(first.ids("contacts")) == synced
    assert spent["get_contact"] == len(synced)


@pytest.mark.parametrize("shape", ["data", "list", "envelope"])
def test_workspaces_in_every_plausible_shape(make_simulator, shape):
    sim = make_simulator(n_calls=10, n_workspaces=4, workspaces_shape=shape)
    result = run_tap(tap_config(sim), select=["workspaces"])
    assert sorted(result.ids("workspaces")) == sorted(sim.simulator.data.workspaces)
    assert sim.simulator.stats.by_endpoint["list_workspaces"] == 1


def test_a_stream_that_fails_hands_on_the_records_it_read_before_the_error(make_simulator):
    """Records are held for speed, never past the end of their stream's sync, even a failed one."""
    sim = make_simulator(n_calls=10, n_workspaces=3)
    sim.simulator.faults.append(Fault(kind="status", status=400, endpoint="list_members", skip=1))
    result = run_tap(tap_config(sim), select=["workspaces", "workspace_members"], expect_error=True)
    read = result.ids("workspaces")  # read before the error: written, in this run's output
    assert read
    assert {r["workspace_id"] for r in result.records("workspace_members")} == {read[0]}


def test_workspace_ids_narrow_workspaces_users_and_members(make_simulator):
    sim = make_simulator(n_calls=50, n_workspaces=3)
    wanted = sorted(sim.simulator.data.workspaces)[:1]
    result = run_tap(
        tap_config(sim, workspace_ids=wanted), select=["workspaces", "workspace_members", "users"]
    )
    assert result.ids("workspaces") == wanted
    assert {r["workspace_id"] for r in result.records("workspace_members")} == set(wanted)
    assert all(wanted[0] in r["extra"]["workspaceIds"] for r in result.records("users"))


def test_stats_window_and_granularity_are_sent(make_simulator):
    sim = make_simulator(n_calls=100)
    config = tap_config(
        sim, stats_start_date="2025-01-01", stats_end_date="2025-01-31", stats_granularity="week"
    )
    result = run_tap(config, select=["stats_tag_repartition", "stats_teams"])
    queries = {endpoint: q for endpoint, q, _ in sim.simulator.stats.log}
    assert "startDate=2025-01-01" in queries["tag_repartition"]
    assert "endDate=2025-01-31" in queries["tag_repartition"]
    assert "granularity=week" in queries["tag_repartition"]
    assert "period=custom" in queries["team_stats"]
    assert all(r["window_start"] == "2025-01-01" for r in result.records("stats_teams"))
    assert all(r["aggregate"]["totalCalls"] >= r["calls"] for r in result.records("stats_teams"))


def test_a_404_on_any_child_yields_no_rows_and_no_error(make_simulator):
    sim = make_simulator(n_calls=300)
    data = sim.simulator.data
    calls = list(data.calls.values())
    gone_transcription = next(iter(data.transcriptions))
    del data.transcriptions[gone_transcription]  # the recording still says hasTranscription
    gone_contact = next(
        c["contact"]["id"] for c in calls if c["contact"] and not c["contact"]["isUnknown"]
    )
    del data.contacts[gone_contact]
    gone_sequence = next(c["sequenceId"] for c in calls if c["sequenceId"])
    del data.sequences[gone_sequence]
    result = run_tap(
        tap_config(sim), select=["call_transcriptions", "contacts", "sequence_contacts"]
    )
    assert result.error is None
    assert gone_transcription not in {r["call_id"] for r in result.records("call_transcriptions")}
    assert len(result.records("call_transcriptions")) == len(data.transcriptions)
    assert gone_contact not in result.ids("contacts")
    assert gone_sequence not in {r["sequence_id"] for r in result.records("sequence_contacts")}
    not_found = Counter(e for e, _, status in sim.simulator.stats.log if status == 404)
    assert not_found["transcription"] == 1
    assert not_found["get_contact"] == 1
    assert not_found["sequence_contacts"] == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sequence_calls", "stats_date"),
    [("objects", "date-time"), ("ids", "date"), ("objects", None)],
)
def test_every_record_follows_its_schema_in_each_shape_the_docs_leave_open(
    make_simulator, sequence_calls, stats_date
):
    sim = make_simulator(n_calls=300, sequence_calls_shape=sequence_calls, stats_date=stats_date)
    result = run_tap(tap_config(sim, stats_start_date="2024-06-01"), select=ALL_STREAMS)
    schemas = {m["stream"]: m["schema"] for m in result.messages if m["type"] == "SCHEMA"}
    checked = Counter()
    for message in result.messages:
        if message["type"] != "RECORD":
            continue
        validator = jsonschema.Draft7Validator(
            schemas[message["stream"]], format_checker=jsonschema.FormatChecker()
        )
        errors = [e.message for e in validator.iter_errors(message["record"])]
        assert errors == [], message["stream"]
        checked[message["stream"]] += 1
    assert set(checked) == set(ALL_STREAMS)
    calls = [c for r in result.records("sequence_contacts") for c in r["calls"] or []]
    assert calls
    assert all(isinstance(c, str) == (sequence_calls == "ids") for c in calls)
