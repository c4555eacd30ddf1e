"""The small steps of scripts/demo that are easier in Python than in bash.

demo_report.py port [PORT]              a free port of 127.0.0.1 (PORT: check it is free)
demo_report.py wait URL                 wait until the simulator answers
demo_report.py mutate URL UPDATE CREATE change calls in the simulator
demo_report.py rows FOLDER              rows per stream that one run wrote
demo_report.py requests URL             requests the simulator served, by endpoint
demo_report.py bookmark < state.json    the calls bookmark in a Meltano state
demo_report.py report REPORT.json       a run report (run_report_path), summarised
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path


def control(url: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def wait(url: str) -> None:
    for _ in range(100):
        try:
            control(url, "/_sim/stats")
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("the simulator did not start: see .demo-simulator.log")


def port(wanted: str | None) -> None:
    """Print a free port, or stop with one sentence if the one asked for is taken."""
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", int(wanted or 0)))
        except OSError:
            sys.exit(
                f"scripts/demo stopped: port {wanted} of 127.0.0.1 is taken (by another "
                "simulator?): leave DEMO_PORT unset to use a free port, or stop what listens "
                "there."
            )
        print(sock.getsockname()[1])


def rows(folder: str) -> None:
    counts = {
        path.stem: sum(1 for _ in path.open()) for path in sorted(Path(folder).glob("*.jsonl"))
    }
    print("   rows sent: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))


def report(path: str) -> None:
    """A run report in four lines: outcome, records, requests and budget, bookmarks."""
    content = json.loads(Path(path).read_text())
    began = datetime.fromisoformat(content["started_at"].replace("Z", "+00:00"))
    ended = datetime.fromisoformat(content["finished_at"].replace("Z", "+00:00"))
    totals = content["totals"]
    records = ", ".join(
        f"{s['stream']} {s['records']:,}" for s in content["streams"] if s["records"]
    )
    used = totals["budget_used"]
    budget = f", {used:.1%} of the plan's budget" if used is not None else ""
    print(
        f"   {content['outcome']} in {(ended - began).total_seconds():.2f} s"
        + (f": {content['error']}" if content["error"] else "")
    )
    print(f"   records: {records or 'none'}")
    print(
        f"   {totals['requests']:,} requests, {totals['retries']} retries, "
        f"{totals['rate_limit_waits']} rate-limit waits ({totals['wait_seconds']:.0f} s){budget}"
    )
    for stream in content["streams"]:
        mark = stream["bookmark"]
        if mark["before"] != mark["after"]:
            print(f"   {stream['stream']} bookmark: {mark['before']} -> {mark['after']}")
    warnings = content["warnings"]
    print(f"   warnings: {len(warnings)}" + (f", the first: {warnings[0]}" if warnings else ""))


def main() -> None:
    command, *args = sys.argv[1:]
    if command == "port":
        port(args[0] if args else None)
    elif command == "wait":
        wait(args[0])
    elif command == "mutate":
        control(args[0], "/_sim/mutate", {"update": int(args[1]), "create": int(args[2])})
    elif command == "rows":
        rows(args[0])
    elif command == "requests":
        stats = control(args[0], "/_sim/stats")
        by_endpoint = ", ".join(f"{k} {v:,}" for k, v in sorted(stats["by_endpoint"].items()))
        limited = stats["rate_limited"]
        print(
            f"   {stats['requests']:,} requests in all ({by_endpoint}); "
            + ("none was refused for the rate limit" if not limited else f"{limited} answered 429")
        )
    elif command == "bookmark":
        lines = [line for line in sys.stdin.read().splitlines() if line.startswith("{")]
        calls = json.loads(lines[-1])["singer_state"]["bookmarks"]["calls"] if lines else {}
        at_bookmark = len(calls.get("ids_at_bookmark") or [])
        resume = (
            "the last run completed, nothing to resume"
            if not calls.get("resume")
            else "the last run was interrupted: the next one resumes it"
        )
        print(
            f"   the next run reads calls updated since {calls.get('replication_key_value')} "
            f"({at_bookmark} {'call' if at_bookmark == 1 else 'calls'} at that instant already "
            f"delivered); {resume}."
        )
    elif command == "report":
        report(args[0])
    elif command == "sql":
        import duckdb  # target-duckdb's virtualenv has it

        connection = duckdb.connect(args[0], read_only=True)
        for row in connection.sql(args[1]).fetchall():
            print("   " + " | ".join(str(value) for value in row))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
