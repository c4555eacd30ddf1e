"""The dbt package (dbt/) over what the loaders write: the Meltano job, DuckDB, other warehouses.

The models' rows are checked against the simulator's truth: the live calls, every utterance
of their transcripts, and each rep's calls, connected calls and talk seconds per UTC day,
with calls soft-deleted (listed) and erased (found gone by a reconciliation) in the source.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.end_to_end.meltano_postgres import (
    ROOT,
    connection,
    meltano_run,
    meltano_run_into_duckdb,
)
from tests.end_to_end.test_deletions_postgres import faketime

#: dbt reads and writes the repository's transform/ project: its tests share one worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("transform")]
#: What the dbt package reads (`_select` as JSON): its end-to-end tests all load these.
STREAMS = '["calls.*", "call_recordings.*", "call_transcriptions.*", "users.*"]'
TRANSFORM = ROOT / "transform"


def dbt_command() -> str:
    """The dbt with every adapter the tests use (scripts/dbt_venv.sh installs it)."""
    command = os.environ.get("SKIPCALL_DBT") or str(ROOT / ".venv-dbt/bin/dbt")
    if not Path(command).exists():
        if os.environ.get("SKIPCALL_REQUIRE_E2E") == "1":
            pytest.fail("dbt is not installed: source scripts/dbt_venv.sh")
        pytest.skip("dbt is not installed: source scripts/dbt_venv.sh")
    return command


def moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def truth(sim) -> dict:
    """What the models should hold, from the simulator's data."""
    data = sim.simulator.data
    live = {cid: c for cid, c in data.calls.items() if not c["deletedAt"]}
    utterances = sum(
        len(t["transcript"] or [])
        for cid, t in data.transcriptions.items()
        if cid in live and t["status"] == "COMPLETED"
    )
    daily: Counter = Counter()
    connected: Counter = Counter()
    talk: Counter = Counter()
    for call in live.values():
        started, ended = moment(call["startedAt"]), moment(call["endedAt"])
        day = (started or moment(call["createdAt"])).astimezone(UTC).date().isoformat()
        key = (call["organizationMembershipId"], day)
        daily[key] += 1
        if call["status"] == "completed":
            connected[key] += 1
            if started and ended:  # dbt's datediff counts second boundaries crossed
                talk[key] += int(ended.replace(microsecond=0).timestamp()) - int(
                    started.replace(microsecond=0).timestamp()
                )
    return {
        "calls": set(live),
        "utterances": utterances,
        "daily": {k: (n, connected[k], talk[k]) for k, n in daily.items()},
    }


def test_the_meltano_job_builds_models_that_match_the_simulator(
    make_simulator, meltano, postgres, default_schema
):
    sim = make_simulator(n_calls=400)
    data = sim.simulator.data
    deleted = set(data.delete_calls(20))  # listed with deletedAt: their children go too
    state_id = uuid.uuid4().hex[:8]
    env = {
        "TAP_SKIPCALL__SELECT": STREAMS,
        "TAP_SKIPCALL_DELETIONS_WITHIN_DAYS": "1",
        "DBT_POSTGRES_HOST": postgres["host"],
        "DBT_POSTGRES_PORT": str(postgres["port"]),
        "DBT_POSTGRES_PASSWORD": postgres["password"],
        "DBT_POSTGRES_SCHEMA": f"models_{state_id}",
    }

    def job(days: int = 0) -> subprocess.CompletedProcess:
        if days:
            # The tap days ahead, dbt on the real clock: under libfaketime, CI's `dbt deps`
            # once kept the last run's link to the package and refused it (dbt 1.11.16).
            meltano_run(meltano, sim, postgres, state_id, prefix=faketime(days), **env)
            blocks = "dbt-postgres:deps dbt-postgres:build"
        else:
            blocks = "skipcall-to-postgres"  # the job, as the README gives it
        completed = meltano_run(meltano, sim, postgres, state_id, job=blocks, **env)
        assert "Done. PASS=30 WARN=0 ERROR=0 SKIP=0" in completed.stderr
        return completed

    job()
    erased = set(data.erase_calls(5))  # gone for good: only a reconciliation can tell
    job(days=2)  # past deletions_within_days: the whole list is read, ACTIVATE_VERSION sent
    expected = truth(sim)
    assert deleted
    assert erased
    assert not (deleted | erased) & expected["calls"]
    schema = env["DBT_POSTGRES_SCHEMA"]
    with connection(postgres, "skipcall") as conn:
        calls = {row[0] for row in conn.execute(f"SELECT call_id FROM {schema}.skipcall_calls")}
        utterances = conn.execute(
            f"SELECT count(*), count(DISTINCT call_id) FROM {schema}.skipcall_transcript_utterances"
        ).fetchone()
        daily = {
            (rep, day.isoformat()): (n, connected, talk)
            for rep, day, n, connected, talk in conn.execute(
                "SELECT rep_membership_id, call_day, calls, connected_calls, talk_seconds "
                f"FROM {schema}.skipcall_rep_daily"
            )
        }
        named = conn.execute(
            f"SELECT count(*) FROM {schema}.skipcall_calls WHERE rep_name IS NOT NULL"
        ).fetchone()[0]
        orphans = conn.execute(
            f"SELECT count(*) FROM {schema}.skipcall_transcript_utterances u "
            f"WHERE u.call_id NOT IN (SELECT call_id FROM {schema}.skipcall_calls)"
        ).fetchone()[0]
    assert calls == expected["calls"]  # 375: neither the 20 deleted nor the 5 erased
    assert utterances[0] == expected["utterances"] > 0
    assert orphans == 0
    assert daily == expected["daily"]
    assert named == len(calls)  # every rep is a known user in the simulator


def test_the_package_builds_on_duckdb_as_target_duckdb_loads_it(make_simulator, meltano, tmp_path):
    sim = make_simulator(n_calls=300)
    deleted = set(sim.simulator.data.delete_calls(10))
    database = tmp_path / "warehouse.duckdb"
    meltano_run_into_duckdb(meltano, sim, database, TAP_SKIPCALL__SELECT=STREAMS)
    built = dbt(["build"], "duckdb", DBT_DUCKDB_PATH=str(database))
    assert "Done. PASS=30 WARN=0 ERROR=0 SKIP=0" in built.stdout, built.stdout[-3000:]
    script = (
        "import duckdb, json, sys\n"
        "c = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(json.dumps([\n"
        "  [r[0] for r in c.sql('select call_id from analytics.skipcall_calls').fetchall()],\n"
        "  c.sql('select count(*) from analytics.skipcall_transcript_utterances').fetchone()[0],\n"
        "  c.sql('select sum(calls) from analytics.skipcall_rep_daily').fetchone()[0]]))\n"
    )
    python = Path(dbt_command()).parent / "python"
    answer = subprocess.run(
        [str(python), "-c", script, str(database)], capture_output=True, text=True, check=True
    )
    calls, utterances, counted = json.loads(answer.stdout)
    expected = truth(sim)
    assert set(calls) == expected["calls"]
    assert not deleted & set(calls)
    assert utterances == expected["utterances"] > 0
    assert counted == len(calls)


@pytest.mark.parametrize("warehouse", ["snowflake", "bigquery"])
def test_the_package_parses_for_snowflake_and_bigquery(warehouse):
    parsed = dbt(["parse"], warehouse)
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    manifest = json.loads((TRANSFORM / "target/manifest.json").read_text())
    models = {
        node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "model"
    }
    assert {"skipcall_calls", "skipcall_transcript_utterances", "skipcall_rep_daily"} <= models


def dbt(args: list[str], warehouse: str, **env: str) -> subprocess.CompletedProcess:
    """dbt in the repository's transform project, with the package installed (deps first)."""
    environment = {**os.environ, "DBT_PROFILES_DIR": str(TRANSFORM / "profiles" / warehouse), **env}
    for command in (["deps"], args):
        completed = subprocess.run(
            [dbt_command(), *command],
            cwd=TRANSFORM,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if completed.returncode != 0:
            return completed
    return completed
