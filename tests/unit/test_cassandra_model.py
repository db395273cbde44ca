"""Pure pieces of the Cassandra store: day buckets, the schema file, and how contract records become rows."""

import zlib
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from iotlab.cassandra import (
    DEVICE_BUCKETS,
    TABLES,
    alert_values,
    all_buckets,
    device_bucket,
    latest_reading_values,
    schema_statements,
    window_values,
)
from iotlab.cassandra.schema import check_keyspace_name
from iotlab.cassandra.store import ALERT_COLUMNS, WINDOW_COLUMNS
from iotlab.cassandra.writes import DAY_S, TTL_FLOOR_S
from iotlab.core.timestamps import as_utc, epoch_micros, timestamp_ms, utc_day, utc_days

UTC = timezone.utc


def test_utc_days_of_a_range():
    start = datetime(2025, 11, 5, 23, 30, tzinfo=UTC)
    assert utc_days(start, start + timedelta(minutes=30)) == [date(2025, 11, 5)]  # ends at midnight: one day
    assert utc_days(start, start + timedelta(minutes=31)) == [date(2025, 11, 5), date(2025, 11, 6)]
    assert utc_days(start, start) == [] and utc_days(start, start - timedelta(days=1)) == []
    assert len(utc_days(start, start + timedelta(days=7))) == 8


def test_utc_day_converts_offsets():
    assert utc_day(datetime(2025, 11, 5, 23, 30, tzinfo=timezone(timedelta(hours=-5)))) == date(2025, 11, 6)


def test_schema_has_every_table_qualified_with_the_keyspace():
    statements = schema_statements("iotlab_x")
    for table in TABLES:
        assert any(f"CREATE TABLE IF NOT EXISTS iotlab_x.{table} (" in statement for statement in statements)
    assert any("ON iotlab_x.alerts_by_day (kind) USING 'sai'" in statement for statement in statements)
    assert not any("--" in statement for statement in statements)  # comments removed
    assert all(statement.count("PRIMARY KEY") <= 1 for statement in statements)


@pytest.mark.parametrize("name", ["IotLab", "1iot", "iot-lab", "a" * 49, "iot lab; DROP"])
def test_keyspace_names_are_checked(name):
    with pytest.raises(ValueError):
        check_keyspace_name(name)


def test_as_utc_and_epoch_micros():
    assert as_utc("2025-11-05T12:00:00+01:00") == datetime(2025, 11, 5, 11, tzinfo=UTC)
    assert as_utc(datetime(2025, 11, 5, 11)) == datetime(2025, 11, 5, 11, tzinfo=UTC)  # naive means UTC
    assert as_utc(1_762_344_000_000) == datetime(2025, 11, 5, 12, tzinfo=UTC)
    assert epoch_micros("2025-11-05T12:00:00.250Z") == 1_762_344_000_250_000


def test_window_values_bucket_by_the_utc_day_of_the_start():
    values = window_values({"device_id": "device-01", "window_start": "2025-11-05T23:55:00Z",
                            "window_end": "2025-11-06T00:00:00Z", "count": 5, "avg_temp": 21, "min_temp": 20,
                            "max_temp": 22.5, "avg_humidity": 40})
    assert values[:3] == ("device-01", date(2025, 11, 5), datetime(2025, 11, 5, 23, 55, tzinfo=UTC))
    assert values[4:9] == (5, 21.0, 20.0, 22.5, 40.0) and isinstance(values[5], float)


def test_the_last_value_is_the_ttl_counted_from_the_event_time():
    window = {"device_id": "device-01", "window_start": "2025-11-05T23:55:00Z", "window_end": "2025-11-06T00:00:00Z",
              "count": 5, "avg_temp": 21, "min_temp": 20, "max_temp": 22.5, "avg_humidity": 40}
    ten_days_later = timestamp_ms("2025-11-15T23:55:00Z")
    assert window_values(window, now_ms=ten_days_later)[-1] == (90 - 10) * DAY_S  # the windows keep 90 days
    assert window_values(window, 30 * DAY_S, now_ms=ten_days_later)[-1] == 20 * DAY_S  # a shorter retention
    assert window_values(window, now_ms=timestamp_ms("2026-12-05T00:00:00Z"))[-1] == TTL_FLOOR_S  # too old: the floor
    alert = {"device_id": "d", "kind": "spike", "alert_at": "2025-11-05T23:55:00Z", "start": "2025-11-05T23:50:00Z",
             "end": "2025-11-05T23:55:00Z"}
    assert alert_values(alert, now_ms=ten_days_later)[-1] == (365 - 10) * DAY_S  # the alerts keep a year
    assert len(window_values(window)) == len(WINDOW_COLUMNS) + 1 and len(alert_values(alert)) == len(ALERT_COLUMNS) + 1


def test_alert_values_store_details_as_stable_json():
    alert = {"device_id": "d", "kind": "spike", "alert_at": "2025-11-06T00:00:00Z", "start": "2025-11-05T23:58:00Z",
             "end": "2025-11-06T00:00:00Z", "score": 7, "details": {"z": 4, "baseline_minutes": 30}}
    values = dict(zip(ALERT_COLUMNS, alert_values(alert)))
    assert values["day"] == date(2025, 11, 6) and values["score"] == 7.0
    assert values["details"] == '{"baseline_minutes": 30, "z": 4}'
    assert values["quantity"] == "all"  # an alert written before alerts had a quantity
    assert values["bucket"] == device_bucket("d")
    assert alert_values({**alert, "score": None, "details": None})[-3:-1] == (None, None)


def test_a_device_is_always_in_the_same_bucket_and_the_fleet_spreads_over_all_of_them():
    assert device_bucket("device-01") == device_bucket("device-01") == zlib.crc32(b"device-01") % DEVICE_BUCKETS
    buckets = Counter(device_bucket(f"device-{number:04d}") for number in range(10_000))
    assert sorted(buckets) == all_buckets()
    assert max(buckets.values()) < 1.1 * 10_000 / DEVICE_BUCKETS  # even: no bucket 10% above its share


def test_latest_reading_values_name_the_device_bucket_and_the_event_time():
    values = latest_reading_values({"device_id": "device-07", "timestamp": "2025-11-05T12:00:00.250Z",
                                    "temperature": 21, "humidity": 40, "status": "OK"})
    assert values[:3] == ("fleet", device_bucket("device-07"), "device-07")
    assert values[-1] == 1_762_344_000_250_000


def test_a_write_summary_says_its_counts_without_a_stray_comma_and_its_line_adds_the_timing():
    from iotlab.cassandra.writes import WriteSummary

    summary = WriteSummary(attempted=3, written=2, failures=[(1, "InvalidRequest: null key")], seconds=0.5)
    assert summary.counts() == "wrote 2 of 3 rows, 1 failed"
    assert summary.line() == ("wrote 2 of 3 rows, 1 failed, in 0.5 s (4 rows/s); first failure, row 1: "
                              "InvalidRequest: null key")


def test_naive_time_columns_finds_times_without_a_zone_and_only_those():
    import pandas as pd

    from iotlab.cassandra import naive_time_columns

    frame = pd.DataFrame({"naive": pd.to_datetime(["2025-11-05T12:00:00"]),
                          "aware": pd.to_datetime(["2025-11-05T12:00:00Z"], utc=True), "text": ["x"]})
    assert naive_time_columns(frame) == ["naive"]
