"""End to end: personal data under control through Meltano into PostgreSQL and DuckDB.

The simulator's notes and transcripts name the people called. Loaded with
`privacy_free_text: redact` (and every kind pseudonymised), nothing of them reaches the
tables in clear, `dbt build` passes, and the models count calls per rep and per contact as
on clear data; then `meltano run skipcall-erase-deleted` removes the recordings and
transcriptions of deleted and erased calls. The same erasure runs on DuckDB.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.end_to_end.meltano_postgres import (
    ROOT,
    connection,
    meltano_run,
    meltano_run_into_duckdb,
    repository_env,
)
from tests.end_to_end.test_dbt_package import STREAMS, dbt, dbt_command
from tests.end_to_end.test_deletions_postgres import faketime

#: dbt reads and writes the repository's transform/ project: its tests share one worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("transform")]
KEY = "an-end-to-end-privacy-key-32-chr"
PRIVATE = {
    "TAP_SKIPCALL_PRIVACY_PSEUDONYMIZE": json.dumps(["phone_numbers", "names", "emails"]),
    "TAP_SKIPCALL_PRIVACY_FREE_TEXT": "redact",
    "TAP_SKIPCALL_PRIVACY_KEY": KEY,
    "TAP_SKIPCALL__SELECT": STREAMS,
}


def test_redacted_loads_build_and_erasure_removes_deleted_calls_transcripts(
    make_simulator, postgres, meltano, default_schema
):
    sim = make_simulator(n_calls=800, personal_text=True)
    data = sim.simulator.data
    with_transcript = [cid for cid, t in data.transcriptions.items() if t["transcript"]]
    half = len(with_transcript) // 2
    deleted = set(data.delete_calls(10, among=with_transcript[:half]))  # listed, deletedAt
    state_id = uuid.uuid4().hex[:8]
    models = f"models_{state_id}"
    env = {
        **PRIVATE,
        "TAP_SKIPCALL_DELETIONS_WITHIN_DAYS": "1",
        "DBT_POSTGRES_HOST": postgres["host"],
        "DBT_POSTGRES_PORT": str(postgres["port"]),
        "DBT_POSTGRES_PASSWORD": postgres["password"],
        "DBT_POSTGRES_SCHEMA": models,
    }
    built = meltano_run(meltano, sim, postgres, state_id, job="skipcall-to-postgres", **env)
    assert "Done. PASS=30 WARN=0 ERROR=0 SKIP=0" in built.stderr, built.stderr[-3000:]
    # The models count as on clear data: reps and contacts are ids, untouched.
    with connection(postgres, "skipcall") as conn:
        per_rep = dict(
            conn.execute(
                f"SELECT rep_membership_id, sum(calls) FROM {models}.skipcall_rep_daily GROUP BY 1"
            ).fetchall()
        )
        per_contact = dict(
            conn.execute(
                f"SELECT contact_id, count(*) FROM {models}.skipcall_calls GROUP BY 1"
            ).fetchall()
        )
    live = [c for c in data.snapshot_calls().values() if not c["deletedAt"]]
    clear_per_rep: dict = {}
    clear_per_contact: dict = {}
    for call in live:
        rep = call["organizationMembershipId"]
        clear_per_rep[rep] = clear_per_rep.get(rep, 0) + 1
        contact = call["contact"] or {}
        key = None if contact.get("isUnknown") else contact.get("id")
        clear_per_contact[key] = clear_per_contact.get(key, 0) + 1
    assert {rep: int(n) for rep, n in per_rep.items()} == clear_per_rep
    assert per_contact == clear_per_contact
    erased = set(data.erase_calls(5, among=with_transcript[half:]))  # gone for good
    meltano_run(meltano, sim, postgres, state_id, prefix=faketime(2), **env)  # reconciles
    with connection(postgres, "skipcall") as conn:
        calls = conn.execute('SELECT notes, contact, "phoneNumber" FROM skipcall.calls').fetchall()
        texts = conn.execute(
            "SELECT call_id, array_to_string(transcript, ' '), summary "
            "FROM skipcall.call_transcriptions"
        ).fetchall()
    blob = json.dumps([*calls, *texts], default=str).lower()
    for contact in data.contacts.values():
        assert contact["lastName"].lower() not in blob
        for number in contact["phoneNumbers"]:
            assert number not in blob
    assert "phone:" in blob  # pseudonyms, not nothing
    # Deleted and erased calls keep their transcripts in the raw table, until erasure.
    transcribed = {row[0] for row in texts}
    assert deleted & transcribed
    assert erased & transcribed
    completed = subprocess.run(
        [meltano, "run", "skipcall-erase-deleted"],
        cwd=ROOT,
        env=repository_env(
            DBT_POSTGRES_HOST=postgres["host"],
            DBT_POSTGRES_PORT=str(postgres["port"]),
            DBT_POSTGRES_PASSWORD=postgres["password"],
        ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    with connection(postgres, "skipcall") as conn:
        left = {row[0] for row in conn.execute("SELECT call_id FROM skipcall.call_transcriptions")}
        recordings = {
            row[0] for row in conn.execute("SELECT call_id FROM skipcall.call_recordings")
        }
        notes = conn.execute(
            "SELECT count(*) FROM skipcall.calls WHERE notes IS NOT NULL "
            'AND ("deletedAt" IS NOT NULL OR _sdc_deleted_at IS NOT NULL)'
        ).fetchone()[0]
    assert not (deleted | erased) & left
    assert not (deleted | erased) & recordings
    assert transcribed - deleted - erased <= left  # live calls keep theirs
    assert notes == 0


def test_erasure_on_duckdb_keeps_rows_and_blanks_their_text_when_asked(
    make_simulator, meltano, tmp_path
):
    sim = make_simulator(n_calls=250, personal_text=True)
    data = sim.simulator.data
    with_transcript = [cid for cid, t in data.transcriptions.items() if t["transcript"]]
    deleted = set(data.delete_calls(10, among=with_transcript))
    database = tmp_path / "warehouse.duckdb"
    meltano_run_into_duckdb(meltano, sim, database, **PRIVATE)
    done = dbt(
        ["run-operation", "skipcall_erase_deleted", "--args", "{keep_rows: true}"],
        "duckdb",
        DBT_DUCKDB_PATH=str(database),
    )
    assert done.returncode == 0, done.stdout[-3000:]
    rows = duckdb_query(
        database,
        "select call_id, transcript is null and summary is null from skipcall.call_transcriptions",
    )
    blanked = {call for call, empty in rows if empty}
    kept = {call for call, empty in rows if not empty}
    assert deleted <= blanked  # the rows stay, their text gone
    assert not deleted & kept
    assert kept  # live calls keep theirs
    done = dbt(["run-operation", "skipcall_erase_deleted"], "duckdb", DBT_DUCKDB_PATH=str(database))
    assert done.returncode == 0, done.stdout[-3000:]
    left = {
        row[0] for row in duckdb_query(database, "select call_id from skipcall.call_transcriptions")
    }
    assert not deleted & left
    assert kept <= left


def duckdb_query(database: Path, sql: str) -> list:
    python = Path(dbt_command()).parent / "python"
    script = (
        "import duckdb, json, sys\n"
        "c = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(json.dumps(c.sql(sys.argv[2]).fetchall()))\n"
    )
    answer = subprocess.run(
        [str(python), "-c", script, str(database), sql], capture_output=True, text=True, check=True
    )
    return json.loads(answer.stdout)
