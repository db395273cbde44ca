"""The course's PyFlink jobs, one folder each: the graph (a function from a stream or table of records to
its results), a reference implementation that computes the same results without Flink, and the wiring
to Kafka that notebooks, the command line and the tests run.

- ``device_averages``: per-device averages over a topic (batch, SQL);
- ``window_aggregate``: 5-minute windows per device, dead letters and late readings (SQL and DataStream);
- ``silence_alerts``: devices silent for 10 minutes, with keyed state and event-time timers;
- ``late_firings``: allowed lateness live, a window that fires again (notebook 05's exercise 05.4).
"""

from iotlab.jobs import device_averages, late_firings, silence_alerts, window_aggregate

__all__ = ["device_averages", "late_firings", "silence_alerts", "window_aggregate"]
