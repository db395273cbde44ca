"""5-minute window aggregates per device, written twice (Flink SQL in ``sql``, the DataStream API in
``datastream``) with the same results, an independent pandas ``reference``, and the ``runner`` that
``iotlab aggregate`` and the notebooks call."""

from iotlab.jobs.window_aggregate import datastream, sql
from iotlab.jobs.window_aggregate.reference import ReferenceResult, aggregate_lines, disorder_minutes, source_event_ms
from iotlab.jobs.window_aggregate.runner import (
    APIS,
    WINDOW_FIELDS,
    AggregateSummary,
    aggregate_topic,
    final_windows,
    run_job,
)

__all__ = ["APIS", "AggregateSummary", "ReferenceResult", "WINDOW_FIELDS", "aggregate_lines", "aggregate_topic",
           "datastream", "disorder_minutes", "final_windows", "run_job", "source_event_ms", "sql"]
