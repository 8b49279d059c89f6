"""A faithful simulator of Peaka's export-jobs API, for the demo, tests and benchmarks.

```python
clock = ManualClock()
sim = Simulator.seeded(clock=clock, seed=7)
async with SimulatorServer(sim) as server:
    ...  # PeakaClient(sim.seed_keys["ana-partner"], base_url=server.base_url)
clock.advance(60)  # jobs move on; status is a function of the clock
```
"""

from bot.simulator._clock import Clock, ManualClock, ScaledClock
from bot.simulator._content import CsvOptions
from bot.simulator._faults import Fault, FaultConfig
from bot.simulator._server import SimulatorServer
from bot.simulator._sources import Column, SimSource, default_sources
from bot.simulator._state import (
    OPERATIONS,
    ROW_LIMIT,
    ROW_LIMIT_ERROR,
    TRINO_ERRORS,
    SimJob,
    SimKey,
    SimProject,
    Simulator,
    SimUser,
)

__all__ = [
    "OPERATIONS",
    "ROW_LIMIT",
    "ROW_LIMIT_ERROR",
    "TRINO_ERRORS",
    "Clock",
    "Column",
    "CsvOptions",
    "Fault",
    "FaultConfig",
    "ManualClock",
    "ScaledClock",
    "SimJob",
    "SimKey",
    "SimProject",
    "SimSource",
    "SimUser",
    "Simulator",
    "SimulatorServer",
    "default_sources",
]
