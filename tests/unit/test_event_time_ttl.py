"""TTLs counted from event time (``ttl_from_event_time``): a replay of old data does not live the full retention
from the replay, and never less than the floor. Pure functions, no Cassandra."""

from __future__ import annotations

import pytest

from iotlab.cassandra.schema import ALERTS_BY_DAY_TABLE, ALERTS_BY_DEVICE_TABLE, LATEST_READING_TABLE, WINDOWS_TABLE
from iotlab.cassandra.store import (
    ALERT_RETENTION_S,
    WINDOW_RETENTION_S,
    alert_ttl_s,
    table_retention_s,
    window_ttl_s,
)
from iotlab.cassandra.writes import DAY_S, TTL_FLOOR_S, ttl_from_event_time
from iotlab.core.timestamps import timestamp_ms

NOW_MS = timestamp_ms("2026-12-05T08:00:00Z")
DAY_MS = DAY_S * 1000
RETENTION_S = 90 * DAY_S


def test_the_retentions_are_the_schemas_default_ttls():
    assert (WINDOW_RETENTION_S, ALERT_RETENTION_S) == (90 * DAY_S, 365 * DAY_S)
    assert table_retention_s(ALERTS_BY_DEVICE_TABLE) == table_retention_s(ALERTS_BY_DAY_TABLE) == ALERT_RETENTION_S
    assert table_retention_s(WINDOWS_TABLE) == WINDOW_RETENTION_S
    assert table_retention_s(LATEST_READING_TABLE) is None  # overwritten all the time, never expires
    with pytest.raises(ValueError):
        table_retention_s("no_such_table")


def test_the_floor_is_a_week():
    assert TTL_FLOOR_S == 7 * DAY_S


def test_a_reading_of_now_gets_the_full_retention():
    assert ttl_from_event_time(NOW_MS, RETENTION_S, NOW_MS) == RETENTION_S


def test_the_age_of_the_data_is_taken_off_rounded_down():
    assert ttl_from_event_time(NOW_MS - 1, RETENTION_S, NOW_MS) == RETENTION_S - 1
    assert ttl_from_event_time(NOW_MS - 30 * DAY_MS, RETENTION_S, NOW_MS) == 60 * DAY_S
    assert ttl_from_event_time(NOW_MS - 80 * DAY_MS, RETENTION_S, NOW_MS) == 10 * DAY_S  # 80 days old: 10 left


def test_old_data_gets_the_floor():
    for age_ms in (89 * DAY_MS + 1, 90 * DAY_MS, 365 * DAY_MS, NOW_MS - timestamp_ms("2025-11-05T12:00:00Z")):
        assert ttl_from_event_time(NOW_MS - age_ms, RETENTION_S, NOW_MS) == TTL_FLOOR_S


def test_never_above_the_retention_never_below_one_second():
    assert ttl_from_event_time(NOW_MS + 400 * DAY_MS, RETENTION_S, NOW_MS) == RETENTION_S  # from the future
    assert ttl_from_event_time(0, RETENTION_S, NOW_MS, floor_s=0) == 1  # a TTL of 0 would never expire
    assert ttl_from_event_time(0, 3600, NOW_MS) == 3600  # a floor above the retention gives the retention
    for age_days in range(-5, 500, 7):
        ttl = ttl_from_event_time(NOW_MS - age_days * DAY_MS, RETENTION_S, NOW_MS)
        assert TTL_FLOOR_S <= ttl <= RETENTION_S


def test_without_now_the_wall_clock_decides():
    import time

    wall_ms = time.time_ns() // 1_000_000
    assert RETENTION_S - 60 <= ttl_from_event_time(wall_ms, RETENTION_S) <= RETENTION_S


def test_windows_count_from_their_start_and_alerts_from_alert_at():
    window = {"device_id": "device-01", "window_start": "2026-11-05T08:00:00Z", "window_end": "2026-11-05T08:05:00Z"}
    assert window_ttl_s(window, NOW_MS) == 60 * DAY_S
    alert = {"device_id": "device-01", "kind": "spike", "alert_at": "2026-11-05T08:00:00Z"}
    assert alert_ttl_s(alert, NOW_MS) == 335 * DAY_S
    assert window_ttl_s({**window, "window_start": "2025-11-05T12:00:00Z"}, NOW_MS) == TTL_FLOOR_S
