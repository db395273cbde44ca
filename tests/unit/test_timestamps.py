"""RFC 3339 timestamps as devices send them: Z or a numeric offset, with or without a fraction."""

from __future__ import annotations

import json

import pytest

from iotlab.core import format_epoch_ms, parse_timestamp, timestamp_ms, validate_reading, window_start_ms
from iotlab.core.windows import OnEventWatermark, window_has_fired


@pytest.mark.parametrize("text, utc", [
    ("2025-11-05T12:00:00Z", "2025-11-05T12:00:00Z"),
    ("2025-11-05T12:00:00+00:00", "2025-11-05T12:00:00Z"),
    ("2025-11-05T07:00:00-05:00", "2025-11-05T12:00:00Z"),
    ("2025-11-05T23:30:00-05:00", "2025-11-06T04:30:00Z"),   # the next day in UTC
    ("2025-11-06T00:10:00+01:00", "2025-11-05T23:10:00Z"),   # the day before in UTC
    ("2025-11-05T12:00:00.5Z", "2025-11-05T12:00:00Z"),
])
def test_offsets_are_converted_to_utc(text, utc):
    assert format_epoch_ms(timestamp_ms(text)) == utc


@pytest.mark.parametrize("text, milliseconds", [
    ("2025-11-05T12:00:00.5Z", 500), ("2025-11-05T12:00:00.25+00:00", 250), ("2025-11-05T12:00:00.123Z", 123),
    ("2025-11-05T12:00:00.123456789Z", 123), ("2025-11-05T12:00:00.999999-01:00", 999),
])
def test_fractions_keep_their_milliseconds(text, milliseconds):
    assert timestamp_ms(text) % 1000 == milliseconds


def test_an_offset_can_move_a_reading_into_another_window():
    assert window_start_ms(timestamp_ms("2025-11-05T12:04:00-00:02")) == timestamp_ms("2025-11-05T12:05:00Z")


@pytest.mark.parametrize("text", [
    "2025-11-05T12:00:00", "2025-11-05 12:00:00Z", "2025-02-30T12:00:00Z", "2025-11-05T24:00:00Z",
    "2025-11-05T12:00:60Z", "2025-11-05T12:00:00+24:00", "2025-11-05T12:00:00+01:60", "2025-11-05T12:00:00.Z",
    "2025-11-05T12:00:00.1234567890Z", "2025-11-05T12:00:00z", "",
])
def test_what_is_not_a_real_rfc3339_time_is_refused(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)
    reading = {"device_id": "d", "timestamp": text, "temperature": 20, "humidity": 40, "status": "OK"}
    assert validate_reading(json.dumps(reading).encode())[1].startswith("impossible_value: timestamp")


def test_the_contract_accepts_offsets_and_fractions():
    for text in ("2026-03-14T06:02:00+00:00", "2026-03-14T06:02:00.125-05:30", "2026-03-14T06:02:00Z"):
        reading = {"device_id": "d", "timestamp": text, "temperature": 20, "humidity": 40, "status": "OK"}
        assert validate_reading(json.dumps(reading).encode()) == (reading, None)


def test_a_partition_watermark_is_shared_by_devices_and_fires_a_window_at_its_last_millisecond():
    watermark = OnEventWatermark(out_of_orderness_ms=0)
    assert not window_has_fired(0, watermark.current)
    watermark.observe(299_999)                     # device a, the last millisecond of window [0, 300000)
    assert window_has_fired(1_000, watermark.current)   # device b's reading in that window is late
    assert not window_has_fired(300_000, watermark.current)
