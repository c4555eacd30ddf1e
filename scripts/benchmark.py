"""Benchmark: the tap against the simulator, next to the floor any tap pays.

    .venv/bin/python scripts/benchmark.py [--calls 30000] [--changed-percent 1]

Runs a simulator (no rate limit) in its own process, then, each in its own process:
a full backfill and an incremental sync of the changed calls, by the tap (writing Singer
messages to a file, as under Meltano) and by a plain `requests` loop that reads the same
pages and prints RECORD lines (the floor). Prints records per second, CPU per record (also
less each reader's start-up, measured on an empty list), peak memory and requests made
versus the minimum possible. `--rate-limited` instead measures a sync under
100 requests per (short) window: requests sent, 429s received, time versus the ideal.
`--latency` measures backfills against answers delayed by 100 and 250 ms on a 1,000-a-minute
plan (100 requests per 6-second window: a minute shortened tenfold), every stream selected,
a calls-only backfill of 20,000 calls at 150 ms (and of 40,000 with `start_date` halfway down
the list, and of 30,000 resumed after a kill at a third: about 20,000 read each), and a
100-a-minute plan (5,000 calls), also with `start_date` halfway and resumed after a kill at a third:
requests, elapsed time, the plan's own time (requests / limit x window), the share of the
budget used, and the first progress line's time left against the time the sync really took
after it.
`--resume` kills a backfill (SIGKILL) at 10 %, 50 % and 90 % of its calls, resumes it from
the last STATE it wrote, and prints the pages the resumed run read against the pages that
were left, and the calls it sent again; one page at a time, and 8 pages read together.
`--accounts` syncs three organisations of `--calls` calls each side by side (150 ms
answers, 1,000 a minute per key) and compares it with one of them alone. `--privacy`
compares the CPU per record of a sync with `privacy_free_text: redact` (every kind
pseudonymised) and without, on notes and transcripts that name the people called.
`--startup` measures the CPU of a run on an empty list (what every run pays once): the tap
before run reports and telemetry existed and the tap at HEAD (worktrees side by side), without
`OTEL_EXPORTER_OTLP_ENDPOINT`, and now exporting to a local OTLP receiver.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from doc_blocks import replace_block  # noqa: E402

PYTHON = sys.executable
KEY = "sk_test_simulator"

FLOOR = r"""
import json, sys, requests
url, key, page_size, bookmark = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] or None
session = requests.Session()
session.headers["Authorization"] = f"Bearer {key}"
out = sys.stdout
page = 1
while True:
    body = session.get(f"{url}/v1/calls", params={"page": page, "limit": page_size,
        "sort[orderBy]": "updatedAt", "sort[order]": "desc"}, timeout=60).json()
    for row in body["data"]:
        if bookmark is None or row["updatedAt"] > bookmark:
            out.write(json.dumps({"type": "RECORD", "stream": "calls", "record": row}) + "\n")
    if page >= body["totalPages"] or (bookmark and body["data"][-1]["updatedAt"] < bookmark):
        break
    page += 1
"""


def tap_cli(config: Path, catalog: Path) -> list[str]:
    """The tap's command line, as Meltano runs it."""
    return [PYTHON, "-m", "tap_skipcall", "--config", str(config), "--catalog", str(catalog)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def control(url: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, method="GET" if body is None else "POST"
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def start_simulator(calls: int, extra: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [PYTHON, "-m", "skipcall_simulator", "--port", str(port), "--calls", str(calls), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            control(url, "/_sim/stats")
            return process, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the simulator did not start")


CPU_SECONDS: dict[Path, float] = {}


def measure(command: list[str], output: Path) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in MiB, RECORD lines written (CPU seconds in CPU_SECONDS)."""
    started = time.perf_counter()
    with output.open("w") as sink:
        process = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    CPU_SECONDS[output] = usage.ru_utime + usage.ru_stime
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed")
    records = sum(
        1
        for line in output.open()
        if line.startswith('{"type":"RECORD"') or line.startswith('{"type": "RECORD"')
    )
    return elapsed, usage.ru_maxrss // 1024, records


def last_state(output: Path) -> dict:
    states = [
        json.loads(line)["value"]
        for line in output.open()
        if '"type":"STATE"' in line or '"type": "STATE"' in line
    ]
    return states[-1]


def catalog_selecting(config: Path, work: Path, streams: set[str] | None) -> Path:
    """The discovered catalog with these streams selected (None: every stream)."""
    catalog = json.loads(
        subprocess.run(
            [PYTHON, "-m", "tap_skipcall", "--config", str(config), "--discover"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = (
                    streams is None or stream["tap_stream_id"] in streams
                )
    path = work / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


def calls_only_catalog(config: Path, work: Path) -> Path:
    return catalog_selecting(config, work, {"calls"})


READERS = ("tap-skipcall", "plain requests loop")


def run_pair(
    url: str,
    work: Path,
    label: str,
    minimum: int,
    state: dict | None,
    bookmark: str | None,
    page_size: int,
    startup: dict[str, float] | None = None,
) -> tuple[list[str], Path]:
    """Each reader's row for one sync; ``startup``: each reader's CPU on an empty list."""
    config = work / "config.json"
    config.write_text(json.dumps({"api_key": KEY, "api_url": url, "page_size": page_size}))
    catalog = work / "catalog.json"
    rows = []
    tap_command = tap_cli(config, catalog)
    if state is not None:
        (work / "state.json").write_text(json.dumps(state))
        tap_command += ["--state", str(work / "state.json")]
    for who, command in (
        ("tap-skipcall", tap_command),
        ("plain requests loop", [PYTHON, "-c", FLOOR, url, KEY, str(page_size), bookmark or ""]),
    ):
        before = control(url, "/_sim/stats")["requests"]
        output = work / f"{label}-{who.split()[0]}.jsonl"
        elapsed, rss, records = measure(command, output)
        requests_made = control(url, "/_sim/stats")["requests"] - before
        cpu = CPU_SECONDS[output]
        CPU_PER_RECORD[(label, who)] = cpu / max(records, 1)
        marginal = ""
        if startup is not None:
            MARGINAL[(label, who)] = (cpu - startup[who]) / max(records, 1)
            marginal = f"{MARGINAL[(label, who)] * 1e6:,.0f} µs"
        rows.append(
            f"| {label} | {who} | {records:,} | {elapsed:.2f} s | {cpu:.2f} s | "
            f"{cpu / max(records, 1) * 1e6:,.0f} µs | {marginal} | "
            f"{records / elapsed:,.0f} | {rss} MiB | {requests_made} / {minimum} |"
        )
        if who == "tap-skipcall":
            tap_output = output
    return rows, tap_output


CPU_PER_RECORD: dict[tuple[str, str], float] = {}
MARGINAL: dict[tuple[str, str], float] = {}


def startup_cpu(work: Path, page_size: int) -> dict[str, float]:
    """Each reader's CPU on an empty list: its start-up, what every run pays once."""
    process, url = start_simulator(0, ["--rate-limit", "0"])
    try:
        empty = work / "empty"
        empty.mkdir()
        (empty / "config.json").write_text(json.dumps({"api_key": KEY, "api_url": url}))
        calls_only_catalog(empty / "config.json", empty)
        run_pair(url, empty, "empty", 1, None, None, page_size)
        return {who: CPU_SECONDS[empty / f"empty-{who.split()[0]}.jsonl"] for who in READERS}
    finally:
        process.terminate()


def throughput(args: argparse.Namespace) -> str:
    process, url = start_simulator(args.calls, ["--rate-limit", "0"])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "config.json").write_text(json.dumps({"api_key": KEY, "api_url": url}))
            calls_only_catalog(work / "config.json", work)
            startup = startup_cpu(work, args.page_size)
            header = [
                "| sync | reader | records | time | CPU | CPU per record "
                "| less start-up | records/s | peak memory | requests / minimum |",
                "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
            ]
            full_min = math.ceil(args.calls / args.page_size)
            backfill = f"backfill of {args.calls:,}"
            rows, tap_out = run_pair(
                url, work, backfill, full_min, None, None, args.page_size, startup
            )
            state = last_state(tap_out)
            bookmark = state["bookmarks"]["calls"]["replication_key_value"]
            changed = args.calls * args.changed_percent // 100
            control(url, "/_sim/mutate", {"update": changed})
            inc_min = math.ceil((changed + 1) / args.page_size)
            more, _ = run_pair(
                url,
                work,
                f"incremental, {changed:,} changed",
                inc_min,
                state,
                bookmark,
                args.page_size,
            )
            tap, floor = READERS
            ratio = CPU_PER_RECORD[(backfill, tap)] / CPU_PER_RECORD[(backfill, floor)]
            marginal = MARGINAL[(backfill, tap)] / MARGINAL[(backfill, floor)]
            summary = (
                f"\n\nCPU per record of the backfill, {tap} ÷ {floor}: **{ratio:.2f}**; less "
                f"each reader's start-up ({startup[tap]:.2f} s and {startup[floor]:.2f} s, "
                f"measured on an empty list): **{marginal:.2f}**."
            )
            return "\n".join(header + rows + more) + summary
    finally:
        process.terminate()


def rate_limited(args: argparse.Namespace) -> str:
    window = args.window
    process, url = start_simulator(args.calls, ["--rate-limit", "100", "--window", str(window)])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            config = work / "config.json"
            config.write_text(json.dumps({"api_key": KEY, "api_url": url, "page_size": 100}))
            catalog = calls_only_catalog(config, work)
            before = control(url, "/_sim/stats")
            elapsed, _, records = measure(tap_cli(config, catalog), work / "out.jsonl")
            after = control(url, "/_sim/stats")
            sent = after["requests"] - before["requests"]
            limited = after["rate_limited"] - before["rate_limited"]
            ideal = (math.ceil(sent / 100) - 1) * window
            return (
                f"| requests sent | 429s received | records | time | ideal time "
                f"(windows of {window:g} s) |\n|--:|--:|--:|--:|--:|\n"
                f"| {sent} | {limited} | {records:,} | {elapsed:.1f} s | {ideal:.1f} s |"
            )
    finally:
        process.terminate()


#: How the resume benchmark reads: a label, the simulator's options, ``calls_pages_ahead``,
#: and where the kills land (shares of the calls).
RESUME_SETUPS = [
    ("one page at a time", ["--rate-limit", "0"], None, (10, 50, 90)),
    (
        "8 pages read together (150 ms answers, 1,000/min)",
        ["--rate-limit", "100", "--window", "6", "--latency", "0.15", "--reset-unit", "ms"],
        8,
        (10, 50, 90),
    ),
]


def resume(args: argparse.Namespace) -> str:
    rows = [
        "| reading | killed at | pages read before the kill | pages left "
        "| pages the resumed run read | calls sent again | calls lost |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for label, extra, pages_ahead, shares in RESUME_SETUPS:
        for share in shares:
            process, url = start_simulator(args.calls, extra)
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    rows.append(
                        f"| {label} | " + resume_row(args, url, Path(tmp), share, pages_ahead)
                    )
            finally:
                process.terminate()
    return "\n".join(rows)


def resume_row(
    args: argparse.Namespace, url: str, work: Path, share: int, pages_ahead: int | None
) -> str:
    """Kill a backfill (SIGKILL) once it wrote ``share`` % of the calls, resume it: a row."""
    config = work / "config.json"
    settings: dict[str, Any] = {"api_key": KEY, "api_url": url, "page_size": args.page_size}
    if pages_ahead is not None:
        settings["calls_pages_ahead"] = pages_ahead
    config.write_text(json.dumps(settings))
    catalog = calls_only_catalog(config, work)
    killed = subprocess.Popen(
        tap_cli(config, catalog),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert killed.stdout is not None
    first_ids, state, records = set(), None, 0
    for line in killed.stdout:
        if line.startswith('{"type":"RECORD"'):
            records += 1
            first_ids.add(json.loads(line)["record"]["id"])
            if records >= args.calls * share // 100:
                killed.kill()
                break
        elif line.startswith('{"type":"STATE"'):
            state = json.loads(line)["value"]
    killed.wait()
    before = control(url, "/_sim/stats")["by_endpoint"].get("list_calls", 0)
    checkpoint = state["bookmarks"]["calls"]["resume"] if state else None
    rows_read = checkpoint["rows_read"] if checkpoint else 0
    (work / "state.json").write_text(json.dumps(state or {}))
    output = work / "resumed.jsonl"
    if pages_ahead is not None:
        time.sleep(6.5)  # a fresh window, as for a run started later
    measure([*tap_cli(config, catalog), "--state", str(work / "state.json")], output)
    read = control(url, "/_sim/stats")["by_endpoint"]["list_calls"] - before
    resumed_ids = [
        json.loads(line)["record"]["id"]
        for line in output.open()
        if line.startswith('{"type":"RECORD"')
    ]
    again = sum(1 for call_id in resumed_ids if call_id in first_ids)
    lost = args.calls - len(first_ids | set(resumed_ids))
    left = math.ceil((args.calls - rows_read) / args.page_size)
    return f"{share} % | {before} | {left} | {read} | {again} | {lost} |"


def accounts(args: argparse.Namespace) -> str:
    """Three organisations of ``--calls`` calls each, side by side, against one alone.

    Each is a simulator of its own (its key, its rate limit: 1,000 a minute as 100 per 6 s,
    150 ms answers); a calls-only first sync of one, then of the three through `accounts`.
    """
    names = ("fr", "de", "it")
    extra = ["--rate-limit", "100", "--window", "6", "--latency", "0.15", "--reset-unit", "ms"]
    started = {
        name: start_simulator(
            args.calls, [*extra, "--api-key", f"sk_test_{name}", "--seed", str(i)]
        )
        for i, name in enumerate(names, start=1)
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            urls = {name: url for name, (_, url) in started.items()}
            alone = work / "alone.json"
            alone.write_text(json.dumps({"api_key": "sk_test_fr", "api_url": urls["fr"]}))
            catalog = calls_only_catalog(alone, work)
            one_seconds, _, one_records = measure(tap_cli(alone, catalog), work / "alone.jsonl")
            time.sleep(6.5)  # fr's window fresh again
            together = work / "together.json"
            together.write_text(
                json.dumps(
                    {
                        "accounts": [
                            {"name": n, "api_key": f"sk_test_{n}", "api_url": u}
                            for n, u in urls.items()
                        ]
                    }
                )
            )
            both = work / "together"
            both.mkdir()
            catalog = calls_only_catalog(together, both)
            before = {name: control(url, "/_sim/stats")["requests"] for name, url in urls.items()}
            seconds, _, records = measure(tap_cli(together, catalog), work / "together.jsonl")
            sent = {
                name: control(url, "/_sim/stats")["requests"] - before[name]
                for name, url in urls.items()
            }
    finally:
        for process, _ in started.values():
            process.terminate()
    ratio = seconds / one_seconds
    verdict = "within" if ratio <= 1.3 else "PAST"
    requests = ", ".join(f"{name} {count:,}" for name, count in sent.items())
    return "\n".join(
        [
            "| first sync, calls only | calls | requests | elapsed | against one alone |",
            "|---|--:|--:|--:|--:|",
            f"| one organisation alone | {one_records:,} | - | {one_seconds:.1f} s | 1.00 |",
            f"| three, through `accounts` | {records:,} | {requests} | {seconds:.1f} s "
            f"| {ratio:.2f} |",
            "",
            f"Three organisations side by side took {ratio:.2f}x the time of one alone "
            f"({verdict} the 1.3x target).",
        ]
    )


#: The privacy settings the benchmark measures: every rule at its most expensive.
PRIVATE = {
    "privacy_free_text": "redact",
    "privacy_pseudonymize": ["phone_numbers", "names", "emails", "profile_urls"],
    "privacy_people": "everyone",
    "privacy_key": "a-benchmark-privacy-key-32-chars",
}


def privacy(args: argparse.Namespace) -> str:
    """CPU per record with `privacy_free_text: redact` (every kind pseudonymised) and without.

    A simulator whose notes, transcripts and summaries name the people called; calls alone,
    then calls with recordings and transcriptions; each run in its own process, same data.
    The tap is compiled first, as an installed one is: compiling it at every start (where
    PYTHONDONTWRITEBYTECODE is set) would add the same cost to both and hide part of the ratio.
    """
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "tap_skipcall")], check=True)
    process, url = start_simulator(args.calls, ["--rate-limit", "0", "--personal-text"])
    empty, empty_url = start_simulator(0, ["--rate-limit", "0"])
    rows = [
        "| streams | run | records | CPU (median of 5) | CPU per record | against without "
        "| less start-up | against without |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    ratios: list[float] = []
    marginal: list[float] = []
    breakdown: list[str] = []
    try:
        for streams in (["calls"], ["calls", "call_recordings", "call_transcriptions"]):
            rows += privacy_rows((url, empty_url), streams, (ratios, marginal), breakdown)
    finally:
        process.terminate()
        empty.terminate()
    worst = max(ratios)
    verdict = "within" if worst <= 1.5 else "PAST"
    rows += [
        "",
        f"`redact` costs at most {worst:.2f}x the CPU per record ({verdict} the 1.5x target); "
        f"less each run's start-up (measured on an empty list), at most {max(marginal):.2f}x.",
        "",
        *breakdown,
    ]
    return "\n".join(rows)


def privacy_rows(
    urls: tuple[str, str],
    streams: list[str],
    ratios: tuple[list[float], list[float]],
    breakdown: list[str],
    repeat: int = 5,
) -> list[str]:
    """Runs of these streams without privacy settings and with them: the median of each.

    ``urls``: the simulator, and one with no calls, where each run's start-up is measured
    (the import of libphonenumber is not part of it: it comes with the first number).
    Interleaved, ``repeat`` of each, so that the machine's drifts hit both alike; ``ratios``
    gets the ratio per record, then the same less start-up. For calls alone, ``breakdown``
    gets where the added CPU goes (:func:`redact_in_process`).
    """
    import statistics

    runs = {"without privacy settings": {}, "with `redact`": PRIVATE}
    cpu: dict[tuple[str, str], list[float]] = {(label, url): [] for label in runs for url in urls}
    records: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        configs = {}
        for index, (label, settings) in enumerate(runs.items()):
            for at, url in enumerate(urls):
                configs[label, url] = work / f"config-{index}-{at}.json"
                configs[label, url].write_text(
                    json.dumps({"api_key": KEY, "api_url": url, **settings})
                )
        catalog = catalog_selecting(
            configs["without privacy settings", urls[0]], work, set(streams)
        )
        for attempt in range(repeat):
            for index, label in enumerate(runs):
                for at, url in enumerate(urls):
                    output = work / f"run-{attempt}-{index}-{at}.jsonl"
                    _, _, written = measure(tap_cli(configs[label, url], catalog), output)
                    cpu[label, url].append(CPU_SECONDS[output])
                    if url == urls[0]:
                        records[label] = written
        median = {key: statistics.median(values) for key, values in cpu.items()}
        per_record = {label: median[label, urls[0]] / max(records[label], 1) for label in runs}
        marginal = {
            label: (median[label, urls[0]] - median[label, urls[1]]) / max(records[label], 1)
            for label in runs
        }
        first, first_marginal = (
            per_record["without privacy settings"],
            marginal["without privacy settings"],
        )
        rows = [
            f"| {', '.join(streams)} | {label} | {records[label]:,} | "
            f"{median[label, urls[0]]:.2f} s | {per_record[label] * 1e6:,.0f} µs | "
            f"{per_record[label] / first:.2f} | {marginal[label] * 1e6:,.0f} µs | "
            f"{marginal[label] / first_marginal:.2f} |"
            for label in runs
        ]
        ratios[0].append(per_record["with `redact`"] / first)
        ratios[1].append(marginal["with `redact`"] / first_marginal)
        if streams == ["calls"]:
            added = (per_record["with `redact`"] - first) * 1e6
            breakdown.append(redact_in_process(work / f"run-{repeat - 1}-0-0.jsonl", added))
    return rows


def redact_in_process(output: Path, added: float, repeat: int = 5) -> str:
    """Where `redact`'s CPU goes: its transformation alone, and libphonenumber's matcher alone.

    In this process, on the calls a run without privacy settings wrote: ``Privacy.record``
    over each (a fresh one per pass, as a run starts), and the matcher over the same notes
    (those with six digits, as the tap searches); the best of ``repeat`` passes each.
    """
    import copy

    import phonenumbers

    sys.path.insert(0, str(ROOT))
    from tap_skipcall.privacy import privacy_of
    from tap_skipcall.privacy.text import ENOUGH_DIGITS

    lines = output.read_text().splitlines()
    rows = [json.loads(line)["record"] for line in lines if line.startswith('{"type":"RECORD"')]
    notes = [row["notes"] for row in rows if isinstance(row.get("notes"), str)]
    searched = [text for text in notes if ENOUGH_DIGITS.match(text)]
    transform = matcher = math.inf
    for _ in range(repeat):
        privacy = privacy_of(PRIVATE)
        assert privacy is not None
        fresh = copy.deepcopy(rows)
        started = time.process_time()
        for row in fresh:
            privacy.record("calls", row)
        transform = min(transform, (time.process_time() - started) / len(rows) * 1e6)
        started = time.process_time()
        for text in searched:
            list(
                phonenumbers.PhoneNumberMatcher(
                    text, privacy.rules.region, leniency=phonenumbers.Leniency.POSSIBLE
                )
            )
        matcher = min(matcher, (time.process_time() - started) / len(rows) * 1e6)
    return (
        f"Where it goes, calls alone: `redact` adds {added:.0f} µs a record to the run. Alone "
        f"in one process (best of {repeat}), its transformation takes {transform:.0f} µs a "
        f"call over the same {len(rows):,} calls, and libphonenumber's matcher, run alone over "
        f"their {len(searched):,} notes with six digits or more, {matcher:.0f} µs a call: "
        f"{matcher / transform:.0%} of the transformation."
    )


#: What the per-call streams' requests went to, in the days table.
DAY_PARTS = {
    "list": ("list_calls",),
    "recordings, transcriptions": ("recording", "transcription"),
    "contacts": ("get_contact",),
    "sequences": ("sequence_contacts",),
}


def days(args: argparse.Namespace) -> tuple[str, str]:
    """Days of one sync a day on a living account: the measurements table, the README's lines."""
    import shutil
    from datetime import timedelta

    sys.path.insert(0, str(ROOT))
    from skipcall_simulator import Dataset, Lifecycle, RunningSimulator, Simulator, SimulatorConfig
    from tap_skipcall.streams import STREAM_NAMES, STREAM_TYPES

    if shutil.which("faketime") is None:
        raise SystemExit("--days needs faketime (apt-get install faketime)")
    selections = {
        "default streams": {
            name
            for name, kind in zip(STREAM_NAMES, STREAM_TYPES, strict=True)
            if kind.selected_by_default
        },
        "every per-call stream": {
            "calls",
            "call_recordings",
            "call_transcriptions",
            "contacts",
            "sequence_contacts",
        },
    }
    costs: dict[str, list[int]] = {}
    parts: dict[str, list[dict[str, int]]] = {}
    reconciled_on: dict[str, list[int]] = {}
    for label, streams in selections.items():
        simulator = Simulator(Dataset(seed=1, n_calls=args.calls), SimulatorConfig(rate_limit=None))
        life = Lifecycle(simulator)
        with RunningSimulator(simulator) as sim, tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            config = work / "config.json"
            config.write_text(json.dumps({"api_key": KEY, "api_url": sim.url}))
            catalog = catalog_selecting(config, work, streams)
            state = None
            costs[label], parts[label], reconciled_on[label] = [], [], []
            for day in range(args.days + 1):
                if day:
                    simulator.data.clock.offset = timedelta(days=day)
                    life.day()
                command = [*tap_cli(config, catalog)]
                if state is not None:
                    (work / "state.json").write_text(json.dumps(state))
                    command += ["--state", str(work / "state.json")]
                if day:
                    command = ["faketime", "-f", f"+{day}d", *command]
                before = simulator.stats.requests
                endpoints = dict(simulator.stats.by_endpoint)
                output = work / f"day-{day}.jsonl"
                measure(command, output)
                costs[label].append(simulator.stats.requests - before)
                spent = {
                    key: count - endpoints.get(key, 0)
                    for key, count in simulator.stats.by_endpoint.items()
                }
                parts[label].append(
                    {part: sum(spent.get(e, 0) for e in keys) for part, keys in DAY_PARTS.items()}
                )
                previous = state
                state = last_state(output)
                if day and reconciled_at(state) != reconciled_at(previous):
                    reconciled_on[label].append(day)
    per_call = "every per-call stream"
    rows = [
        "| day | "
        + " | ".join(f"{label}: requests | % of day 0" for label in costs)
        + " | of which "
        + " / ".join(DAY_PARTS)
        + " |",
        "|--:|" + "--:|--:|" * len(costs) + "--:|",
    ]
    for day in range(args.days + 1):
        cells = []
        for series in costs.values():
            cells += [f"{series[day]:,}", f"{series[day] / series[0]:.0%}"]
        cells.append(" / ".join(f"{n:,}" for n in parts[per_call][day].values()))
        rows.append(f"| {day} | " + " | ".join(cells) + " |")
    lines = [
        f"| Measured: {args.calls:,} calls, a sync a day, {args.days} days "
        "(the table below) "
        "| first sync | a daily sync | the reconciliation day |",
        "|---|--:|--:|--:|",
    ]
    for label, series in costs.items():
        daily = [n for day, n in enumerate(series) if day and day not in reconciled_on[label]]
        reconciling = ", ".join(
            f"day {day}: {series[day]:,} ({series[day] / series[0]:.0%})"
            for day in reconciled_on[label]
        )
        lines.append(
            f"| {label} | {series[0]:,} | {min(daily):,} to {max(daily):,} "
            f"({min(daily) / series[0]:.0%} to {max(daily) / series[0]:.0%}) "
            f"| {reconciling or 'none'} |"
        )
    return "\n".join(rows), "\n".join(lines)


def reconciled_at(state: dict[str, Any] | None) -> Any:
    """When the calls list was last read whole, in a tap's state."""
    return ((state or {}).get("bookmarks") or {}).get("calls", {}).get("reconciled_at")


def every_stream_catalog(config: Path, work: Path) -> Path:
    return catalog_selecting(config, work, None)


AHEAD = re.compile(
    r"([\d,]+) requests? (?:was|were) started before (?:it was|they were) needed \((.*?)\)"
)


def requests_ahead(log: str) -> str:
    """``started / not needed`` from the tap's closing line about requests started ahead."""
    match = AHEAD.search(log)
    if match is None:
        return "-"
    unused = "0" if match[2] == "all of them used" else match[2].split()[0]
    return f"{match[1]} / {unused}"


@dataclass(frozen=True)
class Scenario:
    """One latency row: a backfill against slow answers on a rate-limited plan."""

    label: str
    calls: int
    answer_seconds: float
    #: Requests per 6-second window: 100 is a 1,000-a-minute plan, 10 a 100-a-minute one.
    limit: int
    every_stream: bool = False
    pages_ahead: int | None = None
    #: ``start_date`` at the call this far down the list (None: no start_date).
    start_at: float | None = None
    #: ``start_date`` as given (years before the first call, say).
    start_date: str | None = None
    #: The backfill killed after this share of its calls, then resumed (None: not killed).
    resume_after: float | None = None


SCENARIOS = [
    Scenario("every stream, 600 calls, 1,000/min", 600, 0.100, 100, every_stream=True),
    Scenario("every stream, 600 calls, 1,000/min", 600, 0.250, 100, every_stream=True),
    Scenario("calls only, 20,000 calls, 1,000/min, default", 20_000, 0.150, 100),
    Scenario("the same, `calls_pages_ahead` 1", 20_000, 0.150, 100, pages_ahead=1),
    # Longer lists for these two, so that they too read about 20,000 calls (and their progress
    # lines, every 10 s, come before the end).
    Scenario("40,000 calls, `start_date` halfway", 40_000, 0.150, 100, start_at=0.5),
    Scenario(
        "30,000 calls, resumed after a kill at a third", 30_000, 0.150, 100, resume_after=1 / 3
    ),
    Scenario("calls only, 5,000 calls, 100/min, default", 5_000, 0.250, 10),
    Scenario("the same, `calls_pages_ahead` 1", 5_000, 0.250, 10, pages_ahead=1),
    Scenario("the same, `start_date` halfway", 5_000, 0.250, 10, start_at=0.5),
    Scenario("the same, resumed after a kill at a third", 5_000, 0.250, 10, resume_after=1 / 3),
    Scenario("every stream, 60 calls, 100/min", 60, 0.250, 10, every_stream=True),
    # `start_date` years before the first call: the list's `total` bounds what is left.
    Scenario(
        "5,000 calls, 100/min, `start_date` 2020-01-01", 5_000, 0.250, 10, start_date="2020-01-01"
    ),
    Scenario(
        "the same, resumed after a kill at a third",
        5_000,
        0.250,
        10,
        start_date="2020-01-01",
        resume_after=1 / 3,
    ),
    Scenario(
        "30,000 calls, 1,000/min, `start_date` 2020-01-01",
        30_000,
        0.150,
        100,
        start_date="2020-01-01",
    ),
    Scenario(
        "the same, resumed after a kill at a third",
        30_000,
        0.150,
        100,
        start_date="2020-01-01",
        resume_after=1 / 3,
    ),
    # The setup a new user reported: 50,000 calls on a 100-a-minute plan (five minutes).
    Scenario(
        "50,000 calls, 100/min, `start_date` 2020-01-01", 50_000, 0.150, 10, start_date="2020-01-01"
    ),
    Scenario("50,000 calls, 100/min, no `start_date`", 50_000, 0.150, 10),
]


def killed_state(command: list[str], share: float, calls: int) -> dict:
    """Run the tap, kill it (SIGKILL) once it wrote ``share`` of the calls: its last STATE."""
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    state, records = None, 0
    for line in process.stdout:
        if line.startswith('{"type":"RECORD"'):
            records += 1
            if records >= calls * share:
                process.kill()
                break
        elif line.startswith('{"type":"STATE"'):
            state = json.loads(line)["value"]
    process.wait()
    if state is None:
        raise SystemExit("the killed run wrote no state")
    return state


#: Each scenario's first time left over the truth (the benchmark's check: within 2x).
ESTIMATES: list[tuple[str, float]] = []


def latency(args: argparse.Namespace) -> str:
    rows = [
        "| scenario | answers | requests | started ahead / not needed | elapsed "
        "| plan's time | budget used | pages' share | first time left / real | 429s |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for scenario in SCENARIOS:
        # Resets in milliseconds: rounding a 6-second window's reset up to a whole second
        # would cost up to a sixth of it, where it costs under 2 % of a real minute.
        extra = [
            "--rate-limit",
            str(scenario.limit),
            "--window",
            "6",
            "--latency",
            str(scenario.answer_seconds),
            "--reset-unit",
            "ms",
        ]
        process, url = start_simulator(scenario.calls, extra)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(latency_row(scenario, url, Path(tmp), args.concurrency))
        finally:
            process.terminate()
    worst = max(ESTIMATES, key=lambda item: max(item[1], 1 / item[1]), default=None)
    if worst is not None:
        factor = max(worst[1], 1 / worst[1])
        verdict = "within 2x" if factor <= 2 else "PAST 2x"
        rows.append("")
        rows.append(
            f"First time left against the truth, worst of {len(ESTIMATES)} setups: "
            f"{worst[1]:.2f} ({worst[0]}), {verdict}."
        )
    return "\n".join(rows)


def latency_row(scenario: Scenario, url: str, work: Path, concurrency: int) -> str:
    """Run one scenario against the simulator at ``url``: its row of the table."""
    config = work / "config.json"
    settings: dict[str, Any] = {
        "api_key": KEY,
        "api_url": url,
        "stats_start_date": "2024-01-01",
        "max_concurrent_requests": concurrency,
    }
    if scenario.pages_ahead is not None:
        settings["calls_pages_ahead"] = scenario.pages_ahead
    pages = math.ceil(scenario.calls / 100)
    if scenario.start_at is not None:
        stamps = sorted(
            (c["updatedAt"] for c in control(url, "/_sim/truth").values()), reverse=True
        )
        edge = int(len(stamps) * scenario.start_at)
        settings["start_date"] = stamps[edge]
        pages = math.ceil((edge + 1) / 100)
    elif scenario.start_date is not None:
        settings["start_date"] = scenario.start_date
    config.write_text(json.dumps(settings))
    catalog = (
        every_stream_catalog(config, work)
        if scenario.every_stream
        else calls_only_catalog(config, work)
    )
    command = tap_cli(config, catalog)
    if scenario.resume_after is not None:
        state = killed_state(command, scenario.resume_after, scenario.calls)
        rows_read = state["bookmarks"]["calls"]["resume"]["rows_read"]
        pages = math.ceil((scenario.calls - rows_read) / 100)
        (work / "state.json").write_text(json.dumps(state))
        command += ["--state", str(work / "state.json")]
        time.sleep(6.5)  # a fresh window, as for the other rows
    before = control(url, "/_sim/stats")
    log = work / "tap.log"
    started = time.perf_counter()
    with (work / "out.jsonl").open("w") as sink, log.open("w") as errors:
        subprocess.run(command, cwd=ROOT, stdout=sink, stderr=errors, check=True)
    elapsed = time.perf_counter() - started
    after = control(url, "/_sim/stats")
    sent = after["requests"] - before["requests"]
    limited = after["rate_limited"] - before["rate_limited"]
    plan = sent / scenario.limit * 6.0
    ahead = requests_ahead(log.read_text())
    share = "" if scenario.every_stream else f"{pages / scenario.limit * 6.0 / elapsed:.0%}"
    estimate = first_estimate(log.read_text())
    return (
        f"| {scenario.label} | {scenario.answer_seconds * 1000:.0f} ms | {sent:,} | {ahead} "
        f"| {elapsed:.1f} s | {plan:.1f} s | {plan / elapsed:.0%} | {share} "
        f"| {estimate_cell(scenario.label, estimate)} | {limited} |"
    )


def estimate_cell(label: str, estimate: tuple[float, float] | None) -> str:
    """``said s / real s`` and their ratio, noted for the check."""
    if estimate is None:
        return "-"
    said, real = estimate
    ESTIMATES.append((label, said / real if real else float("inf")))
    return f"{said:,.0f} s / {real:,.1f} s ({said / real:.2f})"


LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*?calls: (.*)$")
LEFT = re.compile(r"about (?:(\d+) h )?(\d+) (s|min) left")


def first_estimate(log: str) -> tuple[float, float] | None:
    """The first progress line's time left, and the time the sync of calls really took after it."""
    stamps: list[tuple[datetime, str]] = []
    for line in log.splitlines():
        found = LOG_LINE.match(line)
        if found is not None:
            stamps.append((datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f"), found[2]))
    first = next(((at, text) for at, text in stamps if LEFT.search(text)), None)
    done = next((at for at, text in stamps if " done in " in text), None)
    if first is None or done is None or done <= first[0]:
        return None
    left = LEFT.search(first[1])
    assert left is not None
    hours, amount, unit = int(left[1] or 0), int(left[2]), left[3]
    said = hours * 3600 + amount * (60 if unit == "min" else 1)
    return float(said), (done - first[0]).total_seconds()


def startup(args: argparse.Namespace) -> str:
    """Start-up CPU: before the observe package, now without OpenTelemetry, now with it."""
    import statistics
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "tap_skipcall/observe/__init__.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    before = f"{added[-1]}^" if added else "HEAD"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", before], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    process, url = start_simulator(0, ["--rate-limit", "0"])
    cpu: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            # Both as worktrees side by side, each compiled once before the runs: the same
            # files on the same disk, only the code differs.
            for name, commit_of in (("before", before), ("now", "HEAD")):
                subprocess.run(
                    ["git", "worktree", "add", "--detach", str(work / name), commit_of],
                    cwd=ROOT,
                    capture_output=True,
                    check=True,
                )
                subprocess.run(
                    [PYTHON, "-m", "compileall", "-q", str(work / name / "tap_skipcall")],
                    check=True,
                )
            try:
                config = work / "config.json"
                config.write_text(json.dumps({"api_key": KEY, "api_url": url}))
                catalog = calls_only_catalog(config, work)
                plain = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
                endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
                runs = {
                    f"before run reports (`{commit}`)": (work / "before", plain),
                    "now, `OTEL_EXPORTER_OTLP_ENDPOINT` unset": (work / "now", plain),
                    "now, exporting to a local OTLP receiver": (
                        work / "now",
                        {**plain, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
                    ),
                }
                for _ in range(args.repeat):  # interleaved: drifts of the machine hit all
                    for label, (tree, env) in runs.items():
                        run = subprocess.Popen(
                            tap_cli(config, catalog),
                            cwd=tree,
                            env={**env, "PYTHONPATH": str(tree)},
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                        )
                        _, status, usage = os.wait4(run.pid, 0)
                        if os.waitstatus_to_exitcode(status) != 0:
                            raise SystemExit(f"the tap failed ({label})")
                        cpu.setdefault(label, []).append(usage.ru_utime + usage.ru_stime)
            finally:
                for name in ("before", "now"):
                    subprocess.run(
                        ["git", "worktree", "remove", "--force", str(work / name)],
                        cwd=ROOT,
                        capture_output=True,
                    )
    finally:
        process.terminate()
        receiver.shutdown()
    base = statistics.median(next(iter(cpu.values())))
    rows = [
        f"| run | CPU, median of {args.repeat} | against before |",
        "|---|--:|--:|",
    ]
    for label, spent in cpu.items():
        median = statistics.median(spent)
        rows.append(f"| {label} | {median:.3f} s | {median / base:.2f} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=30_000)
    parser.add_argument("--changed-percent", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument(
        "--rate-limited",
        action="store_true",
        help="measure a sync under 100 requests per window instead",
    )
    parser.add_argument(
        "--window", type=float, default=6.0, help="rate-limit window in seconds for --rate-limited"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="kill a backfill at 10, 50 and 90 %% and measure the resumed run instead",
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="measure backfills against slow answers on a rate-limited plan instead",
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="max_concurrent_requests for --latency"
    )
    parser.add_argument(
        "--privacy",
        action="store_true",
        help="CPU per record with privacy_free_text redact against without instead",
    )
    parser.add_argument(
        "--accounts",
        action="store_true",
        help="three organisations (of --calls each) side by side against one alone instead",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=0,
        help="run this many days of one sync a day on a living account instead (faketime)",
    )
    parser.add_argument(
        "--startup",
        action="store_true",
        help="start-up CPU before run reports, now, and now with OpenTelemetry instead",
    )
    parser.add_argument("--repeat", type=int, default=9, help="runs of each for --startup")
    parser.add_argument(
        "--write", action="store_true", help="also write the table into docs/measurements.md"
    )
    args = parser.parse_args()
    if args.days:
        text, summary = days(args)
        print(summary)
        if args.write:
            replace_block(ROOT / "docs/measurements.md", "measured freshness costs", summary)
        block = "days"
    elif args.startup:
        block, text = "startup", startup(args)
    elif args.accounts:
        block, text = "accounts", accounts(args)
    elif args.privacy:
        block, text = "privacy", privacy(args)
    elif args.latency:
        block, text = "latency", latency(args)
    elif args.resume:
        block, text = "resume", resume(args)
    elif args.rate_limited:
        block, text = "rate limited", rate_limited(args)
    else:
        block, text = "throughput", throughput(args)
    print(text)
    if args.write:
        replace_block(ROOT / "docs/measurements.md", block, text)


if __name__ == "__main__":
    main()
