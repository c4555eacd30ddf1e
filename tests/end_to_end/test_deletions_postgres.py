"""End to end: deleted calls leave PostgreSQL within the period, live calls never do, and
BATCH files (local or in S3) load exactly what RECORD messages load.

The days pass for the tap under `faketime` (its clock moved forward, the simulator's not).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest

from tests.end_to_end.meltano_postgres import (
    calls_state,
    connection,
    loaded_rows,
    meltano_run,
)
from tests.helpers import DEFAULT_STREAMS

pytestmark = pytest.mark.slow
#: One day: every daily run then reconciles, and three days test the period.
PERIOD_DAYS = 1

#: Each list behaviour with each mode, and hard_delete on and off between them.
COMBINATIONS = [
    ("listed", "records", False),
    ("listed", "batches", True),
    ("hidden", "records", True),
    ("hidden", "batches", False),
]


def faketime(days: int) -> list[str]:
    """The command prefix that runs Meltano, the tap and the loader ``days`` days ahead."""
    if days == 0:
        return []
    if shutil.which("faketime") is None:
        if os.environ.get("SKIPCALL_REQUIRE_E2E") == "1":
            pytest.fail("faketime is not installed (apt-get install faketime)")
        pytest.skip("faketime is not installed (apt-get install faketime)")
    return ["faketime", "-f", f"+{days}d"]


def batch_env(root: str) -> dict[str, str]:
    config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": root, "prefix": "calls-"},
        "batch_size": 200,
    }
    return {"TAP_SKIPCALL_BATCH_CONFIG": json.dumps(config)}


def calls_table(postgres: dict, schema: str) -> dict[str, object]:
    """Every row of the calls table: id → its _sdc_deleted_at."""
    with connection(postgres, "skipcall") as conn:
        return dict(conn.execute(f'SELECT id, "_sdc_deleted_at" FROM {schema}.calls').fetchall())


@pytest.mark.parametrize(("listing", "mode", "hard_delete"), COMBINATIONS)
def test_a_multi_day_account_keeps_exactly_the_live_calls_live(
    make_simulator, postgres, meltano, tmp_path, listing, mode, hard_delete
):
    sim = make_simulator(n_calls=800, hide_deleted=listing == "hidden")
    data = sim.simulator.data
    state_id = uuid.uuid4().hex[:8]
    schema = f"deletions_{listing}_{mode}_{state_id}"
    env = {
        "TAP_SKIPCALL__SELECT": json.dumps(["calls.*"]),
        "TAP_SKIPCALL_DELETIONS_WITHIN_DAYS": str(PERIOD_DAYS),
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
        "TARGET_POSTGRES_HARD_DELETE": json.dumps(hard_delete),
    }
    if mode == "batches":
        env.update(batch_env(f"file://{tmp_path}"))
    deleted_on, soft_deleted = {}, set()
    for day in range(3):
        if day:
            data.update_calls(15)
            data.create_calls(5)
            for call_id in data.delete_calls(6):
                deleted_on[call_id], _ = day, soft_deleted.add(call_id)
            for call_id in data.erase_calls(2):
                deleted_on[call_id] = day
        meltano_run(meltano, sim, postgres, state_id, prefix=faketime(day), **env)
        rows = calls_table(postgres, schema)
        live_in_db = {cid for cid, deleted_at in rows.items() if deleted_at is None}
        live = {cid for cid, call in data.calls.items() if not call["deletedAt"]}
        assert live - live_in_db == set(), f"day {day}: live calls marked deleted"
        overdue = {cid for cid, on in deleted_on.items() if on <= day - PERIOD_DAYS}
        assert overdue & live_in_db == set(), f"day {day}: deleted calls still live"
        if listing == "listed":  # a listed deletion is marked by the sync that reads it
            assert soft_deleted & live_in_db == set(), f"day {day}"
        if hard_delete:
            assert overdue & set(rows) == set(), f"day {day}: hard_delete keeps rows"
        else:
            assert overdue <= set(rows) - live_in_db
    assert len(deleted_on) == 2 * 8
    assert calls_state(meltano, sim, postgres, state_id)["reconciled_at"]


@pytest.mark.parametrize("mode", ["records", "batches"])
def test_a_killed_meltano_run_resumes_and_loads_every_call_once(
    make_simulator, postgres, meltano, tmp_path, mode
):
    """SIGTERM to `meltano run` mid-backfill (as an orchestrator's timeout sends), then again.

    Meltano keeps the state the loader confirmed while the run went on (not what it emits
    once terminated). An SDK loader such as target-postgres confirms state every 5 minutes
    of records; this test shortens that to 3 s so that the kill lands after a few.
    """
    from tests.end_to_end.test_e2e_postgres import killed_then_resumed

    sim = make_simulator(n_calls=3000)
    state_id = uuid.uuid4().hex[:8]
    env = {
        "TAP_SKIPCALL__SELECT": json.dumps(["calls.*"]),
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": f"killed_{mode}_{state_id}",
        "SKIPCALL_EAGER_LOADER": "1",
    }
    if mode == "batches":
        env.update(batch_env(f"file://{tmp_path}"))
    killed_then_resumed(meltano, sim, postgres, state_id, env)


@pytest.fixture
def s3():
    """A local S3 (moto's server) on a free port of 127.0.0.1, with one bucket."""
    import boto3

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            **{
                "aws_access_key_id": "testing",
                "aws_secret_access_key": "testing",
                "region_name": "us-east-1",
            },
        )
        for _ in range(100):
            try:
                client.create_bucket(Bucket="skipcall-batches")
                break
            except Exception:
                time.sleep(0.1)
        yield client, env
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_batch_files_in_s3_load_the_same_rows_as_record_messages(
    make_simulator, postgres, meltano, s3
):
    client, aws = s3  # s3fs is in the tap's and the loader's venvs (the meltano fixture)
    sim = make_simulator(n_calls=700)
    loaded = {}
    for how, env in (
        ("records", {}),
        ("s3", {**aws, **batch_env("s3://skipcall-batches/runs")}),
    ):
        schema, state_id = f"{how}_{uuid.uuid4().hex[:6]}", uuid.uuid4().hex[:8]
        meltano_run(
            meltano, sim, postgres, state_id, TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema, **env
        )
        loaded[how] = loaded_rows(postgres, schema, DEFAULT_STREAMS)
    files = client.list_objects_v2(Bucket="skipcall-batches", Prefix="runs/")
    assert files.get("KeyCount", 0) > 0  # the batches really went through S3
    assert loaded["s3"] == loaded["records"]
    assert len(loaded["records"]["calls"]) == 700
