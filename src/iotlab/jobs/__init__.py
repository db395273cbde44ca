"""The course's PyFlink jobs, one folder each: the graph (a function from a stream or table of records to
its results), a reference implementation that computes the same results without Flink, and the wiring
to Kafka that notebooks, the command line and the tests run.

- ``device_averages``: per-device averages over a topic (batch, SQL);
- ``window_aggregate``: 5-minute windows per device, dead letters and late readings (SQL and DataStream);
- ``silence_alerts``: devices silent for 10 minutes, with keyed state and event-time timers;
- ``late_firings``: allowed lateness live, a window that fires again (notebook 05's exercise 05.4).
"""

from iotlab.jobs import anomalies, device_averages, late_firings, pipeline, silence_alerts, window_aggregate

# What the notebooks use, from this room's top (tests/unit/test_public_surface.py): each job as a package, and the
# functions and constants they call by name.
from iotlab.jobs.anomalies import TOLERANCE_MINUTES, Ewma, detect_topic, spike_alerts_by_threshold
from iotlab.jobs.late_firings import FIRING_TYPE, SCENARIO, CountReadings, scenario_results
from iotlab.jobs.pipeline import CassandraWriter, as_awaitable, consumer_group, refused, written
from iotlab.jobs.silence_alerts import silences, valid_arrivals
from iotlab.jobs.window_aggregate import aggregate_lines, aggregate_topic, disorder_minutes, source_event_ms

__all__ = [
    "CassandraWriter", "CountReadings", "Ewma", "FIRING_TYPE", "SCENARIO", "TOLERANCE_MINUTES", "aggregate_lines",
    "aggregate_topic", "anomalies", "as_awaitable", "consumer_group", "detect_topic", "device_averages",
    "disorder_minutes", "late_firings", "pipeline", "refused", "scenario_results", "silence_alerts", "silences",
    "source_event_ms", "spike_alerts_by_threshold", "valid_arrivals", "window_aggregate", "written",
]
