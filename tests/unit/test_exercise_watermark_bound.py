"""Exercise 09.0 (the watermark's bound): the reference passes, and each wrong answer fails with the rule it broke.
The check needs no lab: the rule (a reading at or behind the watermark is late) is applied in plain Python."""

from __future__ import annotations

import json
import math

import pytest

from iotlab.core import MINUTE_MS, timestamp_ms, validate_reading
from iotlab.course.exercises import nb09


def event_times(lines: list[bytes]) -> list[int]:
    return [timestamp_ms(reading["timestamp"]) for reading, reason in map(validate_reading, lines) if reason is None]


def rounded_down(lines: list[bytes]) -> int:
    """The worst lag behind the newest reading, in whole minutes rounded DOWN."""
    newest, worst = None, 0
    for event_ms in event_times(lines):
        newest = event_ms if newest is None else max(newest, event_ms)
        worst = max(worst, newest - event_ms)
    return worst // MINUTE_MS


def behind_the_previous(lines: list[bytes]) -> int:
    """The worst lag behind the PREVIOUS reading only."""
    times = event_times(lines)
    return math.ceil(max([0] + [before - after for before, after in zip(times, times[1:])]) / MINUTE_MS)


def valid_readings_only(lines: list[bytes]) -> int:
    """The right rule, but over valid readings only: a dead-lettered record's timestamp moves the watermark too."""
    newest, worst = None, 0
    for event_ms in event_times(lines):
        newest = event_ms if newest is None else max(newest, event_ms)
        worst = max(worst, newest - event_ms)
    return math.ceil(worst / MINUTE_MS) + 5


def rounded_up_without_margin(lines: list[bytes]) -> int:
    """The worst lag rounded up, nothing added: a reading exactly a whole number of minutes behind sits on the
    watermark, and the pipeline sends it to T.late."""
    newest, worst = None, 0
    for line in lines:
        event_ms = nb09.source_event_ms(line)
        if event_ms is not None:
            newest = event_ms if newest is None else max(newest, event_ms)
            worst = max(worst, newest - event_ms)
    return math.ceil(worst / MINUTE_MS)


def every_record(lines: list[bytes]) -> int:
    """Reads a timestamp from every record, readings or not."""
    newest = max(timestamp_ms(json.loads(line)["timestamp"]) for line in lines)
    return 5 if newest else 0


def test_the_reference_passes_and_a_stub_is_skipped():
    assert nb09.check_watermark_bound(nb09.watermark_bound).passed

    def stub(lines):
        raise NotImplementedError("Exercise 09.0")

    assert nb09.check_watermark_bound(stub).skipped


@pytest.mark.parametrize("wrong, rule", [
    (rounded_down, "round up"),
    (behind_the_previous, "NEWEST event time"),
    (lambda lines: 5, "would be late"),
    (lambda lines: nb09.watermark_bound(lines) * 60, "the bound is in minutes"),
    (lambda lines: 2.5, "not a whole number"),
    (rounded_up_without_margin, "case 'one reading exactly 7 minutes behind'"),
    (valid_readings_only, "case 'a dead-lettered record ahead of the others'"),
    (every_record, "skip it"),
])
def test_wrong_bounds_fail_with_the_rule_they_broke(wrong, rule):
    result = nb09.check_watermark_bound(wrong)
    assert not result.passed and not result.skipped
    assert rule in result.message, result.message
