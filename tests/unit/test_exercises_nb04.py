"""Notebook 04's pure check (parse_reading) passes the reference and fails wrong answers."""

import json

import pytest
from pyflink.common import Row

from iotlab.course.exercises import nb04


def test_reference_passes():
    assert nb04.check_parse_reading(nb04.parse_reading).passed


def seconds_not_milliseconds(raw):
    row = nb04.parse_reading(raw)
    return Row(device_id=row.device_id, event_ms=row.event_ms // 1000, temperature=row.temperature,
               humidity=row.humidity)


def keeps_integers(raw):
    reading = json.loads(raw)
    row = nb04.parse_reading(raw)
    return Row(device_id=row.device_id, event_ms=row.event_ms, temperature=reading["temperature"],
               humidity=reading["humidity"])


def crashes_on_bad_input(raw):
    reading = json.loads(raw)
    return nb04.parse_reading(json.dumps(reading).encode())


def returns_a_dict(raw):
    return nb04.parse_reading(raw).as_dict()


def local_time_not_utc(raw):
    row = nb04.parse_reading(raw)
    return Row(device_id=row.device_id, event_ms=row.event_ms - 3_600_000, temperature=row.temperature,
               humidity=row.humidity)


def accepts_impossible_values(raw):
    reading = json.loads(raw)
    if "humidity" in reading and isinstance(reading["humidity"], (int, float)) and reading["humidity"] > 100:
        reading["humidity"] = 100
    return nb04.parse_reading(json.dumps(reading).encode())


@pytest.mark.parametrize("wrong", [seconds_not_milliseconds, keeps_integers, crashes_on_bad_input, returns_a_dict,
                                   local_time_not_utc, accepts_impossible_values])
def test_wrong_answers_fail(wrong):
    result = nb04.check_parse_reading(wrong)
    assert not result.passed and not result.skipped


def test_stub_is_skipped():
    def stub(raw):
        raise NotImplementedError()

    assert nb04.check_parse_reading(stub).skipped
