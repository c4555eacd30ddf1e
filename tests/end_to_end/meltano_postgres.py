"""Helpers and fixtures of the end-to-end tests: a PostgreSQL server and Meltano.

Needs the `meltano` command (or MELTANO_BIN) and PostgreSQL's server binaries. Without
them the tests are skipped, unless SKIPCALL_REQUIRE_E2E=1 (as in .ci/run), where a skip
would hide a missing install step and so fails instead.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.helpers import tap_config

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


def connection(server: dict, dbname: str):
    import psycopg

    return psycopg.connect(
        host=server["host"],
        port=server["port"],
        user=server["user"],
        password=server["password"],
        dbname=dbname,
        autocommit=True,
    )


@pytest.fixture(scope="session")
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
        with connection(server, "postgres") as conn:
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
        with connection(server, "postgres") as conn:
            conn.execute("CREATE DATABASE skipcall")
        yield server
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def default_schema(postgres):
    """The loader's default schema (``skipcall``), empty for one test and dropped after it.

    Tests that load into a schema of their own name it (``TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA``);
    a test that loads into the default one, as a user's project does, holds it alone.
    """

    def drop() -> None:
        with connection(postgres, "skipcall") as conn:
            conn.execute("DROP SCHEMA IF EXISTS skipcall CASCADE")

    drop()
    yield "skipcall"
    drop()


#: Where each pytest-xdist worker keeps its own Meltano system directory.
WORKER_DIRS = ROOT / ".meltano-tests"
#: What a worker's system directory shares with the project's `.meltano` (the plugins).
SHARED_DIRS = ("extractors", "loaders", "utilities")


def worker_sys_dir() -> Path:
    """This worker's Meltano system directory: its own runs, state and run files, and links
    to the plugins installed once in the project's `.meltano`.

    Two `meltano run`s of one project at a time would share `.meltano/run`, where each writes
    the catalog and config the other reads.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    sys_dir = WORKER_DIRS / worker
    sys_dir.mkdir(parents=True, exist_ok=True)
    for name in SHARED_DIRS:
        link = sys_dir / name
        if not link.is_symlink():
            link.symlink_to(ROOT / ".meltano" / name, target_is_directory=True)
    return sys_dir


def repository_env(**env: str) -> dict[str, str]:
    """The environment of a Meltano command in this repository's project, on this worker."""
    return {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_SYS_DIR_ROOT": str(worker_sys_dir()),
        **env,
    }


@pytest.fixture(scope="session")
def meltano():
    command = os.environ.get("MELTANO_BIN") or shutil.which("meltano")
    if command is None:
        _missing("the `meltano` command was not found (set MELTANO_BIN)")
    (ROOT / ".meltano").mkdir(exist_ok=True)
    # One install at a time, into the project's `.meltano`: pytest-xdist workers share the
    # plugins' virtualenvs (each worker's own system directory links to them).
    with (ROOT / ".meltano" / "tests-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(
            [
                command,
                "install",
                "tap-skipcall",
                "target-postgres",
                "target-duckdb",
                "dbt-postgres",
            ],
            cwd=ROOT,
            env={**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"},
            check=True,
            capture_output=True,
            timeout=900,
        )
        for venv in (
            ".meltano/extractors/tap-skipcall/venv",
            ".meltano/loaders/target-postgres/venv",
        ):
            subprocess.run(  # what `pip_url: tap-skipcall[s3]` and the loader's s3 extra install
                [
                    str(ROOT / ".venv/bin/uv"),
                    "pip",
                    "install",
                    "--quiet",
                    "--python",
                    str(ROOT / venv / "bin/python"),
                    "s3fs",
                ],
                check=True,
                capture_output=True,
                timeout=600,
            )
    return command


def meltano_env(sim, postgres: dict, **env: str) -> dict[str, str]:
    """The environment that points Meltano's tap at a simulator and its loader at PostgreSQL."""
    config = tap_config(sim)
    return {
        **repository_env(),
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


def meltano_run(
    meltano: str, sim, postgres: dict, state_id: str, *, prefix=(), job: str = "", **env: str
):
    """`meltano run tap-skipcall target-postgres` (or ``job``: a job's name, or blocks separated
    by spaces) against a simulator; must succeed without the key in its output."""
    config = tap_config(sim)
    command = run_command(meltano, state_id)
    completed = subprocess.run(
        [*prefix, *([*command[:4], *job.split()] if job else command)],
        cwd=ROOT,
        env=meltano_env(sim, postgres, **env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert config["api_key"] not in completed.stdout + completed.stderr
    return completed


def meltano_run_into_duckdb(meltano: str, sim, database: Path, **env: str):
    """`meltano run tap-skipcall target-duckdb` into ``database``; must succeed."""
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
            **repository_env(),
            "TAP_SKIPCALL_API_URL": sim.url,
            "TAP_SKIPCALL_API_KEY": sim.simulator.config.api_key,
            "TARGET_DUCKDB_FILEPATH": str(database),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


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


def loaded_rows(postgres: dict, schema: str, tables: list[str]) -> dict[str, list]:
    """Every row of these tables, less the loader's bookkeeping, in a stable order."""
    with connection(postgres, "skipcall") as conn:
        return {
            table: sorted(
                conn.execute(f"SELECT to_jsonb(t) - {SDC} FROM {schema}.{table} t").fetchall(),
                key=str,
            )
            for table in tables
        }
