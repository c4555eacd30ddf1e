"""Every thread the tap starts leaves SIGINT and SIGTERM to the main thread.

Otherwise the kernel may hand Ctrl-C to a thread pausing for the rate limit, and the main
thread, waiting for that thread's answer, would not run the handler until the pause ends.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import pytest

from tap_skipcall.accounts.run import run_accounts
from tap_skipcall.network.deadline import WATCHDOG
from tap_skipcall.network.transport import Transport
from tap_skipcall.threads import STOP_SIGNALS, threads_leave_signals

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signal masks")


def blocked() -> set[int]:
    """The signals the current thread blocks."""
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, []))


def test_a_request_started_ahead_runs_in_a_thread_that_blocks_the_stop_signals():
    transport = Transport(max_concurrent_requests=2)
    seen: list[set[int]] = []
    transport.ahead("k", lambda: seen.append(blocked()))  # type: ignore[arg-type,func-returns-value]
    transport.take("k").result(timeout=10)  # type: ignore[union-attr]
    transport.close()
    assert seen[0] >= STOP_SIGNALS
    assert not STOP_SIGNALS & blocked()  # the main thread still takes them


@pytest.mark.skipif(sys.platform != "linux", reason="reads the thread's mask in /proc")
def test_the_deadline_watchdog_blocks_them():
    with WATCHDOG.within(30):
        pass
    watchdogs = [t for t in threading.enumerate() if t.name == "skipcall-deadlines"]
    assert watchdogs  # (other tests may have started watchdogs of their own: each is checked)
    for watchdog in watchdogs:
        # another thread's mask, as the kernel has it
        status = Path(f"/proc/self/task/{watchdog.native_id}/status").read_text()
        blocked_mask = next(line for line in status.splitlines() if line.startswith("SigBlk:"))
        mask = int(blocked_mask.split()[1], 16)
        assert all(mask & (1 << (sig - 1)) for sig in STOP_SIGNALS)


def test_each_account_is_read_in_a_thread_that_blocks_them():
    seen: list[set[int]] = []

    class Tap:
        transport = Transport()

        def sync_all(self) -> None:
            seen.append(blocked())

    class Out:
        def write_message(self, message) -> None:
            pass

        def flush(self) -> None:
            pass

    from tap_skipcall.accounts.settings import accounts_in

    accounts = accounts_in(
        {"accounts": [{"name": "fr", "api_key": "k1"}, {"name": "de", "api_key": "k2"}]}
    )
    run_accounts(
        accounts,  # type: ignore[arg-type]
        {},
        state={},
        out=Out(),  # type: ignore[arg-type]
        make_tap=lambda *args: Tap(),
        logger=__import__("logging").getLogger("tests.accounts"),
    )
    assert len(seen) == 2
    assert all(mask >= STOP_SIGNALS for mask in seen)


def test_threads_a_library_starts_meanwhile_inherit_the_block():
    seen: list[set[int]] = []
    with threads_leave_signals():
        thread = threading.Thread(target=lambda: seen.append(blocked()))
        thread.start()
    thread.join()
    assert seen[0] >= STOP_SIGNALS
    assert not STOP_SIGNALS & blocked()  # and the main thread's mask is as it was
