"""A newcomer's first hour: the demo with its output in a file, a fresh Meltano project."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import DEFAULT_STREAMS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def meltano_bin() -> str:
    command = os.environ.get("MELTANO_BIN") or shutil.which("meltano")
    if command is None:
        if os.environ.get("SKIPCALL_REQUIRE_E2E") == "1":
            pytest.fail("the `meltano` command was not found (set MELTANO_BIN)")
        pytest.skip("the `meltano` command was not found (set MELTANO_BIN)")
    return command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_demo_runs_with_its_output_sent_to_a_file(tmp_path):
    meltano_bin()
    log = tmp_path / "demo.log"
    with log.open("w") as sink:
        completed = subprocess.run(
            [str(ROOT / "scripts/demo")],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "DEMO_PORT": str(free_port()), "DEMO_CALLS": "400"},
            timeout=600,
        )
    text = log.read_text()
    assert completed.returncode == 0, text[-3000:]
    assert "rows sent: calls 400," in text  # the full sync
    assert "rows sent: calls 30," in text  # the incremental run: 25 changed + 5 new
    assert "none was refused for the rate limit" in text
    # the incremental run's report, summarised: what it sent, what it cost, where it stands
    summary = text.split("the incremental run's report")[1].split("== requests")[0]
    assert "succeeded in " in summary
    assert "records: calls 30," in summary
    assert re.search(r"\d+ requests, 0 retries, 0 rate-limit waits", summary)
    assert "calls bookmark: 20" in summary
    assert "warnings: 0" in summary
    assert "the next run reads calls updated since 20" in text  # the saved bookmark is shown
    assert "the last run completed, nothing to resume" in text
    assert "calls per status, in SQL:" in text
    sql_rows = text.split("calls per status, in SQL:\n")[1].split("== done")[0].splitlines()
    assert sum(int(line.split("|")[1]) for line in sql_rows) == 405  # 400 + 5 created
    assert text.rstrip().endswith(".demo-run-2.log and .demo-run-duckdb.log")


def test_a_fresh_meltano_project_from_the_hub_definition_extracts_the_default_streams(
    make_simulator, tmp_path
):
    meltano = meltano_bin()
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}

    def run(*args: str, cwd: Path = tmp_path / "project") -> str:
        completed = subprocess.run(
            [meltano, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        return completed.stdout

    run("init", "project", "--no_usage_stats", cwd=tmp_path)
    definition = ROOT / "meltano-hub/tap-skipcall.yml"
    # Meltano 4 syntax, as the README gives it (the older `add extractor NAME` form also
    # records a utility of the same name).
    run(
        "add",
        "--plugin-type",
        "extractor",
        "tap-skipcall",
        "--from-ref",
        str(definition),
        "--no-install",
    )
    # Not on PyPI before the first release: install the checkout instead, and a loader.
    project_file = tmp_path / "project/meltano.yml"
    project = yaml.safe_load(project_file.read_text())
    ours = yaml.safe_load((ROOT / "meltano.yml").read_text())
    tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-skipcall")
    tap["pip_url"] = str(ROOT)
    loaders = {p["name"]: p for p in ours["plugins"]["loaders"]}
    # target-postgres as `meltano add` would declare it (the Hub is unreachable here).
    project["plugins"]["loaders"] = [loaders["target-jsonl"], loaders["target-postgres"]]
    assert "utilities" not in project["plugins"]
    project_file.write_text(yaml.safe_dump(project, sort_keys=False))
    # Meltano drops a referenced definition's `select`: the README's next line sets it.
    assert "select" not in tap
    (select_line,) = [
        line
        for line in readme_block("### With Meltano", "### Running without Meltano")
        if line.startswith("meltano config set tap-skipcall _select")
    ]
    run(*shlex.split(select_line)[1:])
    run("install")

    sim = make_simulator(n_calls=250)
    env.update(TAP_SKIPCALL_API_URL=sim.url)
    # The README's settings lines, as written but for the key: the simulator's.
    block = readme_block("### With Meltano", "### Running without Meltano")
    for line in block:
        if line.startswith("meltano config set") and "_select" not in line:
            line = line.split("#")[0].replace("sk_live_…", sim.simulator.config.api_key)
            run(*shlex.split(line.replace("…", "127.0.0.1"))[1:])
    assert "start_date 2024-01-01 " in " ".join(block)  # a date, through Meltano
    run("run", "tap-skipcall", "target-jsonl")
    output = tmp_path / "project/output"
    written = sorted(path.stem for path in output.glob("*.jsonl"))
    assert written == sorted(DEFAULT_STREAMS)
    assert sim.simulator.stats.by_endpoint["recording"] == 0  # no per-call requests
    calls = [json.loads(line) for line in (output / "calls.jsonl").read_text().splitlines()]
    assert len(calls) == 250  # every call updated since 2024-01-01

    # Selecting one more stream, as the README says, reads its rows for the calls that change.
    run(*shlex.split('select tap-skipcall call_recordings "*"'))
    changed = sim.simulator.data.update_calls(7)
    run("run", "tap-skipcall", "target-jsonl")
    assert sim.simulator.stats.by_endpoint["recording"] == 7
    assert (output / "call_recordings.jsonl").exists()

    # Starting over, as the README says: the state id, cleared; or one run without state.
    listed = run("state", "list")
    (state_id,) = [word for word in listed.split() if word.endswith("tap-skipcall-to-target-jsonl")]
    run("state", "clear", "--force", state_id)
    before = sim.simulator.stats.by_endpoint["list_calls"]
    run("run", "tap-skipcall", "target-jsonl")
    assert sim.simulator.stats.by_endpoint["list_calls"] - before == 3  # all 250 again
    before = sim.simulator.stats.by_endpoint["list_calls"]
    run("run", "--full-refresh", "tap-skipcall", "target-jsonl")
    assert sim.simulator.stats.by_endpoint["list_calls"] - before == 3
    assert changed


def readme_block(start: str, end: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split(start, 1)[1].split(end, 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("```")]


def test_the_readme_commands_without_meltano_work_as_written(tmp_path):
    """Every line but the install (the checkout is installed already), in a fresh folder."""
    lines = readme_block("<!-- pip commands", "<!-- end of pip commands -->")[1:]
    assert lines[0].startswith("pip install")
    port = str(free_port())
    script = "\n".join(
        ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
        + [line.replace("8765", port) for line in lines[1:]]
    )
    script = script.replace(" &      #", " > simulator.log 2>&1 & sleep 2 #", 1)
    venv_bin = Path(sys.executable).parent
    completed = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Connection test passed" in completed.stderr
    first = (tmp_path / "first-run.jsonl").read_text().splitlines()
    assert sum('"type":"RECORD","stream":"calls"' in line for line in first) == 500
    message = json.loads((tmp_path / "state.json").read_text())  # the whole STATE line
    assert message["type"] == "STATE"
    assert message["value"]["bookmarks"]["calls"]["resume"] is None
    following = (tmp_path / "next-run.jsonl").read_text()
    assert '"type":"RECORD","stream":"calls"' not in following  # nothing changed since


def test_the_demo_stops_with_one_sentence_when_its_port_is_taken(tmp_path):
    meltano_bin()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = subprocess.run(
            [str(ROOT / "scripts/demo")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "DEMO_PORT": str(port)},
            timeout=600,
        )
    assert completed.returncode == 1
    assert f"scripts/demo stopped: port {port} of 127.0.0.1 is taken" in completed.stderr
    assert "Skipcall simulator with" not in completed.stdout  # it did not pretend to run


def fresh_project(tmp_path: Path, meltano: str, env: dict[str, str]):
    """A new Meltano project with tap-skipcall from the Hub definition and target-jsonl;
    its ``run(*args)``."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        completed = subprocess.run(
            [meltano, *args],
            cwd=tmp_path / "project",
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check:
            assert completed.returncode == 0, completed.stderr[-3000:]
        return completed

    subprocess.run(
        [meltano, "init", "project", "--no_usage_stats"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    run(
        "add",
        "--plugin-type",
        "extractor",
        "tap-skipcall",
        "--from-ref",
        str(ROOT / "meltano-hub/tap-skipcall.yml"),
        "--no-install",
    )
    project_file = tmp_path / "project/meltano.yml"
    project = yaml.safe_load(project_file.read_text())
    ours = yaml.safe_load((ROOT / "meltano.yml").read_text())
    tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-skipcall")
    tap["pip_url"] = str(ROOT)
    loaders = {p["name"]: p for p in ours["plugins"]["loaders"]}
    project["plugins"]["loaders"] = [loaders["target-jsonl"]]
    project_file.write_text(yaml.safe_dump(project, sort_keys=False))
    run("install")
    return run


def test_several_organisations_through_meltano_keys_in_env_not_in_meltano_yml(
    make_simulator, tmp_path
):
    meltano = meltano_bin()
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    run = fresh_project(tmp_path, meltano, env)
    sims = {
        name: make_simulator(n_calls=60, seed=70 + i, api_key=f"sk_live_{name}_secret")
        for i, name in enumerate(("fr", "de"))
    }
    accounts = [
        {"name": name, "api_key": f"sk_live_{name}_secret", "api_url": sim.url}
        for name, sim in sims.items()
    ]
    # The README's command: the whole list, sensitive, goes to .env.
    run("config", "set", "tap-skipcall", "accounts", json.dumps(accounts))
    run("config", "set", "tap-skipcall", "_select", '["calls.*", "users.*"]')
    project = tmp_path / "project"
    assert "sk_live_fr_secret" not in (project / "meltano.yml").read_text()
    assert "sk_live_fr_secret" in (project / ".env").read_text()
    completed = run("run", "tap-skipcall", "target-jsonl")
    assert "sk_live_fr_secret" not in completed.stdout + completed.stderr
    calls = [json.loads(line) for line in (project / "output/calls.jsonl").read_text().splitlines()]
    assert {c["skipcall_account"] for c in calls} == {"fr", "de"}
    assert len(calls) == 120
    assert "fr: done in" in completed.stderr
    assert "de: done in" in completed.stderr

    # The README's meltano.yml form: names in meltano.yml, keys as $VARIABLES from .env.
    run("config", "unset", "tap-skipcall", "accounts")
    (project / ".env").write_text(
        "".join(f"SKIPCALL_KEY_{n.upper()}=sk_live_{n}_secret\n" for n in sims)
    )
    project_file = project / "meltano.yml"
    data = yaml.safe_load(project_file.read_text())
    tap = next(p for p in data["plugins"]["extractors"] if p["name"] == "tap-skipcall")
    tap.setdefault("config", {})["accounts"] = [
        {"name": n, "api_key": f"${'SKIPCALL_KEY_' + n.upper()}", "api_url": sim.url}
        for n, sim in sims.items()
    ]
    project_file.write_text(yaml.safe_dump(data, sort_keys=False))
    (project / "output/calls.jsonl").unlink()
    completed = run("run", "--full-refresh", "tap-skipcall", "target-jsonl")
    calls = [json.loads(line) for line in (project / "output/calls.jsonl").read_text().splitlines()]
    assert len(calls) == 120
    assert "sk_live_fr_secret" not in project_file.read_text()


def test_the_readme_postgres_command_starts_a_server_the_job_can_use(tmp_path):
    import tempfile

    port = str(free_port())
    # Not under pytest's tmp root, private to root: the server may run as `postgres`.
    data = tempfile.mkdtemp(prefix="tap-skipcall-pgscript-")
    env = {**os.environ, "PGPORT": port, "SKIPCALL_PG_DATA": data}
    started = subprocess.run(
        [str(ROOT / "scripts/postgres"), "start"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        assert started.returncode == 0, started.stderr
        assert (
            f"PostgreSQL on 127.0.0.1:{port}, user postgres (no password), database skipcall"
            in (started.stdout)
        )
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=int(port), user="postgres", dbname="skipcall"
        ) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        subprocess.run(
            [str(ROOT / "scripts/postgres"), "stop"], env=env, capture_output=True, timeout=120
        )
