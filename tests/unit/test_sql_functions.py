"""The course's Java SQL functions (``iotlab.flink.functions``) agree with the Python contract on every
case: which records are refused and why (the first reason, the same order of checks), and the event time
each record gives the source's watermark. Run through Flink SQL, as the jobs call them.

Some cases are stamped relative to the wall clock (the contract's future rule): 2 days and 23 hours ahead, far
enough from the one-day limit that the minutes between building the cases and Java checking them do not
matter."""

from __future__ import annotations

import json
import time

import pytest
from pyflink.table import DataTypes

from iotlab.core.contract import FUTURE_LIMIT_MS, validate_reading
from iotlab.core.timestamps import format_epoch_ms, timestamp_ms
from iotlab.flink import table_environment
from iotlab.flink.functions import function_statements, functions_jar
from iotlab.jobs.window_aggregate.reference import source_event_ms


def reading(**changes) -> bytes:
    record = {"device_id": "device-01", "timestamp": "2025-11-05T12:00:00Z", "temperature": 21.5,
              "humidity": 40, "status": "OK"}
    record.update(changes)
    return json.dumps({k: v for k, v in record.items() if v is not ...}).encode()


TIMESTAMPS = ["2025-11-05T12:00:00Z", "2025-11-05T12:00:00+00:00", "2025-11-05T07:00:00-05:00",
              "2025-11-05T17:30:00+05:30", "2025-11-05T23:59:59.999999999-23:59", "2025-11-05T12:00:00.5Z",
              "2025-11-05T12:00:00.123456Z", "2024-02-29T00:00:00Z", "1969-12-31T23:59:59.5Z",
              # not real times, or not RFC 3339
              "2025-02-30T12:00:00Z", "2025-11-31T00:00:00Z", "0000-01-01T00:00:00Z", "2025-11-05T24:00:00Z",
              "2025-11-05T12:60:00Z", "2025-11-05T12:00:60Z", "2025-11-05 12:00:00Z", "2025-11-05T12:00:00",
              "2025-11-05T12:00:00+24:00", "2025-11-05T12:00:00.Z", "2025-11-05T12:00:00.1234567890Z", "",
              # an offset that moves the time out of the years 0001-9999 in UTC: no real time either
              "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00", "0001-01-01T05:00:00+05:00"]

HOUR_MS = 3_600_000
WALL_MS = time.time_ns() // 1_000_000
IN_2_DAYS = format_epoch_ms(WALL_MS + 48 * HOUR_MS)
IN_23_HOURS = format_epoch_ms(WALL_MS + 23 * HOUR_MS)

CASES = [reading(timestamp=stamp) for stamp in TIMESTAMPS] + [
    reading(device_id=""), reading(device_id=7), reading(humidity=-0.1), reading(humidity=100),
    reading(humidity=100.01), reading(humidity="40"), reading(humidity=True), reading(status=None),
    reading(temperature=-60), reading(temperature=85.0001), reading(temperature=[1]), reading(timestamp=1),
    reading(status=...), reading(device_id=..., humidity="x"), reading(temperature="x", humidity=-1),
    reading(timestamp=..., temperature=99), reading(humidity=101, timestamp="2025-02-30T00:00:00Z"),
    reading(extra="fields are allowed"),
    b'{"device_id":"device-01","timestamp":"2025-11-05T12:00:00Z","temperature":1e2,"humidity":4E1,"status":"OK"}',
    b'{"device_id":"a","device_id":"b","timestamp":"2025-11-05T12:00:00Z","temperature":1,"humidity":2,"status":""}',
    b"not json", b"", b"[1, 2]", b"42", b'"text"', b"null", b'{"device_id": "device-01"', reading() + b" trailing",
    b'{"timestamp": "2025-11-05T12:00:00Z"} {}', "{\"device_id\": \"d\u00e9\"}".encode("latin-1"),
    # the future rule, and where it ranks: after missing fields and wrong types, before impossible values
    reading(timestamp=IN_2_DAYS), reading(timestamp=IN_23_HOURS), reading(timestamp="9999-12-31T23:59:59Z"),
    reading(timestamp=IN_2_DAYS, humidity=150), reading(timestamp=IN_2_DAYS, device_id=""),
    reading(timestamp=IN_2_DAYS, temperature="hot"), reading(timestamp=IN_2_DAYS, status=...),
    reading(timestamp=IN_23_HOURS, humidity=150),
]


@pytest.fixture(scope="module")
def java_results() -> dict[bytes, tuple]:
    env = table_environment(batch=True, kafka=False)
    for statement in function_statements():
        env.execute_sql(statement)
    schema = DataTypes.ROW([DataTypes.FIELD("raw", DataTypes.BYTES())])
    table = env.from_elements([(bytearray(case),) for case in CASES], schema)
    env.create_temporary_view("cases", table)
    rows = env.execute_sql("SELECT `raw`, r.device_id, r.temperature, r.humidity, r.event_ms, r.reason, "
                           f"READING_TIME(`raw`) FROM (SELECT `raw`, PARSE_READING(`raw`, {FUTURE_LIMIT_MS}) AS r "
                           "FROM cases)").collect()
    with rows:
        return {bytes(row[0]): (tuple(row[1:6]), row[6]) for row in rows}


def test_the_jar_is_built_once_per_version_of_the_sources():
    assert functions_jar() == functions_jar()
    assert functions_jar().stat().st_size > 1000


@pytest.mark.parametrize("raw", CASES, ids=range(len(CASES)))
def test_parse_reading_agrees_with_the_python_contract(java_results, raw):
    parsed, _ = java_results[raw]
    reading_, python_reason = validate_reading(raw)
    java_reason = parsed[4]
    if python_reason is None:
        assert java_reason is None
        assert (parsed[0], parsed[1], parsed[2]) == (reading_["device_id"], reading_["temperature"],
                                                      reading_["humidity"])
        assert parsed[3] == timestamp_ms(reading_["timestamp"])
    else:
        # Python's reasons go on with the details ("wrong_type: humidity '40' is not of type 'number'")
        assert java_reason is not None, python_reason
        assert python_reason == java_reason or python_reason.startswith((java_reason + " ", java_reason + ":")), \
            (python_reason, java_reason)


@pytest.mark.parametrize("raw", CASES, ids=range(len(CASES)))
def test_reading_time_is_the_event_time_the_reference_gives_the_watermark(java_results, raw):
    _, event_ms = java_results[raw]
    assert event_ms == source_event_ms(raw)


def test_the_cases_cover_every_reason():
    reasons = {validate_reading(case)[1].split(" ")[0] if validate_reading(case)[1] else "valid" for case in CASES}
    assert reasons == {"valid", "invalid_json:", "wrong_type:", "missing_field:", "impossible_value:",
                       "future_timestamp:"}


def test_the_future_limit_is_a_parameter_of_parse_reading():
    """An hour's limit refuses a reading 2 hours ahead, in both contracts; the default day accepts it."""
    raw = reading(timestamp=format_epoch_ms(time.time_ns() // 1_000_000 + 2 * HOUR_MS))
    env = table_environment(batch=True, kafka=False)
    for statement in function_statements():
        env.execute_sql(statement)
    schema = DataTypes.ROW([DataTypes.FIELD("raw", DataTypes.BYTES())])
    env.create_temporary_view("two_hours_ahead", env.from_elements([(bytearray(raw),)], schema))
    rows = env.execute_sql(f"SELECT by_hour.reason, by_day.reason FROM (SELECT PARSE_READING(`raw`, {HOUR_MS}) "
                           f"AS by_hour, PARSE_READING(`raw`, {FUTURE_LIMIT_MS}) AS by_day FROM two_hours_ahead)"
                           ).collect()
    with rows:
        [(hour, day)] = [tuple(row) for row in rows]
    assert (hour, day) == ("future_timestamp: timestamp", None)
    assert validate_reading(raw, max_ahead_ms=HOUR_MS)[1].startswith(hour + " ")
    assert validate_reading(raw)[1] is None
