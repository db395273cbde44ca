"""The contract's one rule of processing time: a reading stamped more than ``FUTURE_LIMIT_MS`` (a day) ahead of the
wall clock is refused as ``future_timestamp`` (Cassandra's ``USING TIMESTAMP`` of event time would let it win
against every correct write until then). Python here; ``test_sql_functions`` holds the Java contract to the same
answers."""

from __future__ import annotations

import json

import pytest

from iotlab.core.contract import FUTURE_LIMIT_MS, validate_reading
from iotlab.core.timestamps import format_epoch_ms, timestamp_ms

NOW_MS = timestamp_ms("2026-12-05T08:00:00Z")
HOUR_MS = 3_600_000


def reading(at_ms: int, **changes) -> bytes:
    record = {"device_id": "device-01", "timestamp": format_epoch_ms(at_ms), "temperature": 21.5, "humidity": 40,
              "status": "OK"}
    record.update(changes)
    return json.dumps({k: v for k, v in record.items() if v is not ...}).encode()


def test_the_limit_is_one_day():
    assert FUTURE_LIMIT_MS == 24 * HOUR_MS


def test_a_reading_two_days_ahead_is_refused_and_the_reason_says_by_how_much():
    _, reason = validate_reading(reading(NOW_MS + 48 * HOUR_MS), now_ms=NOW_MS)
    assert reason == ("future_timestamp: timestamp '2026-12-07T08:00:00Z' is 2 days, 0:00:00 ahead of the wall "
                      "clock (the limit is 1 day, 0:00:00)")


def test_a_reading_23_hours_ahead_is_accepted_and_so_is_exactly_the_limit():
    for ahead_ms in (23 * HOUR_MS, FUTURE_LIMIT_MS):
        raw = reading(NOW_MS + ahead_ms)
        assert validate_reading(raw, now_ms=NOW_MS) == (json.loads(raw), None)
    # a second past the limit (the contract's timestamps here are whole seconds)
    assert validate_reading(reading(NOW_MS + FUTURE_LIMIT_MS + 1000), now_ms=NOW_MS)[1].startswith(
        "future_timestamp: timestamp '2026-12-06T08:00:01Z' is 1 day, 0:00:01 ahead")


def test_past_readings_are_never_future_however_old():
    for at in ("2025-11-05T12:00:00Z", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z"):
        assert validate_reading(reading(NOW_MS, timestamp=at), now_ms=NOW_MS)[1] is None


def test_the_limit_is_a_parameter():
    raw = reading(NOW_MS + 2 * HOUR_MS)
    assert validate_reading(raw, now_ms=NOW_MS)[1] is None
    assert validate_reading(raw, now_ms=NOW_MS, max_ahead_ms=HOUR_MS)[1] == (
        "future_timestamp: timestamp '2026-12-05T10:00:00Z' is 2:00:00 ahead of the wall clock "
        "(the limit is 1:00:00)")


def test_without_now_the_wall_clock_decides():
    import time

    wall_ms = time.time_ns() // 1_000_000
    assert validate_reading(reading(wall_ms + 48 * HOUR_MS))[1].startswith("future_timestamp: timestamp ")
    assert validate_reading(reading(wall_ms + 23 * HOUR_MS))[1] is None


@pytest.mark.parametrize("changes, expected", [
    ({"humidity": ...}, "missing_field: humidity"),  # missing fields first
    ({"temperature": "hot"}, "wrong_type: temperature 'hot' is not of type 'number'"),  # then wrong types
    ({"humidity": 150}, "future_timestamp: "),  # then the future timestamp, before impossible values
    ({"device_id": ""}, "future_timestamp: "),
])
def test_where_a_future_timestamp_ranks_among_other_faults(changes, expected):
    _, reason = validate_reading(reading(NOW_MS + 48 * HOUR_MS, **changes), now_ms=NOW_MS)
    assert reason.startswith(expected), reason


def test_a_record_refused_for_an_impossible_value_never_has_a_future_time():
    """What the out-of-range detector relies on: it takes such records as events at their time."""
    for ahead_ms in (0, 23 * HOUR_MS, 48 * HOUR_MS, 400 * 24 * HOUR_MS):
        _, reason = validate_reading(reading(NOW_MS + ahead_ms, humidity=150), now_ms=NOW_MS)
        assert reason.startswith("impossible_value: humidity") == (ahead_ms <= FUTURE_LIMIT_MS), reason


def test_a_time_an_offset_moves_beyond_year_9999_is_not_a_real_time_not_a_crash():
    raw = json.dumps({"device_id": "d", "timestamp": "9999-12-31T23:00:00-05:00", "temperature": 20,
                      "humidity": 40, "status": "OK"}).encode()
    assert validate_reading(raw, now_ms=NOW_MS)[1].startswith("impossible_value: timestamp")
