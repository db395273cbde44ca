"""Notebook 04 (a first PyFlink job): a SQL query, parsing raw bytes to typed rows, results written to Kafka,
and the REST API."""

from __future__ import annotations

import json
import uuid
from typing import Callable

import pandas as pd
import requests
from pyflink.common import Row

from iotlab.core.settings import load_settings
from iotlab.course.checks import CheckResult, close, error_reason, failed, is_skipped, passed, skipped
from iotlab.flink.records import parse_reading
from iotlab.sim.sensors import generate_readings, to_json_bytes

# ----------------------------------------------------------------------------- 04.2 parse_reading


def _outcome(function: Callable, raw: bytes):
    try:
        row = function(raw)
    except ValueError as error:
        return ("ValueError", str(error).split(":")[0])
    if not isinstance(row, Row):
        return ("not a Row", type(row).__name__)
    values = row.as_dict() if hasattr(row, "as_dict") else {}
    return ("Row", {name: values.get(name) for name in ("device_id", "event_ms", "temperature", "humidity")},
            [type(values.get(name)).__name__ for name in ("device_id", "event_ms", "temperature", "humidity")])


PARSE_CASES = [
    ("a reading", to_json_bytes(next(generate_readings(1)))),
    ("integer temperature becomes a float", b'{"device_id":"d","timestamp":"2025-11-05T12:00:00Z",'
                                            b'"temperature":21,"humidity":40,"status":"OK"}'),
    ("millisecond timestamp", b'{"device_id":"d","timestamp":"2025-11-05T12:00:00.250Z",'
                              b'"temperature":1.5,"humidity":2.5,"status":"OK"}'),
    ("not JSON", b'{"device_id": "d", "tempera'),
    ("missing humidity", b'{"device_id":"d","timestamp":"2025-11-05T12:00:00Z","temperature":1,"status":"OK"}'),
    ("temperature as text", b'{"device_id":"d","timestamp":"2025-11-05T12:00:00Z","temperature":"hot",'
                            b'"humidity":1,"status":"OK"}'),
    ("humidity above 100", b'{"device_id":"d","timestamp":"2025-11-05T12:00:00Z","temperature":1,'
                           b'"humidity":101,"status":"OK"}'),
    ("before 1970", b'{"device_id":"d","timestamp":"1969-12-31T23:59:59Z","temperature":1,"humidity":1,'
                    b'"status":"OK"}'),
]


def check_parse_reading(function: Callable[[bytes], Row]) -> CheckResult:
    """Check 04.2: typed fields (str, int milliseconds, float, float) or ValueError with the reason category."""
    name = "parse_reading"
    if is_skipped(function, (PARSE_CASES[0][1],)):
        return skipped(name)
    for case_name, raw in PARSE_CASES:
        expected = _outcome(parse_reading, raw)
        try:
            actual = _outcome(function, raw)
        except Exception as error:
            return failed(name, f"case '{case_name}' raised {type(error).__name__}: {error}. Hint: raise ValueError "
                                "for every bad record, so the job can route it instead of failing")
        if not close(actual, expected):
            return failed(name, f"case '{case_name}': expected {expected}, got {actual}. Hint: validate with "
                                "iotlab.core.contract.validate_reading, raise ValueError(reason), and build "
                                "Row(device_id=..., event_ms=int milliseconds since 1970 UTC, temperature=float, "
                                "humidity=float)")
    return passed(name, f"all {len(PARSE_CASES)} cases correct")


# ----------------------------------------------------------------------------- 04.1 a SQL query


def _readings_table(purpose: str, count: int, devices: int, seed: int) -> tuple[list[dict], object]:
    """Simulated readings in a fresh two-partition topic, and a batch table environment where they are the
    table ``check_readings``: what the Flink SQL checks run on."""
    from iotlab.flink.environments import table_environment
    from iotlab.flink.tables import readings_source_ddl
    from iotlab.kafka import producer, recreate_topic

    topic = f"check.nb04.{purpose}.{uuid.uuid4().hex[:8]}"
    recreate_topic(topic, partitions=2)
    readings = list(generate_readings(count, devices=devices, seed=seed))
    writer = producer()
    for reading in readings:
        writer.produce(topic, key=reading["device_id"].encode(), value=json.dumps(reading).encode())
    writer.flush(30)
    env = table_environment(batch=True)
    env.execute_sql(readings_source_ddl("check_readings", topic, bounded=True))
    return readings, env


HOT_DEVICES_EXPECTED_COLUMNS = ["device_id", "readings", "max_temp"]


def hot_devices_sql(table: str, threshold: float) -> str:
    """Reference for 04.1: devices whose hottest reading is above ``threshold``, hottest first."""
    return f"""
SELECT device_id, COUNT(*) AS readings, MAX(temperature) AS max_temp
FROM {table}
GROUP BY device_id
HAVING MAX(temperature) > {threshold}
ORDER BY max_temp DESC"""


def _pandas_hot_devices(readings: list[dict], threshold: float) -> pd.DataFrame:
    frame = pd.DataFrame(readings)
    grouped = frame.groupby("device_id").agg(readings=("temperature", "size"), max_temp=("temperature", "max"))
    grouped = grouped[grouped.max_temp > threshold].sort_values("max_temp", ascending=False).reset_index()
    return grouped[HOT_DEVICES_EXPECTED_COLUMNS]


def check_hot_devices_sql(function: Callable[[str, float], str]) -> CheckResult:
    """Check 04.1: run the learner's query with Flink on a fresh topic and compare with pandas, at two
    thresholds and at one equal to a device's hottest reading (``>``, not ``>=``)."""
    name = "hot_devices_sql"
    if is_skipped(function, ("readings", 25.0)):
        return skipped(name)
    readings, env = _readings_table("hot", count=240, devices=12, seed=44)
    maxima = _pandas_hot_devices(readings, float("-inf")).max_temp  # every device's hottest reading
    boundary = maxima.iloc[len(maxima) // 2]  # a device's hottest reading: `>` leaves that device out, `>=` not
    for threshold in (25.0, 27.5, float(boundary)):
        try:
            actual = env.sql_query(function("check_readings", threshold)).to_pandas()
        except Exception as error:
            return failed(name, f"Flink could not run the query: {error_reason(error)}")
        expected = _pandas_hot_devices(readings, threshold)
        if list(actual.columns) != HOT_DEVICES_EXPECTED_COLUMNS:
            return failed(name, f"columns are {list(actual.columns)}, expected {HOT_DEVICES_EXPECTED_COLUMNS}. "
                                "Hint: name them with AS")
        difference = _difference(actual, expected, threshold)
        if difference:
            return failed(name, f"threshold {threshold}: {difference}. Hint: GROUP BY device_id, "
                                "HAVING MAX(temperature) > threshold, ORDER BY max_temp DESC")
    return passed(name, "the query gives what pandas gives, for three thresholds (one on a device's maximum)")


def _difference(actual: pd.DataFrame, expected: pd.DataFrame, threshold: float) -> str:
    """What differs between two results, in words ("" when nothing does)."""
    got, want = actual.to_dict("records"), expected.to_dict("records")
    got_devices, want_devices = [row["device_id"] for row in got], [row["device_id"] for row in want]
    extra = [device for device in got_devices if device not in want_devices]
    missing = [device for device in want_devices if device not in got_devices]
    if extra or missing:
        at_threshold = [row["device_id"] for row in got if row["device_id"] in extra and row["max_temp"] == threshold]
        note = (f" ({', '.join(at_threshold)}: hottest reading equal to the threshold, which is not above it)"
                if at_threshold else "")
        return f"devices not expected: {extra or 'none'}{note}; devices missing: {missing or 'none'}"
    if got_devices != want_devices:
        return f"the right devices in another order: got {got_devices}, expected {want_devices} (hottest first)"
    for got_row, want_row in zip(got, want):
        if got_row != want_row:
            return f"{got_row['device_id']}: got {got_row}, expected {want_row}"
    return ""


# ----------------------------------------------------------------------------- 04.3 results to Kafka

SUMMARY_VALUE_FIELDS = ["device_id", "readings", "avg_temp"]


def write_device_summary(tables, source_table: str, topic: str) -> None:
    """Reference for 04.3: per device of ``source_table``, its number of readings and average temperature,
    written to ``topic`` as JSON values keyed by the device id; returns once the job has finished."""
    tables.execute_sql(f"""
CREATE TEMPORARY TABLE device_summary (device_id STRING, readings BIGINT, avg_temp DOUBLE) WITH (
  'connector' = 'kafka',
  'topic' = '{topic}',
  'properties.bootstrap.servers' = '{load_settings().kafka_bootstrap_for_jobs}',
  'key.format' = 'raw',
  'key.fields' = 'device_id',
  'value.format' = 'json'
)""")
    tables.execute_sql(f"""
INSERT INTO device_summary
SELECT device_id, COUNT(*) AS readings, AVG(temperature) AS avg_temp FROM {source_table} GROUP BY device_id
""").wait()


def _summary_problem(messages: list, readings: list[dict], python_partitions: dict[str, int]) -> str:
    """What is wrong with the messages the learner's job wrote ("" when nothing is)."""
    expected = pd.DataFrame(readings).groupby("device_id").agg(readings=("temperature", "size"),
                                                               avg_temp=("temperature", "mean"))
    if not messages:
        return ("the topic is empty. Hint: execute_sql('INSERT INTO ...') starts a job and returns at once: "
                "call .wait() on its result so your function returns when the job has finished")
    keys = [message.key for message in messages]
    if any(key is None for key in keys):
        return ("messages have no key. Hint: 'key.format' = 'raw' and 'key.fields' = 'device_id' make the "
                "device id the key, so each device's results land on one partition")
    if len(messages) != len(expected):
        return f"{len(messages)} messages for {len(expected)} devices. Hint: one row per device: GROUP BY device_id"
    for message in messages:
        device = message.key.decode(errors="replace")
        try:
            value = json.loads(message.value)
        except ValueError:
            return f"the value of {device}'s message is not JSON: {message.value[:60]!r}. Hint: 'value.format' = 'json'"
        if sorted(value) != sorted(SUMMARY_VALUE_FIELDS):
            return f"{device}'s value has the fields {sorted(value)}, expected {SUMMARY_VALUE_FIELDS}"
        if device not in expected.index or value["device_id"] != device:
            return f"a message keyed {device!r} holds {value}: the key must be the row's device_id"
        want = expected.loc[device]
        if value["readings"] != want.readings or not close(value["avg_temp"], float(want.avg_temp)):
            return (f"{device}: got readings={value['readings']}, avg_temp={value['avg_temp']}; expected "
                    f"readings={int(want.readings)}, avg_temp={float(want.avg_temp)}")
        if message.partition != python_partitions[device]:
            return (f"{device} is on partition {message.partition}, where a keyed Python producer puts it on "
                    f"{python_partitions[device]}. Hint: keep Flink's default 'sink.partitioner' (the key's hash)")
    return ""


def check_write_device_summary(function: Callable[[object, str, str], None]) -> CheckResult:
    """Check 04.3: run the learner's sink and INSERT with Flink on fresh topics, read the output topic back
    and compare every message (key, partition, JSON value) with pandas and with the course's producer."""
    from iotlab.kafka import partitions_of_keys, read_topic, recreate_topic

    name = "write_device_summary"
    if is_skipped(function, (None, "readings", "topic")):
        return skipped(name)
    readings, env = _readings_table("summary-in", count=180, devices=9, seed=43)
    target = f"check.nb04.summary-out.{uuid.uuid4().hex[:8]}"
    recreate_topic(target, partitions=3)
    try:
        function(env, "check_readings", target)
    except Exception as error:
        return failed(name, f"raised {type(error).__name__}: {error_reason(error)}. Hint: CREATE TEMPORARY TABLE "
                            "with the kafka connector, then INSERT INTO it ... .wait()")
    messages = read_topic(target)
    devices = sorted({reading["device_id"] for reading in readings})
    recreate_topic(f"{target}.probe", partitions=3)  # like the output: where would Python put each key?
    python_partitions = partitions_of_keys(f"{target}.probe", devices)
    problem = _summary_problem(messages, readings, python_partitions)
    if problem:
        return failed(name, problem)
    return passed(name, f"{len(messages)} messages, one per device, keyed by device id, each on the partition a "
                        "Python producer picks for its key, values equal to pandas")


# ----------------------------------------------------------------------------- 04.4 the REST API


def job_names_by_state(rest_url: str) -> dict[str, list[str]]:
    """Reference for 04.4: {state: sorted job names} from the session cluster's REST API."""
    overview = requests.get(f"{rest_url}/jobs/overview", timeout=10).json()
    states: dict[str, list[str]] = {}
    for job in overview["jobs"]:
        states.setdefault(job["state"], []).append(job["name"])
    return {state: sorted(names) for state, names in states.items()}


def check_job_names_by_state(function: Callable[[str], dict]) -> CheckResult:
    """Check 04.4 against the lab's session cluster (whatever jobs it has run so far)."""
    name = "job_names_by_state"
    rest_url = load_settings().flink_rest_url
    if is_skipped(function, (rest_url,)):
        return skipped(name)
    try:
        actual = function(rest_url)
    except Exception as error:
        return failed(name, f"raised {type(error).__name__}: {error}. "
                            "Hint: requests.get(f'{rest_url}/jobs/overview').json()['jobs']")
    expected = job_names_by_state(rest_url)
    if actual != expected:
        return failed(name, f"expected {expected}, got {actual}. Hint: group the 'name' of each job in "
                            "/jobs/overview by its 'state', and sort each list")
    return passed(name, f"matches the REST API: {sum(len(v) for v in expected.values())} job(s) in "
                        f"{len(expected)} state(s)")
