"""End to end: `meltano run tap-skipcall target-postgres` into a real PostgreSQL server."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
import uuid

import pytest

from tests.end_to_end.meltano_postgres import (
    ROOT,
    calls_state,
    connection,
    loaded_rows,
    meltano_env,
    meltano_run,
    meltano_run_into_duckdb,
    run_command,
)
from tests.helpers import ALL_STREAMS, DEFAULT_STREAMS, visible_truth

pytestmark = pytest.mark.slow


def test_meltano_run_loads_every_default_stream_into_postgres(
    make_simulator, postgres, meltano, default_schema, tmp_path
):
    sim = make_simulator(n_calls=1500)
    state_id = uuid.uuid4().hex[:8]

    def rows() -> dict[str, tuple]:
        with connection(postgres, "skipcall") as conn:
            return {
                row[0]: row[1:]
                for row in conn.execute(
                    'SELECT id, "updatedAt", notes, "deletedAt", contact FROM skipcall.calls'
                )
            }

    def table_counts() -> dict[str, int]:
        with connection(postgres, "skipcall") as conn:
            return {
                table: conn.execute(f"SELECT count(*) FROM skipcall.{table}").fetchone()[0]
                for table in DEFAULT_STREAMS
            }

    # one run report per run, named by its start, as the README shows
    reports = {"TAP_SKIPCALL_RUN_REPORT_PATH": str(tmp_path / "reports/skipcall-{started_at}.json")}
    meltano_run(meltano, sim, postgres, state_id, **reports)
    data = sim.simulator.data
    sequences = {c["sequenceId"] for c in data.calls.values() if c["sequenceId"]}
    loaded_counts = table_counts()
    assert loaded_counts == {
        "workspaces": len(data.workspaces),
        "workspace_members": sum(len(m) for m in data.members.values()),
        "users": len(data.users),
        "calls": len(data.calls),
        "sequence_contacts": sum(len(set(data.sequences[s]["contactIds"])) for s in sequences),
    }
    loaded = rows()
    truth = visible_truth(sim)
    assert set(loaded) == set(truth)
    sample = next(iter(truth.values()))
    assert loaded[sample["id"]][1] == sample["notes"]
    assert loaded[sample["id"]][3] == sample["contact"]

    changed = set(data.update_calls(25)) | set(data.create_calls(4)) | set(data.delete_calls(2))
    before = sim.simulator.stats.by_endpoint["list_calls"]
    served = sim.simulator.stats.requests
    # the second with JSON logs, which Meltano's SDK log parser reads
    meltano_run(meltano, sim, postgres, state_id, TAP_SKIPCALL_LOG_FORMAT="json", **reports)
    assert sim.simulator.stats.by_endpoint["list_calls"] - before == 1  # incremental: one page
    first, second = [
        json.loads(path.read_text()) for path in sorted((tmp_path / "reports").glob("*.json"))
    ]
    assert first["outcome"] == second["outcome"] == "succeeded"
    assert {s["stream"]: s["records"] for s in first["streams"]} == loaded_counts
    assert first["totals"]["requests"] == served
    assert second["totals"]["requests"] == sim.simulator.stats.requests - served
    calls = next(s for s in second["streams"] if s["stream"] == "calls")
    assert calls["records"] == len(changed)
    assert (
        calls["bookmark"]["before"]
        == next(s for s in first["streams"] if s["stream"] == "calls")["bookmark"]["after"]
    )
    loaded = rows()
    truth = visible_truth(sim)
    assert set(loaded) == set(truth)
    for call_id in changed:
        assert loaded[call_id][1] == truth[call_id]["notes"]
        assert (loaded[call_id][2] is None) == (truth[call_id]["deletedAt"] is None)


def test_meltano_run_with_every_stream_selected_loads_them_all(make_simulator, postgres, meltano):
    from tests.simulator.test_streams import minimum_requests

    sim = make_simulator(n_calls=400)
    schema = "every_stream"
    meltano_run(
        meltano,
        sim,
        postgres,
        uuid.uuid4().hex[:8],
        TAP_SKIPCALL_STATS_START_DATE="2024-06-01",
        TAP_SKIPCALL__SELECT=json.dumps([f"{stream}.*" for stream in ALL_STREAMS]),
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
    )
    data = sim.simulator.data
    calls = list(data.calls.values())
    known = {c["contact"]["id"] for c in calls if c["contact"] and not c["contact"]["isUnknown"]}
    sequences = {c["sequenceId"] for c in calls if c["sequenceId"]}
    expected = {
        "workspaces": len(data.workspaces),
        "workspace_members": sum(len(m) for m in data.members.values()),
        "users": len(data.users),
        "calls": len(calls),
        "call_recordings": len(data.recordings),
        "call_transcriptions": len(data.transcriptions),
        "contacts": len(known),
        "sequence_contacts": sum(len(set(data.sequences[s]["contactIds"])) for s in sequences),
        "stats_tag_repartition": len({c["status"] for c in calls}),
        "stats_status_repartition": len({c["status"] for c in calls}),
        "stats_teams": len(data.workspaces),
    }
    with connection(postgres, "skipcall") as conn:
        loaded = {
            table: conn.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
            for table in expected
        }
    assert loaded == expected
    assert sim.simulator.stats.requests == minimum_requests(sim, ALL_STREAMS)


def killed_then_resumed(meltano, sim, postgres, state_id, env):
    """Kill `meltano run` mid-backfill, run it again, and find every call once."""
    site = next((ROOT / ".meltano/loaders/target-postgres/venv/lib").glob("python*/site-packages"))
    # One hook per pytest-xdist worker: each test removes only its own.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    hook = site / f"skipcall_eager_loader_{worker}.pth"
    hook.write_text(
        "import os, sys; exec(os.environ.get('SKIPCALL_EAGER_LOADER') and "
        "'from singer_sdk.target_base import Target; "
        "Target._MAX_RECORD_AGE_IN_MINUTES = 0.05' or '')\n"
    )
    try:
        _killed_then_resumed(meltano, sim, postgres, state_id, env)
    finally:
        hook.unlink()


def _killed_then_resumed(meltano, sim, postgres, state_id, env):
    schema = env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"]
    from skipcall_simulator import Fault

    slow = Fault(kind="slow", seconds=0.3, endpoint="list_calls", times=-1)
    sim.simulator.faults.append(slow)
    process = subprocess.Popen(
        run_command(meltano, state_id),
        cwd=ROOT,
        env=meltano_env(sim, postgres, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while sim.simulator.stats.by_endpoint["list_calls"] < 20 and time.monotonic() < deadline:
        assert process.poll() is None, "meltano ended before it could be killed"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    first_pages = sim.simulator.stats.by_endpoint["list_calls"]
    assert first_pages < 30  # killed mid-backfill (30 pages in all)
    sim.simulator.faults.clear()

    resume = calls_state(meltano, sim, postgres, state_id)["resume"]
    assert resume["rows_read"] >= 500  # the killed run's checkpoints reached Meltano
    pages_left = math.ceil((3000 - resume["rows_read"]) / 100)

    meltano_run(meltano, sim, postgres, state_id, **env)
    second_pages = sim.simulator.stats.by_endpoint["list_calls"] - first_pages
    assert second_pages <= pages_left + 2  # the head page and the overlap page
    with connection(postgres, "skipcall") as conn:
        count, distinct = conn.execute(
            f"SELECT count(*), count(DISTINCT id) FROM {schema}.calls"
        ).fetchone()
        loaded = {row[0] for row in conn.execute(f"SELECT id FROM {schema}.calls")}
    assert count == distinct == 3000
    assert loaded == set(visible_truth(sim))


def test_batch_files_load_the_same_rows_as_record_messages(
    make_simulator, postgres, meltano, tmp_path
):
    sim = make_simulator(n_calls=700)
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"file://{tmp_path}", "prefix": "skipcall-"},
    }
    loaded, bookmarks = {}, {}
    for how, env in (
        ("records", {}),
        ("batches", {"TAP_SKIPCALL_BATCH_CONFIG": json.dumps(batch_config)}),
    ):
        schema, state_id = f"{how}_{uuid.uuid4().hex[:6]}", uuid.uuid4().hex[:8]
        meltano_run(
            meltano, sim, postgres, state_id, TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema, **env
        )
        bookmarks[how] = calls_state(meltano, sim, postgres, state_id)
        loaded[how] = loaded_rows(postgres, schema, DEFAULT_STREAMS)
    assert list(tmp_path.glob("skipcall-*.json.gz"))  # the batch run really wrote files
    assert {t: len(rows) for t, rows in loaded["batches"].items()} == {
        t: len(rows) for t, rows in loaded["records"].items()
    }
    assert loaded["batches"] == loaded["records"]
    assert len(loaded["records"]["calls"]) == 700
    # The same state in both modes, but for the clock readings of when each run began.
    clockless = {
        how: {
            **{k: v for k, v in state.items() if k not in ("reconciled_at", "last_run_at")},
            "refresh_walk": {**state["refresh_walk"], "walked_at": None},
        }
        for how, state in bookmarks.items()
    }
    assert clockless["batches"] == clockless["records"]
    assert bookmarks["records"]["resume"] is None


def test_meltano_run_into_duckdb_answers_sql(make_simulator, meltano, tmp_path):
    """The embedded warehouse for newcomers: calls per status per week, no server."""
    sim = make_simulator(n_calls=500)
    database = tmp_path / "warehouse.duckdb"  # not skipcall.duckdb: the schema is skipcall
    meltano_run_into_duckdb(meltano, sim, database)
    query = (
        "SELECT status, date_trunc('week', CAST(createdat AS TIMESTAMP)) AS week, count(*) "
        "FROM skipcall.calls GROUP BY ALL ORDER BY ALL"
    )
    python = ROOT / ".meltano/loaders/target-duckdb/venv/bin/python"
    script = (
        "import duckdb, json, sys\n"
        "connection = duckdb.connect(sys.argv[1], read_only=True)\n"
        "rows = connection.sql(sys.argv[2]).fetchall()\n"
        "print(json.dumps(rows, default=str))"
    )
    answer = subprocess.run(
        [str(python), "-c", script, str(database), query],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(answer.stdout)
    assert sum(count for _, _, count in rows) == 500  # every call, none dropped
    truth = {}
    for call in sim.simulator.data.calls.values():
        truth[call["status"]] = truth.get(call["status"], 0) + 1
    by_status = {}
    for status, _, count in rows:
        by_status[status] = by_status.get(status, 0) + count
    assert by_status == truth
