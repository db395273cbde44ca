"""The pipeline's graph in Flink SQL: from raw Kafka records to the rows the Cassandra store keeps.

It extends the window-aggregate job (``iotlab.jobs.window_aggregate.sql``: parse and validate once per
record in Java, dead letters, late readings, 5-minute windows) with more results, and turns every kind of
row for Cassandra into ONE stream, so a single Python operator writes them all:

- ``latest_rows``: each device's newest reading per 5-minute window of event time. A *window
  deduplication* (``ROW_NUMBER() ... ORDER BY event_time DESC = 1`` over a ``TUMBLE``) keeps one reading per
  device and window and emits it when the watermark passes the window's end, with that window's aggregate:
  the latest-reading table is written ``USING TIMESTAMP`` of the event time, so only the newest write of a
  device survives anyway, and one write per device and window costs Cassandra (and the Python writer, about
  a millisecond of CPU per row on the lab's machine) a few hundred times less than one per reading.
- ``detector_alerts`` (``iotlab.jobs.anomalies.sql``): spike, stuck, drift and out-of-range alerts, the
  detectors as OVER aggregates; readings raise them, so the end of an input never does.
- ``silence_candidates`` (``iotlab.jobs.anomalies.sql``): a device that sent nothing for ``gap`` minutes. A
  *session window* per device closes once the watermark passes its last reading + gap: one "offline" alert,
  raised at last reading + gap. At the end of a bounded input Flink's final watermark closes every
  device's last session too, so these rows are *candidates* (kind ``silence``), which
  ``iotlab.jobs.anomalies.silences`` confirms or drops.
- ``store_rows`` = windows, latest readings, detector alerts and silence candidates, each as (kind,
  device_id, JSON in the data contract's shape). The writer (``cassandra_writer``) parses the JSON and
  sends the matching upserts.
- ``pipeline_outputs``: ``store_rows`` and the dead letters and late readings (``kind`` = ``dead_letter`` or
  ``late``, with the original key, bytes and headers), as ONE table. The job turns it into a DataStream once,
  then splits it by kind (``runner.build``). Why one: each conversion of a table to a DataStream is planned
  on its own, so two of them (Cassandra rows here, Kafka sinks there) read the topic twice.

Only the few rows that reach Cassandra cross to Python (about two per device and window); every reading
stays in the JVM, which is why the pipeline keeps the SQL job's speed (the bench measures it).

Every view is a function of its input table alone: the unit tests feed the graph from a file, the job
from Kafka (``runner``).
"""

from __future__ import annotations

from iotlab.core.windows import OUT_OF_ORDERNESS_MINUTES
from iotlab.jobs.anomalies.sql import GAP_MINUTES, ISO_MS, SILENCE, detector_statements, silence_statement
from iotlab.jobs.window_aggregate.sql import graph_statements as window_graph_statements
from iotlab.jobs.window_aggregate.sql import source_columns

LATEST_MINUTES = 5  # the latest-reading table is updated once per device and 5-minute window of event time
ISO = "'yyyy-MM-dd''T''HH:mm:ss''Z'''"
STORE_KINDS = ("window", "latest", "alert")  # the kinds of ``store_rows`` that go to Cassandra as they are
DEAD_LETTER, LATE = "dead_letter", "late"  # the other kinds of ``pipeline_outputs``, which go to Kafka only
NO_TEXT, NO_BYTES, NO_HEADERS = "CAST(NULL AS STRING)", "CAST(NULL AS BYTES)", "CAST(NULL AS MAP<STRING, BYTES>)"

__all__ = ["DEAD_LETTER", "GAP_MINUTES", "LATE", "LATEST_MINUTES", "OUT_OF_ORDERNESS_MINUTES", "SILENCE", "STORE_KINDS",
           "graph_statements", "source_columns"]


def graph_statements(topic: str, gap_minutes: int = GAP_MINUTES) -> list[str]:
    """The pipeline's views over ``raw_readings`` (record_key, raw, partition, offset, event_time).

    Results: ``store_rows`` (kind, device_id, row; kind ``silence`` for offline candidates); ``dead_letter_rows``
    and ``late_rows`` (as in the window job); all of them in ``pipeline_outputs`` (kind, device_id, row,
    record_key, raw, headers).
    """
    return window_graph_statements(topic) + detector_statements() + [
        # ---- the readings that count: valid, and not late for their 5-minute window
        """CREATE TEMPORARY VIEW on_time AS
SELECT `raw`, device_id, event_time, temperature, humidity FROM marked WHERE NOT is_late""",
    ] + [silence_statement("on_time", gap_minutes)] + [
        # ---- the newest reading of each device in each window (window deduplication, keep the last)
        f"""CREATE TEMPORARY VIEW latest_rows AS
SELECT device_id, DATE_FORMAT(event_time, {ISO_MS}) AS reading_at, temperature, humidity,
       JSON_VALUE(CAST(`raw` AS STRING), '$.status') AS status
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, device_id ORDER BY event_time DESC) AS n
  FROM TABLE(TUMBLE(TABLE on_time, DESCRIPTOR(event_time), INTERVAL '{LATEST_MINUTES}' MINUTE)))
WHERE n = 1""",
        # ---- everything Cassandra stores, as one stream: kind, device, the row in the contract's shape
        f"""CREATE TEMPORARY VIEW store_rows AS
SELECT 'window' AS kind, device_id, JSON_OBJECT(
  KEY 'device_id' VALUE device_id, KEY 'window_start' VALUE window_start, KEY 'window_end' VALUE window_end,
  KEY 'count' VALUE `count`, KEY 'avg_temp' VALUE avg_temp, KEY 'min_temp' VALUE min_temp,
  KEY 'max_temp' VALUE max_temp, KEY 'avg_humidity' VALUE avg_humidity) AS `row`
FROM window_rows
UNION ALL
SELECT 'latest' AS kind, device_id, JSON_OBJECT(
  KEY 'device_id' VALUE device_id, KEY 'timestamp' VALUE reading_at, KEY 'temperature' VALUE temperature,
  KEY 'humidity' VALUE humidity, KEY 'status' VALUE status) AS `row`
FROM latest_rows
UNION ALL
SELECT 'alert' AS kind, device_id, alert AS `row` FROM detector_alerts
UNION ALL
SELECT '{SILENCE}' AS kind, device_id, alert AS `row` FROM silence_candidates""",
        # ---- every output of the job as one stream, so the planner plans (and reads Kafka for) all of them once
        f"""CREATE TEMPORARY VIEW pipeline_outputs AS
SELECT kind, device_id, `row`, {NO_BYTES} AS record_key, {NO_BYTES} AS `raw`, {NO_HEADERS} AS headers
FROM store_rows
UNION ALL
SELECT '{DEAD_LETTER}' AS kind, {NO_TEXT} AS device_id, {NO_TEXT} AS `row`, record_key, `raw`, headers
FROM dead_letter_rows
UNION ALL
SELECT '{LATE}' AS kind, {NO_TEXT} AS device_id, {NO_TEXT} AS `row`, record_key, `raw`, headers FROM late_rows""",
    ]
