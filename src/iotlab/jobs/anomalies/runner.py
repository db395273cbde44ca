"""``iotlab detect``: the detectors alone, bounded over a topic (from its first offset to its current end), in
this process; the alerts sorted, and how many of each kind."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from pyflink.common import Types
from pyflink.table import StreamTableEnvironment

from iotlab.core.settings import Settings, load_settings
from iotlab.flink.environments import stream_environment, stream_table_environment
from iotlab.flink.functions import function_statements
from iotlab.flink.tables import RAW_SOURCE_TABLE
from iotlab.jobs.anomalies.detectors import alert_order
from iotlab.jobs.anomalies.job import DETECTOR_OUT_OF_ORDERNESS_MINUTES, build_graph
from iotlab.jobs.anomalies.labels import KINDS
from iotlab.jobs.anomalies.silences import confirm_silences
from iotlab.jobs.anomalies.sql import detection_statements, spike_sweep_statement
from iotlab.jobs.window_aggregate.sql import graph_statements, source_statement
from iotlab.kafka import topic_size


@dataclass
class DetectionSummary:
    readings_in: int
    alerts: list[dict]
    skipped: int  # bad records that are not impossible values
    late: int
    seconds: float
    per_kind: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{kind}: {self.per_kind.get(kind, 0)}" for kind in KINDS)
        return [f"records in: {self.readings_in}, alerts: {len(self.alerts)} ({kinds}), "
                f"bad records skipped: {self.skipped}, late: {self.late} (in {self.seconds:.1f} s, "
                f"{self.readings_in / self.seconds:,.0f} records/s)"]


def sort_alerts(alerts: list[dict]) -> list[dict]:
    return sorted(alerts, key=alert_order)


ENGINES = ("sql", "python")


def bounded_source_tables(topic: str, out_of_orderness_minutes: int, group_id: str,
                          settings: Settings) -> StreamTableEnvironment:
    """A Table environment on this process's mini cluster (parallelism 1), with the course's SQL functions and
    ``topic`` as the table ``raw_readings``, bounded: event time and the watermark come from the source table,
    one per partition (the window job's source)."""
    env = stream_environment(settings=settings)
    env.set_parallelism(1)
    tables = stream_table_environment(env)
    for statement in function_statements():  # READING_TIME for the event time; the detectors' functions
        tables.execute_sql(statement)
    tables.execute_sql(source_statement(topic, settings, bounded=True, group_id=group_id,
                                        out_of_orderness_minutes=out_of_orderness_minutes))
    return tables


def detect_topic(topic: str, out_of_orderness_minutes: int = DETECTOR_OUT_OF_ORDERNESS_MINUTES,
                 settings: Optional[Settings] = None, engine: str = "sql") -> DetectionSummary:
    """Run the detectors over ``topic`` (bounded), in this process's mini cluster, and collect every result.

    ``engine``: ``sql``, the detectors as OVER aggregates in the JVM (``sql``; what the pipeline runs), or
    ``python``, the keyed Python function (``job``). Both raise the same alerts; the SQL ones are faster."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: use one of {ENGINES}")
    settings = settings or load_settings()
    started = time.monotonic()
    readings_in = topic_size(topic, settings)
    tables = bounded_source_tables(topic, out_of_orderness_minutes, "iotlab-detect", settings)
    if engine == "sql":
        for statement in graph_statements(topic) + detection_statements():
            tables.execute_sql(statement)
        rows = confirm_silences(tables.to_data_stream(tables.from_path("detection_outputs")))
        tagged = rows.map(lambda row: f"{row.kind} {row.row}", output_type=Types.STRING())
    else:
        outputs = build_graph(tables.to_data_stream(tables.from_path(RAW_SOURCE_TABLE)))
        tagged = outputs.alerts.map(lambda a: "alert " + a, output_type=Types.STRING()).union(
            outputs.skipped.map(lambda reason: "skipped " + reason, output_type=Types.STRING()),
            outputs.late.map(lambda at: f"late {at}", output_type=Types.STRING()))
    alerts, counts = [], Counter()
    with tagged.execute_and_collect(f"iotlab detect ({engine}): {topic}") as results:
        for line in results:
            tag, payload = line.split(" ", 1)
            counts[tag] += 1
            if tag == "alert":
                alerts.append(json.loads(payload))
    alerts = sort_alerts(alerts)
    return DetectionSummary(readings_in, alerts, counts["skipped"], counts["late"], time.monotonic() - started,
                            dict(Counter(alert["kind"] for alert in alerts)))


def write_alerts(alerts: list[dict], out: Path) -> None:
    """One JSON line per alert, keys sorted, in alert order: runs compare with ``diff``."""
    with out.open("w") as file:
        for alert in alerts:
            file.write(json.dumps(alert, sort_keys=True) + "\n")


def spike_alerts_by_threshold(topic: str, thresholds: list[float],
                              out_of_orderness_minutes: int = DETECTOR_OUT_OF_ORDERNESS_MINUTES,
                              settings: Optional[Settings] = None) -> dict[float, list[dict]]:
    """The spike detector's alerts over ``topic`` (bounded) at each threshold, from ONE SQL job in this
    process (``sql.spike_sweep_statement``): a precision-recall curve's points from a real run."""
    settings = settings or load_settings()
    tables = bounded_source_tables(topic, out_of_orderness_minutes, "iotlab-spike-sweep", settings)
    for statement in graph_statements(topic) + [spike_sweep_statement(thresholds)]:
        tables.execute_sql(statement)
    found: dict[float, list[dict]] = {float(threshold): [] for threshold in thresholds}
    with tables.from_path("spike_sweep").execute().collect() as rows:
        for row in rows:
            alert = json.loads(row[1])
            found[float(alert["details"]["threshold"])].append(alert)
    return {threshold: sort_alerts(alerts) for threshold, alerts in found.items()}
