"""The bounded window-aggregate job in Flink SQL: parse and validate raw Kafka bytes, route bad records
to the dead-letter topic, set late readings aside, and compute 5-minute tumbling windows per device.

Source: topic T read from its first offset to the end it has when the job starts (batch mode).
- Validation is plain SQL over the JSON text (``IS JSON``, ``JSON_EXISTS``, ``JSON_QUERY ... WITH WRAPPER``
  to see a value's JSON type), following the contract in ``iotlab.core.contract`` field by field, so the same
  records are dead-lettered as by the Python validator. Bad records go to ``T.dlq`` with their original
  bytes and a ``dlq.reason`` header; the job never fails on bad input.
- Lateness, reproducibly: a reading is **late** when, by the time it arrives, its device has already sent
  a reading more than ``allowed_lateness`` past the end of the reading's window (arrival order = Kafka
  offset order, which a device's readings keep because the device is the key). Late readings go to
  ``T.late``; they are counted, never silently lost.
- Windows: 5-minute tumbling windows on event time per device, with count, avg/min/max temperature and
  avg humidity, written as JSON to ``T.windows``.

``graph_statements`` is the job's logic over a table of raw records; ``statements`` wires it to Kafka.
"""

from __future__ import annotations

from typing import Optional

from iotlab.core.settings import Settings, load_settings
from iotlab.core.topics import (
    DLQ_REASON,
    DLQ_SOURCE_OFFSET,
    DLQ_SOURCE_PARTITION,
    DLQ_SOURCE_TOPIC,
    OutputTopics,
)
from iotlab.core.windows import WINDOW_MINUTES
from iotlab.flink.environments import table_environment
from iotlab.flink.tables import json_sink_statement, raw_source_statement, set_aside_sink_statement

NUMBER = r"^\[-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\]$"
STRING = r'^\[".*"\]$'
TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$"

# Fast path. Almost every record is compact JSON with the contract's fields in contract order (what our
# producers write). One regular expression recognises that shape and captures the four values, so such a
# record is parsed once instead of once per JSON function below. Anything else takes the full JSON path.
_JSON_STRING = r'"([^"\\\x00-\x1f]+)"'
_JSON_NUMBER = r"(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"
CANONICAL = ('^\\{"device_id":' + _JSON_STRING
             + ',"timestamp":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,6})?Z)"'
             + ',"temperature":' + _JSON_NUMBER + ',"humidity":' + _JSON_NUMBER
             + ',"status":"[^"\\\\\\x00-\\x1f]*"\\}$')


def _json_type_is(field: str, pattern: str) -> str:
    return f"REGEXP(COALESCE(JSON_QUERY(txt, '$.{field}' WITH WRAPPER), ''), '{pattern}')"


def _number(field: str) -> str:
    return f"TRY_CAST(JSON_VALUE(txt, '$.{field}') AS DOUBLE)"


# The contract, check by check, in the order the Python validator reports the first problem:
# not JSON, not an object, the first missing field, then fields alphabetically (type before range).
REASON_SQL = f"""
CASE
  WHEN txt IS NULL OR NOT (txt IS JSON) THEN 'invalid_json'
  WHEN NOT (txt IS JSON OBJECT) THEN 'wrong_type: record'
  WHEN NOT JSON_EXISTS(txt, '$.device_id') THEN 'missing_field: device_id'
  WHEN NOT JSON_EXISTS(txt, '$.timestamp') THEN 'missing_field: timestamp'
  WHEN NOT JSON_EXISTS(txt, '$.temperature') THEN 'missing_field: temperature'
  WHEN NOT JSON_EXISTS(txt, '$.humidity') THEN 'missing_field: humidity'
  WHEN NOT JSON_EXISTS(txt, '$.status') THEN 'missing_field: status'
  WHEN NOT {_json_type_is('device_id', STRING)} THEN 'wrong_type: device_id'
  WHEN device_id = '' THEN 'impossible_value: device_id'
  WHEN NOT {_json_type_is('humidity', NUMBER)} THEN 'wrong_type: humidity'
  WHEN humidity < 0 OR humidity > 100 THEN 'impossible_value: humidity'
  WHEN NOT {_json_type_is('status', STRING)} THEN 'wrong_type: status'
  WHEN NOT {_json_type_is('temperature', NUMBER)} THEN 'wrong_type: temperature'
  WHEN temperature < -60 OR temperature > 85 THEN 'impossible_value: temperature'
  WHEN NOT {_json_type_is('timestamp', STRING)} THEN 'wrong_type: timestamp'
  WHEN NOT REGEXP(ts_text, '{TIMESTAMP}') THEN 'impossible_value: timestamp'
  ELSE {{timestamp_checks}}
END"""

# Values only (types and shape already known to be right), in the same order as above.
VALUE_CHECKS_SQL = """
CASE
  WHEN humidity < 0 OR humidity > 100 THEN 'impossible_value: humidity'
  WHEN temperature < -60 OR temperature > 85 THEN 'impossible_value: temperature'
  ELSE {timestamp_checks}
END"""

# The timestamp must be a real time: TO_TIMESTAMP gives NULL for nonsense, but is lenient about
# February 30 (it becomes March 2), so the parsed time must also print back as written.
TIMESTAMP_CHECKS_SQL = """
CASE
  WHEN event_time IS NULL THEN 'impossible_value: timestamp'
  WHEN DATE_FORMAT(event_time, 'yyyy-MM-dd HH:mm:ss') <> REPLACE(SUBSTRING(ts_text FROM 1 FOR 19), 'T', ' ')
    THEN 'impossible_value: timestamp'
  ELSE CAST(NULL AS STRING)
END"""
REASON_SQL = REASON_SQL.replace("{timestamp_checks}", TIMESTAMP_CHECKS_SQL)
VALUE_CHECKS_SQL = VALUE_CHECKS_SQL.replace("{timestamp_checks}", TIMESTAMP_CHECKS_SQL)


ISO = "'yyyy-MM-dd''T''HH:mm:ss''Z'''"  # SQL string literal of the pattern yyyy-MM-dd'T'HH:mm:ss'Z'


def _between_colon_and_comma(index: int) -> str:
    """A number in the compact shape: the piece between two quotes looks like `:23.05,`."""
    piece = f"SPLIT_INDEX(txt, '\"', {index})"
    return f"SUBSTRING({piece} FROM 2 FOR CHAR_LENGTH({piece}) - 2)"


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


def graph_statements(topic: str, allowed_lateness_minutes: int = 10) -> list[str]:
    """The job's graph as views over the table ``raw_readings`` (record_key, raw, partition, offset).

    The results are three views, ``window_rows``, ``dead_letter_rows`` and ``late_rows``, in the shapes of
    the sink tables. Nothing here knows where the records come from or go to: a Kafka topic in the job
    (``statements``), a Python collection in the unit tests. ``topic`` only names the records' source in the
    dead-letter headers.
    """
    late_window = f"INTERVAL '{allowed_lateness_minutes}' MINUTE"
    return [
        # ---- parse and validate
        f"""CREATE TEMPORARY VIEW extracted AS
SELECT *,
  TO_TIMESTAMP(REPLACE(REPLACE(ts_text, 'T', ' '), 'Z', '')) AS event_time
FROM (
  SELECT `record_key`, `raw`, `partition`, `offset`, txt, canonical,
    -- in the compact shape, the values sit between fixed quotes: SPLIT_INDEX is far cheaper than JSON
    IF(canonical, SPLIT_INDEX(txt, '"', 3), JSON_VALUE(txt, '$.device_id')) AS device_id,
    IF(canonical, SPLIT_INDEX(txt, '"', 7), JSON_VALUE(txt, '$.timestamp')) AS ts_text,
    TRY_CAST(IF(canonical, {_between_colon_and_comma(10)}, JSON_VALUE(txt, '$.temperature')) AS DOUBLE)
      AS temperature,
    TRY_CAST(IF(canonical, {_between_colon_and_comma(12)}, JSON_VALUE(txt, '$.humidity')) AS DOUBLE)
      AS humidity
  FROM (SELECT *, COALESCE(REGEXP(txt, '{CANONICAL}'), FALSE) AS canonical
        FROM (SELECT `record_key`, `raw`, `partition`, `offset`, CAST(`raw` AS STRING) AS txt FROM raw_readings)))""",
        f"""CREATE TEMPORARY VIEW parsed AS
SELECT *,
  CASE
    -- the fast path: shape and types are already right, only values are left to check
    WHEN canonical THEN {VALUE_CHECKS_SQL}
    ELSE {REASON_SQL}
  END AS reason
FROM extracted""",
        """CREATE TEMPORARY VIEW valid_readings AS
SELECT `record_key`, `raw`, `partition`, `offset`, device_id, event_time, temperature, humidity,
       -- the device's newest event time so far, in arrival (offset) order
       MAX(event_time) OVER (PARTITION BY device_id
                             ORDER BY `partition`, `offset` ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
         AS device_newest
FROM parsed WHERE reason IS NULL""",
        f"""CREATE TEMPORARY VIEW windowed AS
SELECT *, window_end <= device_newest - {late_window} AS is_late
FROM TABLE(TUMBLE(TABLE valid_readings, DESCRIPTOR(event_time), INTERVAL '{WINDOW_MINUTES}' MINUTE))""",
        # ---- the three outputs of one job
        f"""CREATE TEMPORARY VIEW window_rows AS
SELECT device_id AS device_key, device_id, DATE_FORMAT(window_start, {ISO}) AS window_start,
       DATE_FORMAT(window_end, {ISO}) AS window_end, COUNT(*) AS `count`, AVG(temperature) AS avg_temp,
       MIN(temperature) AS min_temp, MAX(temperature) AS max_temp, AVG(humidity) AS avg_humidity
FROM windowed WHERE NOT is_late
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
  'late.window_end', {_bytes(f"DATE_FORMAT(window_end, {ISO})")},
  'late.device_newest', {_bytes(f"DATE_FORMAT(device_newest, {ISO})")}] AS headers
FROM windowed WHERE is_late""",
    ]


def statements(topic: str, allowed_lateness_minutes: int = 10, settings: Optional[Settings] = None) -> list[str]:
    """The whole job, in order: the Kafka source, the sinks, the graph, and one INSERT per result.

    Printable, so learners can read the whole job.
    """
    settings = settings or load_settings()
    inserts = [f"INSERT INTO {sink} SELECT * FROM {view}" for view, sink in OUTPUT_VIEWS.items()]
    return ([raw_source_statement(topic, settings)] + sink_statements(topic, settings)
            + graph_statements(topic, allowed_lateness_minutes) + inserts)


def run(topic: str, allowed_lateness_minutes: int = 10, settings: Optional[Settings] = None) -> None:
    """Run the job to completion (bounded), in this process's mini cluster."""
    env = table_environment(batch=True, settings=settings)
    env.get_config().set("table.local-time-zone", "UTC")
    statement_set = env.create_statement_set()
    for statement in statements(topic, allowed_lateness_minutes, settings):
        if statement.startswith("INSERT"):
            statement_set.add_insert_sql(statement)
        else:
            env.execute_sql(statement)
    statement_set.execute().wait()
