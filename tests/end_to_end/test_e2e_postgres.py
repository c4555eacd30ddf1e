"""End to end: `meltano run tap-skipcall target-postgres` into a real PostgreSQL server.

Needs the `meltano` command (or MELTANO_BIN) and PostgreSQL's server binaries. Without
them the test is skipped, unless SKIPCALL_REQUIRE_E2E=1 (as in .ci/run), where a skip
would hide a missing install step and so fails instead.
"""

from __future__ import annotations

import glob
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers import ALL_STREAMS, DEFAULT_STREAMS, tap_config, visible_truth

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("SKIPCALL_REQUIRE_E2E") == "1"


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"end-to-end prerequisites missing: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    """initdb refuses root: run server commands as the `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _connection(server: dict, dbname: str):
    import psycopg

    return psycopg.connect(
        host=server["host"],
        port=server["port"],
        user=server["user"],
        password=server["password"],
        dbname=dbname,
        autocommit=True,
    )


@pytest.fixture(scope="module")
def postgres():
    """A server to load into: SKIPCALL_PG_HOST/PORT/USER/PASSWORD if set (a CI service),
    else a throwaway one started here with initdb and pg_ctl."""
    if os.environ.get("SKIPCALL_PG_HOST"):
        server = {
            "host": os.environ["SKIPCALL_PG_HOST"],
            "port": int(os.environ.get("SKIPCALL_PG_PORT", "5432")),
            "user": os.environ.get("SKIPCALL_PG_USER", "postgres"),
            "password": os.environ.get("SKIPCALL_PG_PASSWORD", "postgres"),
        }
        with _connection(server, "postgres") as conn:
            conn.execute("DROP DATABASE IF EXISTS skipcall")
            conn.execute("CREATE DATABASE skipcall")
        yield server
        return
    yield from _throwaway_server()


def _throwaway_server():
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = shutil.which("initdb") or (binaries[-1] if binaries else None)
    if initdb is None:
        _missing("PostgreSQL server binaries (initdb) not found")
    bin_dir = Path(initdb).parent
    # Not under pytest's tmp root: that is private to root, and the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="tap-skipcall-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-l",
                str(data / "server.log"),
                "-o",
                f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -F",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    server = {
        "host": "127.0.0.1",
        "port": port,
        "user": "postgres",
        "password": "unused-under-trust-auth",
    }
    try:
        with _connection(server, "postgres") as conn:
            conn.execute("CREATE DATABASE skipcall")
        yield server
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def meltano():
    command = os.environ.get("MELTANO_BIN") or shutil.which("meltano")
    if command is None:
        _missing("the `meltano` command was not found (set MELTANO_BIN)")
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    subprocess.run(
        [command, "install", "tap-skipcall", "target-postgres", "target-duckdb"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=900,
    )
    return command


def meltano_env(sim, postgres: dict, **env: str) -> dict[str, str]:
    """The environment that points Meltano's tap at a simulator and its loader at PostgreSQL."""
    config = tap_config(sim)
    return {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_SKIPCALL_API_URL": config["api_url"],
        "TAP_SKIPCALL_API_KEY": config["api_key"],
        "TARGET_POSTGRES_HOST": postgres["host"],
        "TARGET_POSTGRES_PORT": str(postgres["port"]),
        "TARGET_POSTGRES_USER": postgres["user"],
        "TARGET_POSTGRES_PASSWORD": postgres["password"],
        **env,
    }


def run_command(meltano: str, state_id: str) -> list[str]:
    return [meltano, "run", "--state-id-suffix", state_id, "tap-skipcall", "target-postgres"]


def calls_state(meltano: str, sim, postgres: dict, state_id: str) -> dict:
    """The calls state Meltano keeps for this state id (as the next run will get it)."""
    saved = subprocess.run(
        [meltano, "state", "get", f"dev:tap-skipcall-to-target-postgres:{state_id}"],
        cwd=ROOT,
        env=meltano_env(sim, postgres),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(saved.strip().splitlines()[-1])["singer_state"]["bookmarks"]["calls"]


def meltano_run(meltano: str, sim, postgres: dict, state_id: str, **env: str):
    """`meltano run tap-skipcall target-postgres` against a simulator; must succeed quietly."""
    config = tap_config(sim)
    completed = subprocess.run(
        run_command(meltano, state_id),
        cwd=ROOT,
        env=meltano_env(sim, postgres, **env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert config["api_key"] not in completed.stdout + completed.stderr
    return completed


def test_meltano_run_loads_every_default_stream_into_postgres(make_simulator, postgres, meltano):
    sim = make_simulator(n_calls=1500)
    state_id = uuid.uuid4().hex[:8]

    def rows() -> dict[str, tuple]:
        with _connection(postgres, "skipcall") as conn:
            return {
                row[0]: row[1:]
                for row in conn.execute(
                    'SELECT id, "updatedAt", notes, "deletedAt", contact FROM skipcall.calls'
                )
            }

    def table_counts() -> dict[str, int]:
        with _connection(postgres, "skipcall") as conn:
            return {
                table: conn.execute(f"SELECT count(*) FROM skipcall.{table}").fetchone()[0]
                for table in DEFAULT_STREAMS
            }

    meltano_run(meltano, sim, postgres, state_id)
    data = sim.simulator.data
    sequences = {c["sequenceId"] for c in data.calls.values() if c["sequenceId"]}
    assert table_counts() == {
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
    meltano_run(meltano, sim, postgres, state_id)
    assert sim.simulator.stats.by_endpoint["list_calls"] - before == 1  # incremental: one page
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
    with _connection(postgres, "skipcall") as conn:
        loaded = {
            table: conn.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
            for table in expected
        }
    assert loaded == expected
    assert sim.simulator.stats.requests == minimum_requests(sim, ALL_STREAMS)


def test_a_killed_meltano_run_resumes_and_loads_every_call_once(make_simulator, postgres, meltano):
    """SIGTERM to `meltano run` mid-backfill (as an orchestrator's timeout sends), then again.

    Meltano keeps the state the loader confirmed while the run went on (not what it emits
    once terminated). An SDK loader such as target-postgres confirms state every 5 minutes
    of records; this test shortens that to 3 s so that the kill lands after a few.
    """

    sim = make_simulator(n_calls=3000)
    state_id = uuid.uuid4().hex[:8]
    schema = f"killed_{state_id}"
    env = {
        "TAP_SKIPCALL__SELECT": json.dumps(["calls.*"]),
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
        "SKIPCALL_EAGER_LOADER": "1",
    }
    site = next((ROOT / ".meltano/loaders/target-postgres/venv/lib").glob("python*/site-packages"))
    hook = site / "skipcall_eager_loader.pth"
    hook.write_text(
        "import os, sys; exec(os.environ.get('SKIPCALL_EAGER_LOADER') and "
        "'from singer_sdk.target_base import Target; "
        "Target._MAX_RECORD_AGE_IN_MINUTES = 0.05' or '')\n"
    )
    try:
        _killed_then_resumed(meltano, sim, postgres, state_id, schema, env)
    finally:
        hook.unlink()


def _killed_then_resumed(meltano, sim, postgres, state_id, schema, env):
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
    with _connection(postgres, "skipcall") as conn:
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
        with _connection(postgres, "skipcall") as conn:
            loaded[how] = {
                table: sorted(
                    conn.execute(f"SELECT to_jsonb(t) - {SDC} FROM {schema}.{table} t").fetchall(),
                    key=str,
                )
                for table in DEFAULT_STREAMS
            }
    assert list(tmp_path.glob("skipcall-*.json.gz"))  # the batch run really wrote files
    assert {t: len(rows) for t, rows in loaded["batches"].items()} == {
        t: len(rows) for t, rows in loaded["records"].items()
    }
    assert loaded["batches"] == loaded["records"]
    assert len(loaded["records"]["calls"]) == 700
    assert bookmarks["batches"] == bookmarks["records"]  # the same state in both modes
    assert bookmarks["records"]["resume"] is None


#: The loader's own bookkeeping columns, which differ between any two loads.
SDC = (
    "ARRAY["
    + ", ".join(
        f"'_sdc_{name}'"
        for name in (
            "extracted_at",
            "received_at",
            "batched_at",
            "deleted_at",
            "sequence",
            "table_version",
            "sync_started_at",
        )
    )
    + "]"
)


def test_meltano_run_into_duckdb_answers_sql(make_simulator, meltano, tmp_path):
    """The embedded warehouse for newcomers: calls per status per week, no server."""
    sim = make_simulator(n_calls=500)
    database = tmp_path / "warehouse.duckdb"  # not skipcall.duckdb: the schema is skipcall
    completed = subprocess.run(
        [
            meltano,
            "run",
            "--state-id-suffix",
            uuid.uuid4().hex[:8],
            "tap-skipcall",
            "target-duckdb",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_SKIPCALL_API_URL": sim.url,
            "TAP_SKIPCALL_API_KEY": sim.simulator.config.api_key,
            "TARGET_DUCKDB_FILEPATH": str(database),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
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
