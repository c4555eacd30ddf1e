"""A local Skipcall API simulator: a development tool, not part of the published tap."""

from skipcall_simulator.data import Dataset
from skipcall_simulator.faults import Fault
from skipcall_simulator.lifecycle import Lifecycle
from skipcall_simulator.mutations import MutationRule
from skipcall_simulator.server import RunningSimulator, Simulator, SimulatorConfig

__all__ = [
    "Dataset",
    "Fault",
    "Lifecycle",
    "MutationRule",
    "RunningSimulator",
    "Simulator",
    "SimulatorConfig",
]
