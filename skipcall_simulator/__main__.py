"""Command line: ``python -m skipcall_simulator --calls 500 --port 8765``."""

from __future__ import annotations

import argparse
import contextlib

from skipcall_simulator.data import Dataset
from skipcall_simulator.server import SORT_STYLES, RunningSimulator, Simulator, SimulatorConfig


def main() -> None:
    """Start a simulator in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description="Serve a simulated Skipcall API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (0: any free port)")
    parser.add_argument("--calls", type=int, default=500, help="how many calls to generate")
    parser.add_argument("--workspaces", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1, help="same seed, same data")
    parser.add_argument("--api-key", default="sk_test_simulator", help="the key clients must send")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=1000,
        help="requests per window, all endpoints together (0: no limit)",
    )
    parser.add_argument("--window", type=float, default=60.0, help="rate-limit window in seconds")
    parser.add_argument(
        "--sort-styles",
        default=",".join(SORT_STYLES),
        help="wire forms of `sort` understood: deep_object,json,flat",
    )
    parser.add_argument(
        "--hide-deleted", action="store_true", help="leave soft-deleted calls out of lists"
    )
    parser.add_argument(
        "--reset-unit",
        choices=["s", "ms"],
        default="s",
        help="unit of X-RateLimit-Reset: Unix seconds (rounded up) or milliseconds",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds every answer waits (a far-away API)"
    )
    parser.add_argument(
        "--personal-text",
        action="store_true",
        help="notes and transcripts that name the people called, their numbers and e-mails",
    )
    parser.add_argument(
        "--jitter", type=float, default=0.0, help="up to this many seconds more, at random"
    )
    args = parser.parse_args()
    config = SimulatorConfig(
        api_key=args.api_key,
        rate_limit=args.rate_limit or None,
        window_seconds=args.window,
        hide_deleted=args.hide_deleted,
        sort_styles=tuple(s for s in args.sort_styles.split(",") if s),
        latency=args.latency,
        reset_unit=args.reset_unit,
        jitter=args.jitter,
    )
    simulator = Simulator(
        Dataset(
            seed=args.seed,
            n_calls=args.calls,
            n_workspaces=args.workspaces,
            personal_text=args.personal_text,
        ),
        config,
    )
    running = RunningSimulator(simulator, port=args.port)
    print(
        f"Skipcall simulator: {args.calls} calls on {running.url} (key {args.api_key})", flush=True
    )
    with contextlib.suppress(KeyboardInterrupt):
        running.serve_forever()


if __name__ == "__main__":
    main()
