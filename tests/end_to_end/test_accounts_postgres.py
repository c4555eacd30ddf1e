"""End to end: several organisations through one Meltano pipeline, into the real loaders.

Seven simulated days of three organisations, each with its own key and API, loaded by the
real target-postgres into one set of tables (soft and hard delete): deletions every day in
each, one key revoked for a day. Every day each organisation's live calls are live in the
warehouse, none marked deleted because of another organisation; on every day all accounts
ran, the warehouse equals each organisation's API exactly. Then the dbt package, over the
accounts in one schema and over one schema per organisation (`skipcall_sources`), on
PostgreSQL and DuckDB.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.end_to_end.meltano_postgres import ROOT, connection, meltano_env, repository_env
from tests.end_to_end.test_dbt_package import STREAMS, dbt, dbt_command, truth
from tests.end_to_end.test_deletions_postgres import faketime

#: dbt reads and writes the repository's transform/ project: its tests share one worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("transform")]
NAMES = ("fr", "de", "it")
#: Models and dbt tests of the package (`dbt build`: PASS=…).
DBT_PASS = "PASS=30 WARN=0 ERROR=0 SKIP=0"


def organisations(make_simulator, n_calls: int, **config) -> dict:
    return {
        name: make_simulator(n_calls=n_calls, seed=50 + i, api_key=f"sk_test_{name}", **config)
        for i, name in enumerate(NAMES)
    }


def accounts_setting(orgs: dict) -> str:
    return json.dumps(
        [{"name": n, "api_key": f"sk_test_{n}", "api_url": sim.url} for n, sim in orgs.items()]
    )


def accounts_env(orgs: dict, postgres: dict | None = None, **env: str) -> dict[str, str]:
    """Meltano's environment for the accounts (no `api_key`), and the loader's."""
    base = meltano_env(
        next(iter(orgs.values())), postgres or {"host": "", "port": 0, "user": "", "password": ""}
    )
    for name in ("TAP_SKIPCALL_API_KEY", "TAP_SKIPCALL_API_URL"):
        base.pop(name)
    if postgres is None:
        base = {k: v for k, v in base.items() if not k.startswith("TARGET_POSTGRES")}
    return {**base, "TAP_SKIPCALL_ACCOUNTS": accounts_setting(orgs), **env}


def run(meltano: str, loader: str, state_id: str, env: dict, *, day: int = 0, job: str = ""):
    command = [meltano, "run", "--state-id-suffix", state_id]
    command += [job] if job else ["tap-skipcall", loader]
    return subprocess.run(
        [*faketime(day), *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def calls_rows(postgres: dict, schema: str) -> dict[tuple[str, str], object]:
    """(account, id) -> _sdc_deleted_at of every row of the calls table."""
    with connection(postgres, "skipcall") as conn:
        return {
            (account, ident): deleted
            for account, ident, deleted in conn.execute(
                f'SELECT skipcall_account, id, "_sdc_deleted_at" FROM {schema}.calls'
            )
        }


@pytest.mark.parametrize("hard_delete", [False, True], ids=["soft", "hard"])
def test_seven_days_of_three_organisations_in_one_set_of_tables(
    make_simulator, postgres, meltano, hard_delete
):
    orgs = organisations(make_simulator, 250, hide_deleted=True)
    state_id = uuid.uuid4().hex[:8]
    schema = f"accounts_{'hard' if hard_delete else 'soft'}_{state_id}"
    env = accounts_env(
        orgs,
        postgres,
        TAP_SKIPCALL__SELECT=json.dumps(["calls.*", "users.*"]),
        TAP_SKIPCALL_DELETIONS_WITHIN_DAYS="1",  # every daily run reconciles
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
        TARGET_POSTGRES_HARD_DELETE=json.dumps(hard_delete),
    )
    exact_days = []
    for day in range(7):
        if day:
            for sim in orgs.values():  # each organisation changes, hides and erases calls
                sim.simulator.data.update_calls(5)
                sim.simulator.data.create_calls(3)
                sim.simulator.data.delete_calls(2)
                sim.simulator.data.erase_calls(1)
        revoked = day == 3
        orgs["de"].simulator.config.api_key = "sk_test_revoked" if revoked else "sk_test_de"
        completed = run(meltano, "target-postgres", state_id, env, day=day)
        if revoked:
            assert completed.returncode != 0
            assert "1 of 3 accounts failed" in completed.stderr
            assert "de: Skipcall rejected the API key (HTTP 401" in completed.stderr
        else:
            assert completed.returncode == 0, completed.stderr[-3000:]
        for name in NAMES:
            assert f"sk_test_{name}" not in completed.stdout + completed.stderr
        rows = calls_rows(postgres, schema)
        for name, sim in orgs.items():
            live = {cid for cid, call in sim.simulator.data.calls.items() if not call["deletedAt"]}
            mine = {ident: deleted for (account, ident), deleted in rows.items() if account == name}
            live_rows = {ident for ident, deleted in mine.items() if deleted is None}
            # nothing of this organisation marked deleted while live, whatever the others did
            assert not {i for i, d in mine.items() if d is not None} & live, (day, name)
            if name == "de" and revoked:
                continue  # its calls of today wait for tomorrow
            assert live <= live_rows, (day, name)
            if not revoked:  # a day every account ran: exactly the API, deletions included
                assert live_rows == live, (day, name)
                if hard_delete:
                    assert set(mine) == live, (day, name)
        if not revoked:
            exact_days.append(day)
    assert exact_days == [0, 1, 2, 4, 5, 6]


def daily_truth(orgs: dict) -> dict:
    """Each organisation's models' truth, by account."""
    return {name: truth(sim) for name, sim in orgs.items()}


def test_the_dbt_package_over_accounts_and_over_schemas_on_postgres(
    make_simulator, postgres, meltano, default_schema
):
    orgs = organisations(make_simulator, 200)
    for sim in orgs.values():
        sim.simulator.data.delete_calls(5)
    tag = uuid.uuid4().hex[:6]
    dbt_env = {
        "DBT_POSTGRES_HOST": postgres["host"],
        "DBT_POSTGRES_PORT": str(postgres["port"]),
        "DBT_POSTGRES_PASSWORD": postgres["password"],
    }
    # Every organisation in the loader's default schema (accounts), built by the job.
    env = accounts_env(
        orgs,
        postgres,
        TAP_SKIPCALL__SELECT=STREAMS,
        DBT_POSTGRES_SCHEMA=f"models_accounts_{tag}",
        **dbt_env,
    )
    built = run(meltano, "", tag, env, job="skipcall-to-postgres")
    assert built.returncode == 0, built.stderr[-3000:]
    assert DBT_PASS in built.stderr, built.stderr[-3000:]
    assert_models_match(postgres, f"models_accounts_{tag}", orgs, by="skipcall_account")

    # One schema per organisation (each its own plugin's load), unioned by skipcall_sources.
    schemas = {}
    for name, sim in orgs.items():
        schemas[name] = f"org_{name}_{tag}"
        solo = meltano_env(
            sim,
            postgres,
            TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schemas[name],
            TAP_SKIPCALL__SELECT=STREAMS,
        )
        completed = run(meltano, "target-postgres", f"{tag}{name}", solo)
        assert completed.returncode == 0, completed.stderr[-3000:]
    models = f"models_sources_{tag}"
    built = dbt(
        ["build", "--vars", json.dumps({"skipcall_sources": list(schemas.values())})],
        "postgres",
        DBT_POSTGRES_SCHEMA=models,
        **dbt_env,
    )
    assert DBT_PASS in built.stdout, built.stdout[-3000:]
    assert_models_match(
        postgres, models, orgs, by="skipcall_source", names={v: k for k, v in schemas.items()}
    )


def assert_models_match(postgres, schema: str, orgs: dict, *, by: str, names=None) -> None:
    """Each organisation's rows in the models equal its truth (calls, utterances, days)."""
    expected = daily_truth(orgs)
    with connection(postgres, "skipcall") as conn:
        calls = conn.execute(f"SELECT {by}, call_id FROM {schema}.skipcall_calls").fetchall()
        utterances = Counter(
            row[0]
            for row in conn.execute(f"SELECT {by} FROM {schema}.skipcall_transcript_utterances")
        )
        daily = conn.execute(
            f"SELECT {by}, rep_membership_id, call_day, calls, connected_calls, talk_seconds "
            f"FROM {schema}.skipcall_rep_daily"
        ).fetchall()
    rename = names or {}
    for name in orgs:
        mine = {call for owner, call in calls if rename.get(owner, owner) == name}
        assert mine == expected[name]["calls"], name
        total = sum(n for owner, n in utterances.items() if rename.get(owner, owner) == name)
        assert total == expected[name]["utterances"], name
        days = {
            (rep, day.isoformat()): (n, connected, talk)
            for owner, rep, day, n, connected, talk in daily
            if rename.get(owner, owner) == name
        }
        assert days == expected[name]["daily"], name


def test_the_dbt_package_over_accounts_and_over_schemas_on_duckdb(
    make_simulator, meltano, tmp_path
):
    orgs = organisations(make_simulator, 150)
    database = tmp_path / "warehouse.duckdb"
    env = accounts_env(
        orgs, None, TAP_SKIPCALL__SELECT=STREAMS, TARGET_DUCKDB_FILEPATH=str(database)
    )
    completed = run(meltano, "target-duckdb", uuid.uuid4().hex[:8], env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    for name, sim in orgs.items():  # and each organisation in a schema of its own
        solo = {
            **repository_env(),
            "TAP_SKIPCALL_API_URL": sim.url,
            "TAP_SKIPCALL_API_KEY": f"sk_test_{name}",
            "TAP_SKIPCALL__SELECT": STREAMS,
            "TARGET_DUCKDB_FILEPATH": str(database),
            "TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA": f"org_{name}",
        }
        completed = run(meltano, "target-duckdb", uuid.uuid4().hex[:8], solo)
        assert completed.returncode == 0, completed.stderr[-3000:]
    expected = daily_truth(orgs)
    for form, args, by in (
        ("accounts", [], "skipcall_account"),
        (
            "sources",
            ["--vars", json.dumps({"skipcall_sources": [f"org_{n}" for n in NAMES]})],
            "skipcall_source",
        ),
    ):
        built = dbt(["build", *args], "duckdb", DBT_DUCKDB_PATH=str(database))
        assert DBT_PASS in built.stdout, (form, built.stdout[-3000:])
        found = duckdb_rows(database, by)
        for name in NAMES:
            owner = name if by == "skipcall_account" else f"org_{name}"
            assert found["calls"].get(owner, set()) == expected[name]["calls"], (form, name)
            assert found["utterances"].get(owner, 0) == expected[name]["utterances"], (form, name)
            assert found["counted"].get(owner, 0) == len(expected[name]["calls"]), (form, name)


DUCKDB_ROWS = """
import duckdb, json, sys
c = duckdb.connect(sys.argv[1], read_only=True)
by = sys.argv[2]
calls = {}
for owner, call in c.sql(f"select {by}, call_id from analytics.skipcall_calls").fetchall():
    calls.setdefault(owner, []).append(call)
said = "select {0}, count(*) from analytics.skipcall_transcript_utterances group by 1"
utterances = dict(c.sql(said.format(by)).fetchall())
daily = "select {0}, sum(calls) from analytics.skipcall_rep_daily group by 1"
counted = {k: int(v) for k, v in c.sql(daily.format(by)).fetchall()}
print(json.dumps({"calls": calls, "utterances": utterances, "counted": counted}))
"""


def duckdb_rows(database: Path, by: str) -> dict:
    """The models' calls, utterances and daily counts in a DuckDB file, by owner column."""
    python = Path(dbt_command()).parent / "python"
    answer = subprocess.run(
        [str(python), "-c", DUCKDB_ROWS, str(database), by],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(answer.stdout)
    found["calls"] = {k: set(v) for k, v in found["calls"].items()}
    return found
