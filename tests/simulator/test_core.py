"""The Singer SDK's standard tap tests, run against a simulator."""

from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from skipcall_simulator import Dataset, RunningSimulator, Simulator, SimulatorConfig
from tap_skipcall.tap import TapSkipcall
from tests.helpers import ALL_STREAMS, catalog_selecting

_SIMULATOR = RunningSimulator(Simulator(Dataset(seed=11, n_calls=250), SimulatorConfig())).start()
atexit.register(_SIMULATOR.stop)

SAMPLE_CONFIG = {
    "api_key": _SIMULATOR.simulator.config.api_key,
    "api_url": _SIMULATOR.url,
    "start_date": "2025-01-01T00:00:00Z",
    "stats_start_date": "2025-01-01",
}


# Non-default streams (recordings, transcriptions, contacts, stats) are tested too.
TestTapSkipcall = get_tap_test_class(
    tap_class=TapSkipcall,
    config=SAMPLE_CONFIG,
    catalog=catalog_selecting(SAMPLE_CONFIG, ALL_STREAMS),
)
