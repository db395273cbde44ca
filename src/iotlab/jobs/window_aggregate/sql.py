"""The window-aggregate job in Flink SQL: parse and validate raw Kafka bytes, route bad records to the
dead-letter topic, set late readings aside, and compute 5-minute tumbling windows per device on event time.

It runs in streaming mode, bounded or not: topic T is read from its first offset, to the end it has when the
job starts (``iotlab aggregate``) or for as long as the job runs.

- **Event time and watermarks, as Flink does them.** The source table derives ``event_time`` from each
  record's ``timestamp`` (RFC 3339: ``Z`` or a numeric offset, converted to UTC, with or without a fraction;
  ``READING_TIME``, a Java function) and declares
  ``WATERMARK FOR event_time AS event_time - INTERVAL 'B' MINUTE``: bounded out-of-orderness B.
  The watermark belongs to the source (one per Kafka partition, the minimum over them downstream), never to
  a device. ``'scan.watermark.emit.strategy' = 'on-event'`` emits it after every record instead of every
  200 ms, so on a one-partition topic the same input always gives the same watermarks, hence the same
  late readings. Every record whose timestamp can be read moves the watermark, even one dead-lettered for
  another field: the watermark is computed in the source, before validation.
- **Validation** follows the contract in ``iotlab.core.contract`` field by field, so the same records are
  dead-lettered as by the Python validator, with its one rule of processing time: a timestamp more than a day
  ahead of the wall clock is refused (``future_timestamp``). It runs once per record in Java
  (``PARSE_READING``, from ``iotlab.flink.functions``): JSON functions and regular expressions in SQL cost ten
  times as much, because the planner copies every expression into each place that reads it. Bad records go to
  ``T.dlq`` with their original bytes and a ``dlq.reason`` header; the job never fails on bad input.
- **Late readings.** A reading is late when its window has already fired: the window's last millisecond is
  not after the current watermark (``CURRENT_WATERMARK``). The window operator would drop it silently
  (counted only in its ``numLateRecordsDropped`` metric); this job routes it to ``T.late`` instead, so every
  valid reading ends up in exactly one place: a window or ``T.late``. Flink SQL's window table functions have no
  allowed lateness; the DataStream job (``datastream``) has.
- **Windows**: 5-minute ``TUMBLE`` per device, with count, avg/min/max temperature and avg humidity, written
  as JSON to ``T.windows``.

``source_statement`` and ``graph_statements`` are the job's logic; ``statements`` wires it to Kafka.
"""

from __future__ import annotations

from typing import Optional

from iotlab.core.contract import FUTURE_LIMIT_MS
from iotlab.core.settings import Settings, load_settings
from iotlab.core.topics import (
    DLQ_REASON,
    DLQ_SOURCE_OFFSET,
    DLQ_SOURCE_PARTITION,
    DLQ_SOURCE_TOPIC,
    OutputTopics,
)
from iotlab.core.windows import OUT_OF_ORDERNESS_MINUTES, WINDOW_MINUTES, WINDOW_MS
from iotlab.flink.environments import table_environment
from iotlab.flink.functions import function_statements
from iotlab.flink.tables import RAW_SOURCE_TABLE, json_sink_statement, kafka_options, set_aside_sink_statement

ISO = "'yyyy-MM-dd''T''HH:mm:ss''Z'''"  # SQL string literal of the pattern yyyy-MM-dd'T'HH:mm:ss'Z'


def source_columns(out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES) -> str:
    """The event-time column and the watermark of a table with a BYTES column ``raw``.

    A rowtime column must never be NULL: a record without a real time gets the start of the epoch, which
    never moves a watermark (and the record is dead-lettered before any window sees it)."""
    return ("  event_time AS TO_TIMESTAMP_LTZ(COALESCE(READING_TIME(`raw`), 0), 3),\n"
            f"  WATERMARK FOR event_time AS event_time - INTERVAL '{out_of_orderness_minutes}' MINUTE")


# Fetch many records per poll: the Kafka client's defaults (500 records, answers as soon as 1 byte is
# there) cost more than the rest of the job on a fast replay.
FAST_FETCH = ("'properties.max.poll.records' = '5000', 'properties.fetch.min.bytes' = '1000000', "
              "'properties.fetch.max.wait.ms' = '100'")


ON_EVENT, ON_PERIODIC = "on-event", "on-periodic"  # when the source emits its watermark (see the module)


def source_statement(topic: str, settings: Settings, bounded: bool = True, group_id: str = "iotlab-aggregate",
                     out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES, watermarks: str = ON_EVENT,
                     table: str = RAW_SOURCE_TABLE) -> str:
    """The Kafka source: original key and bytes, partition and offset, event time and watermark.

    ``watermarks``: ``ON_EVENT`` (after every record: the same input gives the same late readings, which the
    course's exercises and tests count) or ``ON_PERIODIC`` (every ``pipeline.auto-watermark-interval``, 200 ms:
    what a production job does, far fewer watermarks for every operator to handle; which readings are late
    then depends on timing, unless the stream's disorder stays within the bound and none is)."""
    options = (", 'scan.startup.mode' = 'earliest-offset', "
               + ("'scan.bounded.mode' = 'latest-offset', " if bounded else "")
               + f"'properties.group.id' = '{group_id}', 'format' = 'raw', "
               + "'key.format' = 'raw', 'key.fields' = 'record_key', 'value.fields-include' = 'EXCEPT_KEY', "
               + f"'scan.watermark.emit.strategy' = '{watermarks}', " + FAST_FETCH)
    return f"""CREATE TEMPORARY TABLE {table} (
  `record_key` BYTES,
  `raw` BYTES,
  `partition` INT METADATA VIRTUAL,
  `offset` BIGINT METADATA VIRTUAL,
{source_columns(out_of_orderness_minutes)}
) WITH ({kafka_options(topic, settings, options)})"""


def _bytes(expression: str) -> str:
    return f"CAST({expression} AS BYTES)"


# The graph's three results, as views, and the Kafka sink table each one is written to.
OUTPUT_VIEWS = {"window_rows": "window_sink", "dead_letter_rows": "dead_letter_sink", "late_rows": "late_sink"}


def sink_statements(topic: str, settings: Settings) -> list[str]:
    """The three sink tables: windows as JSON, dead letters and late readings as original bytes + headers."""
    out = OutputTopics(topic)
    return [
        json_sink_statement("window_sink", "device_id STRING, window_start STRING, window_end STRING, "
                            "`count` BIGINT, avg_temp DOUBLE, min_temp DOUBLE, max_temp DOUBLE, avg_humidity DOUBLE",
                            out.windows, settings),
        set_aside_sink_statement("dead_letter_sink", out.dead_letter, settings),
        set_aside_sink_statement("late_sink", out.late, settings),
    ]


# A window row's aggregates (the data contract's window row), over readings with temperature and humidity.
WINDOW_AGGREGATES = ("COUNT(*) AS `count`, AVG(temperature) AS avg_temp, MIN(temperature) AS min_temp, "
                     "MAX(temperature) AS max_temp, AVG(humidity) AS avg_humidity")


def graph_statements(topic: str, future_limit_ms: int = FUTURE_LIMIT_MS) -> list[str]:
    """The job's graph as views over ``raw_readings`` (record_key, raw, partition, offset, event_time).

    The results are three views, ``window_rows``, ``dead_letter_rows`` and ``late_rows``, in the shapes of
    the sink tables. Nothing here knows where the records come from or go to: a Kafka topic in the job
    (``statements``), a file in the unit tests. ``topic`` only names the records' source in the dead-letter
    headers. ``future_limit_ms``: how far ahead of the wall clock a reading's timestamp may be (the contract's
    ``future_timestamp`` rule), passed to ``PARSE_READING``.
    """
    return [
        # ---- parse and validate: once per record, in Java (iotlab.flink.functions)
        f"""CREATE TEMPORARY VIEW parsed AS
SELECT `record_key`, `raw`, `partition`, `offset`, event_time,
  r.device_id AS device_id, r.temperature AS temperature, r.humidity AS humidity, r.event_ms AS event_ms,
  r.reason AS reason, r.status AS status
FROM (SELECT *, PARSE_READING(`raw`, {int(future_limit_ms)}) AS r FROM {RAW_SOURCE_TABLE})""",
        # ---- on time or late: has the reading's window already fired when the reading arrives?
        f"""CREATE TEMPORARY VIEW marked AS
SELECT `record_key`, `raw`, device_id, event_time, event_ms, temperature, humidity, status,
  CURRENT_WATERMARK(event_time) AS watermark_on_arrival,
  -- the last millisecond of the reading's window is not after the watermark: the window has fired
  COALESCE(TO_TIMESTAMP_LTZ(window_start_ms + {WINDOW_MS} - 1, 3) <= CURRENT_WATERMARK(event_time), FALSE) AS is_late
FROM (SELECT *, event_ms - MOD(MOD(event_ms, {WINDOW_MS}) + {WINDOW_MS}, {WINDOW_MS}) AS window_start_ms
      FROM parsed WHERE reason IS NULL)""",
        f"""CREATE TEMPORARY VIEW window_rows AS
SELECT device_id AS device_key, device_id, DATE_FORMAT(window_start, {ISO}) AS window_start,
       DATE_FORMAT(window_end, {ISO}) AS window_end, {WINDOW_AGGREGATES}
FROM TABLE(TUMBLE(TABLE marked, DESCRIPTOR(event_time), INTERVAL '{WINDOW_MINUTES}' MINUTE))
WHERE NOT is_late
GROUP BY device_id, window_start, window_end""",
        f"""CREATE TEMPORARY VIEW dead_letter_rows AS
SELECT `record_key`, `raw`, MAP[
  '{DLQ_REASON}', {_bytes('reason')},
  '{DLQ_SOURCE_TOPIC}', {_bytes(f"'{topic}'")},
  '{DLQ_SOURCE_PARTITION}', {_bytes('CAST(`partition` AS STRING)')},
  '{DLQ_SOURCE_OFFSET}', {_bytes('CAST(`offset` AS STRING)')}] AS headers
FROM parsed WHERE reason IS NOT NULL""",
        f"""CREATE TEMPORARY VIEW late_rows AS
SELECT `record_key`, `raw`, MAP[
  'late.event_time', {_bytes(f"DATE_FORMAT(event_time, {ISO})")},
  'late.watermark', {_bytes(f"DATE_FORMAT(watermark_on_arrival, {ISO})")}] AS headers
FROM marked WHERE is_late""",
    ]


def statements(topic: str, out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES,
               settings: Optional[Settings] = None) -> list[str]:
    """The whole job, in order: the Java functions, the Kafka source, the sinks, the graph, and one INSERT
    per result.

    Printable, so learners can read the whole job.
    """
    settings = settings or load_settings()
    inserts = [f"INSERT INTO {sink} SELECT * FROM {view}" for view, sink in OUTPUT_VIEWS.items()]
    return (function_statements()
            + [source_statement(topic, settings, out_of_orderness_minutes=out_of_orderness_minutes)]
            + sink_statements(topic, settings) + graph_statements(topic) + inserts)


# Aggregate 5-minute windows locally before the shuffle by device, and let operators pass objects on
# without copying. (Not mini-batch: it would replace the watermarks that CURRENT_WATERMARK reads with
# processing-time batch markers.) The three INSERTs share the views `parsed` and `marked`: reuse by digest
# makes the planner compute them once per record for all three, instead of once per INSERT.
FAST_AGGREGATION = {
    "pipeline.object-reuse": "true",
    "table.optimizer.agg-phase-strategy": "TWO_PHASE",
    "table.optimizer.reuse-optimize-block-with-digest-enabled": "true",
}


def run(topic: str, out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES,
        settings: Optional[Settings] = None, parallelism: int = 1) -> float:
    """Run the job bounded (to the topic's current end), in this process's mini cluster, with ``parallelism``
    subtasks per operator (each source subtask reads some of the topic's partitions).

    Returns the job's net run time in seconds (as the cluster measured it: without planning the SQL and
    starting the mini cluster)."""
    env = table_environment(batch=False, settings=settings)
    for key, value in FAST_AGGREGATION.items():
        env.get_config().set(key, value)
    env.get_config().set("parallelism.default", str(parallelism))
    statement_set = env.create_statement_set()
    for statement in statements(topic, out_of_orderness_minutes, settings):
        if statement.startswith("INSERT"):
            statement_set.add_insert_sql(statement)
        else:
            env.execute_sql(statement)
    job = statement_set.execute().get_job_client()
    return job.get_job_execution_result().result().get_net_runtime() / 1000
