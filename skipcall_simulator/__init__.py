"""A local Skipcall API simulator: a development tool, not part of the published tap."""

from skipcall_simulator.data import Dataset
from skipcall_simulator.server import (
    Fault,
    MutationRule,
    RunningSimulator,
    Simulator,
    SimulatorConfig,
)

__all__ = ["Dataset", "Fault", "MutationRule", "RunningSimulator", "Simulator", "SimulatorConfig"]
