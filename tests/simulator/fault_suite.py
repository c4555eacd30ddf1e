"""The fault suite: every case ends with what was loaded compared to the simulator's truth.

    .venv/bin/python -m tests.simulator.fault_suite [--write]   # the table (--write: into docs)

Each case syncs 1,500 changed calls of 3,000 under a fault (or data moving mid-sync, or the
tap killed and resumed from the last STATE it wrote), then runs one clean incremental sync,
as the next scheduled run would. "Lost" counts calls the API lists that no run loaded, or
whose latest version never arrived; it must be 0. "Re-sent" counts records emitted again
with the same content (the at-least-once price of page shifts and resumed syncs). For the
kill cases, "pages read / left" compares the pages the resumed run read with the pages the
killed run had left to read (from its last checkpoint).
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from skipcall_simulator import (
    Dataset,
    Fault,
    MutationRule,
    RunningSimulator,
    Simulator,
    SimulatorConfig,
)
from tap_skipcall.client.base import SkipcallStream
from tests.helpers import SyncResult, batch_rows, catalog_selecting, run_tap, visible_truth

ROOT = Path(__file__).resolve().parents[2]
N_CALLS = 3000
PAGE_SIZE = 100
#: Records a BATCH file holds in the BATCH cases.
BATCH_SIZE = 150


@dataclass
class Case:
    """One row of the table."""

    name: str
    faults: list[Fault] = field(default_factory=list)
    mutations: list[MutationRule] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    simulator: dict[str, Any] = field(default_factory=dict)
    kill: signal.Signals | None = None
    #: Records after which each successive run is killed (two: a resume of a resume).
    kill_after: tuple[int, ...] = (1000,)
    #: Write BATCH files (a file per BATCH_SIZE records) instead of RECORD messages.
    batch: bool = False


#: Calls created, updated and soft-deleted in every run of a kill case, after its 2nd page.
CHURN = [MutationRule(after_page=2, create=10, update=10, delete=10)]

CASES = [
    Case(
        "500s at random pages",
        faults=[
            Fault(kind="status", status=500, endpoint="list_calls", probability=0.25, times=-1)
        ],
    ),
    Case(
        "dropped connections",
        faults=[Fault(kind="drop", endpoint="list_calls", probability=0.2, times=-1)],
    ),
    Case(
        "429 storm",
        faults=[
            Fault(kind="rate_limit", endpoint="list_calls", skip=2, times=4),
            Fault(kind="rate_limit", endpoint="list_calls", skip=12, times=4),
        ],
        simulator={"rate_limit": 1000, "window_seconds": 0.3, "reset_unit": "ms"},
    ),
    Case(
        "slow answers past the timeout",
        faults=[Fault(kind="slow", seconds=1.3, endpoint="list_calls", skip=3, times=3)],
        config={"request_timeout": 1},
    ),
    Case(
        "bad JSON",
        faults=[Fault(kind="bad_json", endpoint="list_calls", probability=0.2, times=-1)],
    ),
    Case(
        "calls created mid-sync",
        mutations=[MutationRule(after_page=p, create=25) for p in (2, 6, 10)],
    ),
    Case(
        "calls updated mid-sync",
        mutations=[MutationRule(after_page=p, update=25, among="served") for p in (2, 6, 10)],
    ),
    Case(
        "calls soft-deleted mid-sync (still listed)",
        mutations=[MutationRule(after_page=p, delete=15, among="served") for p in (2, 6, 10)],
    ),
    Case(
        "calls soft-deleted mid-sync (hidden from lists)",
        mutations=[MutationRule(after_page=p, delete=15, among="served") for p in (2, 6, 10)],
        simulator={"hide_deleted": True},
    ),
    Case(
        "everything at once",
        faults=[
            Fault(kind="status", status=503, endpoint="list_calls", probability=0.15, times=-1),
            Fault(kind="drop", endpoint="list_calls", probability=0.1, times=-1),
        ],
        mutations=[
            MutationRule(after_page=p, create=10, update=10, delete=10, among="served")
            for p in (3, 7, 11)
        ],
        simulator={"hide_deleted": True},
    ),
    *(
        Case(
            f"killed with {how.name} at the {where} page, resumed",
            kill=how,
            kill_after=(after,),
            mutations=CHURN,
        )
        for how in (signal.SIGTERM, signal.SIGKILL)
        for where, after in (("first", 50), ("middle", 750), ("last", 1450))
    ),
    Case(
        "killed twice (SIGKILL), a resume of a resume, deletes hidden",
        kill=signal.SIGKILL,
        kill_after=(450, 500),
        mutations=CHURN,
        simulator={"hide_deleted": True},
    ),
    *(
        Case(
            f"BATCH files, killed with {how.name} at the {where} page, resumed",
            kill=how,
            kill_after=(after,),
            mutations=CHURN,
            batch=True,
        )
        for how, where, after in (
            (signal.SIGTERM, "first", 50),
            (signal.SIGKILL, "middle", 750),
            # Rows arrive 150 a file and a run writes each version once (1,490 here): the
            # kill must come after the 9th file, before the last one ends the run.
            (signal.SIGKILL, "last", 1300),
        )
    ),
    Case(
        "BATCH files, killed twice (SIGKILL), a resume of a resume, deletes hidden",
        kill=signal.SIGKILL,
        kill_after=(450, 600),
        mutations=CHURN,
        simulator={"hide_deleted": True},
        batch=True,
    ),
]


@dataclass
class Outcome:
    """What a case loaded, compared with the truth."""

    name: str
    runs: int
    emitted: int
    lost: int
    stale: int
    resent: int
    faults_fired: int
    #: For kill cases: pages the resumed run read, and pages the killed run had left.
    pages_read: int | None = None
    pages_left: int | None = None

    def row(self) -> str:
        verdict = "ok" if self.lost == self.stale == 0 else "LOST CALLS"
        pages = "" if self.pages_read is None else f"{self.pages_read} / {self.pages_left}"
        return (
            f"| {self.name} | {self.faults_fired} | {self.runs} | {self.emitted:,} | "
            f"{self.lost} | {self.stale} | {self.resent} | {pages} | {verdict} |"
        )


def killed_run(
    sim: RunningSimulator,
    config: dict[str, Any],
    state: dict | None,
    how: signal.Signals,
    tmp: Path,
    after: int = 1000,
) -> SyncResult:
    """Run the real command, kill it after ``after`` records, keep what it had written."""
    (tmp / "config.json").write_text(json.dumps(config))
    (tmp / "catalog.json").write_text(json.dumps(catalog_selecting(config, ["calls"])))
    command = [
        sys.executable,
        "-m",
        "tap_skipcall",
        "--config",
        str(tmp / "config.json"),
        "--catalog",
        str(tmp / "catalog.json"),
    ]
    if state is not None:
        (tmp / "state.json").write_text(json.dumps(state))
        command += ["--state", str(tmp / "state.json")]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    lines, records = [], 0
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        records += '"type":"RECORD"' in line
        if '"type":"BATCH"' in line:
            records += len(batch_rows(json.loads(line)))
        if records >= after:
            process.send_signal(how)
            break
    lines.extend(process.stdout.read().splitlines(keepends=True))
    process.wait(timeout=60)
    messages = []
    for line in lines:
        with contextlib.suppress(ValueError):  # a line cut by SIGKILL: a target drops it too
            messages.append(json.loads(line))
    return SyncResult(messages=messages)


def run_case(case: Case, tmp: Path) -> Outcome:
    simulator = Simulator(
        Dataset(seed=11, n_calls=N_CALLS), SimulatorConfig(**{"rate_limit": None, **case.simulator})
    )
    with RunningSimulator(simulator) as sim:
        config = {
            "api_key": simulator.config.api_key,
            "api_url": sim.url,
            "page_size": PAGE_SIZE,
            **case.config,
        }
        if case.batch:
            (tmp / "batches").mkdir(exist_ok=True)
            config["batch_config"] = {
                "encoding": {"format": "jsonl", "compression": "gzip"},
                "storage": {"root": f"file://{tmp / 'batches'}", "prefix": "calls-"},
                "batch_size": BATCH_SIZE,
            }
        runs: list[SyncResult] = []
        first = run_tap(config, select=["calls"])  # a clean backfill, then the case
        runs.append(first)
        simulator.data.update_calls(1500)  # work for the run under test: 16 pages
        simulator.faults.extend(case.faults)
        pages_read = pages_left = None
        state = first.state
        if case.kill is not None:
            # Slow answers, so that the kill lands mid-sync rather than after the last page.
            simulator.faults.append(
                Fault(kind="slow", seconds=0.02, endpoint="list_calls", times=-1)
            )
            for after in case.kill_after:
                fresh_run(simulator, case)
                killed = killed_run(sim, config, state, case.kill, tmp, after)
                runs.append(killed)
                state = killed.state or state
            simulator.faults.clear()
            resume = state["bookmarks"]["calls"].get("resume") or {"rows_read": 0}
            fresh_run(simulator, case)
            to_read = sum(
                1
                for call in visible_truth(sim).values()
                if call["updatedAt"] >= first.state["bookmarks"]["calls"]["replication_key_value"]
            )
            pages_left = math.ceil(max(to_read - resume["rows_read"], 0) / PAGE_SIZE)
            before = simulator.stats.by_endpoint["list_calls"]
            runs.append(run_tap(config, state=state, select=["calls"]))
            pages_read = simulator.stats.by_endpoint["list_calls"] - before
        else:
            fresh_run(simulator, case)
            runs.append(run_tap(config, state=first.state, select=["calls"]))
        simulator.faults.clear()
        state = next((r.state for r in reversed(runs) if r.state), None)
        runs.append(run_tap(config, state=state, select=["calls"]))  # the next scheduled run
        truth = visible_truth(sim)
        latest: dict[str, dict[str, Any]] = {}
        seen: set[tuple[str, str]] = set()
        emitted = resent = 0
        for run in runs:
            for record in run.records():
                emitted += 1
                version = (record["id"], json.dumps(record, sort_keys=True))
                resent += version in seen
                seen.add(version)
                latest[record["id"]] = record
        lost = len(set(truth) - set(latest))
        stale = sum(
            1
            for cid, call in truth.items()
            if cid in latest and latest[cid]["updatedAt"] != call["updatedAt"]
        )
        return Outcome(
            case.name,
            len(runs),
            emitted,
            lost,
            stale,
            resent,
            sum(f.fired for f in case.faults),
            pages_read,
            pages_left,
        )


def fresh_run(simulator: Simulator, case: Case) -> None:
    """Count pages afresh and arm the case's mutations (fresh copies) for the next run."""
    simulator.new_run()
    simulator.mutations[:] = [replace(rule, done=False) for rule in case.mutations]


def run_suite(tmp: Path) -> list[Outcome]:
    """Every case; retries shortened (same logic, no long waits)."""
    SkipcallStream.retry_base_seconds, SkipcallStream.retry_max_seconds = 0.01, 0.05
    return [run_case(case, tmp) for case in CASES]


def table(outcomes: list[Outcome]) -> str:
    """Markdown table of the outcomes."""
    head = (
        "| case | faults fired | runs | records emitted | calls lost | updates lost "
        "| re-sent | pages read / left | verdict |\n|---|--:|--:|--:|--:|--:|--:|--:|---|"
    )
    return "\n".join([head, *(o.row() for o in outcomes)])


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        results = run_suite(Path(directory))
    print(table(results))
    if "--write" in sys.argv:
        sys.path.insert(0, str(ROOT / "scripts"))
        from doc_blocks import replace_block

        replace_block(ROOT / "docs/measurements.md", "fault suite", table(results))
    sys.exit(0 if all(o.lost == o.stale == 0 for o in results) else 1)
