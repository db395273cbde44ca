"""The pipeline's graph in Flink SQL: from raw Kafka records to the rows the Cassandra store keeps.

It extends the window-aggregate job (``iotlab.jobs.window_aggregate.sql``: parse and validate once per
record in Java, dead letters, late readings, 5-minute windows) with more results, and turns every kind of
row for Cassandra into ONE stream, so a single Python operator writes them all:

- ``windows_and_latest``: per device and 5-minute window of event time, the window's aggregates and the
  device's newest reading in it (``LATEST_READING``, one more aggregate of the same GROUP BY), emitted when the
  watermark passes the window's end. The latest-reading table is written ``USING TIMESTAMP`` of the event
  time, so only the newest write of a device survives anyway, and one write per device and window costs
  Cassandra (and the Python writer, about a millisecond of CPU per row on the lab's machine) a few hundred
  times less than one per reading. Why not a window deduplication (``ROW_NUMBER() ... = 1``): it would be one
  more operator that every reading is sent to; the profile of the bounded run showed it at 5% of the CPU.
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

from iotlab.core.offline import OFFLINE_GAP_MINUTES
from iotlab.core.windows import OUT_OF_ORDERNESS_MINUTES, WINDOW_MINUTES
from iotlab.jobs.anomalies.sql import ISO_MS, SILENCE, detector_statements, silence_statement
from iotlab.jobs.window_aggregate.sql import WINDOW_AGGREGATES, source_columns
from iotlab.jobs.window_aggregate.sql import graph_statements as window_graph_statements

LATEST_MINUTES = WINDOW_MINUTES  # the latest-reading table is updated once per device and window of event time
ISO = "'yyyy-MM-dd''T''HH:mm:ss''Z'''"
STORE_KINDS = ("window", "latest", "alert")  # the kinds of ``store_rows`` that go to Cassandra as they are
DEAD_LETTER, LATE = "dead_letter", "late"  # the other kinds of ``pipeline_outputs``, which go to Kafka only
NO_TEXT, NO_BYTES, NO_HEADERS = "CAST(NULL AS STRING)", "CAST(NULL AS BYTES)", "CAST(NULL AS MAP<STRING, BYTES>)"

__all__ = ["DEAD_LETTER", "LATE", "LATEST_MINUTES", "OUT_OF_ORDERNESS_MINUTES", "SILENCE", "STORE_KINDS",
           "graph_statements", "source_columns"]


def graph_statements(topic: str, gap_minutes: int = OFFLINE_GAP_MINUTES) -> list[str]:
    """The pipeline's views over ``raw_readings`` (record_key, raw, partition, offset, event_time).

    Results: ``store_rows`` (kind, device_id, row; kind ``silence`` for offline candidates); ``dead_letter_rows``
    and ``late_rows`` (as in the window job); all of them in ``pipeline_outputs`` (kind, device_id, row,
    record_key, raw, headers).
    """
    return window_graph_statements(topic) + detector_statements() + [
        # ---- the readings that count: valid, and not late for their 5-minute window
        """CREATE TEMPORARY VIEW on_time AS
SELECT device_id, event_time, event_ms, temperature, humidity, status FROM marked WHERE NOT is_late""",
    ] + [silence_statement("on_time", gap_minutes)] + [
        # ---- per device and 5-minute window: the window's aggregates and its newest reading, in ONE aggregate
        f"""CREATE TEMPORARY VIEW windows_and_latest AS
SELECT device_id, DATE_FORMAT(window_start, {ISO}) AS window_start, DATE_FORMAT(window_end, {ISO}) AS window_end,
       {WINDOW_AGGREGATES}, LATEST_READING(event_ms, temperature, humidity, status) AS latest
FROM TABLE(TUMBLE(TABLE on_time, DESCRIPTOR(event_time), INTERVAL '{WINDOW_MINUTES}' MINUTE))
GROUP BY device_id, window_start, window_end""",
        # ---- everything Cassandra stores, as one stream: kind, device, the row in the contract's shape
        f"""CREATE TEMPORARY VIEW store_rows AS
-- both rows of a device's window from ONE scan of windows_and_latest: two SELECTs of it would each keep only
-- the columns they use, and the planner would then build two different aggregates over every reading
SELECT stored.kind, device_id, stored.`row` FROM (
  SELECT device_id, JSON_OBJECT(
    KEY 'device_id' VALUE device_id, KEY 'window_start' VALUE window_start, KEY 'window_end' VALUE window_end,
    KEY 'count' VALUE `count`, KEY 'avg_temp' VALUE avg_temp, KEY 'min_temp' VALUE min_temp,
    KEY 'max_temp' VALUE max_temp, KEY 'avg_humidity' VALUE avg_humidity) AS window_row,
  JSON_OBJECT(
    KEY 'device_id' VALUE device_id, KEY 'timestamp' VALUE DATE_FORMAT(TO_TIMESTAMP_LTZ(latest.event_ms, 3), {ISO_MS}),
    KEY 'temperature' VALUE latest.temperature, KEY 'humidity' VALUE latest.humidity,
    KEY 'status' VALUE latest.status) AS latest_row
  FROM windows_and_latest)
CROSS JOIN UNNEST(ARRAY[ROW(CAST('window' AS STRING), window_row), ROW(CAST('latest' AS STRING), latest_row)])
  AS stored(kind, `row`)
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
