"""Allowed lateness, live: a window that fires, then fires again for a late reading (notebook 05).

``reference`` computes what Flink's window operator emits for the scenario; ``runner`` feeds the scenario
to a real job one reading at a time and collects what it emits after each one.
"""

from iotlab.jobs.late_firings.reference import (
    ALLOWED_LATENESS_MINUTES,
    SCENARIO,
    SCENARIO_OUT_OF_ORDERNESS_MINUTES,
    Firing,
    Reading,
    scenario_results,
)
from iotlab.jobs.late_firings.runner import FIRING_TYPE, READING_TYPE, CountReadings, run_live

__all__ = ["ALLOWED_LATENESS_MINUTES", "FIRING_TYPE", "SCENARIO_OUT_OF_ORDERNESS_MINUTES", "READING_TYPE", "SCENARIO",
           "CountReadings", "Firing", "Reading", "run_live", "scenario_results"]
