"""Notebook 06's pure check (silences) passes the reference and fails wrong answers."""

import pytest

from iotlab.core import END_OF_INPUT
from iotlab.course.exercises import nb06


def test_reference_passes():
    assert nb06.check_silences(nb06.silences).passed


def stub(*_args):
    raise NotImplementedError()


def test_stub_is_skipped():
    result = nb06.check_silences(stub)
    assert result.skipped and not result.passed


def in_arrival_order(arrivals, gap_ms, watermark_ms):
    """Compares each reading with the previous *arrival*: out-of-order readings invent silences."""
    previous, alerts = {}, []
    for device, event_ms in arrivals:
        if device in previous and event_ms - previous[device] >= gap_ms and previous[device] + gap_ms <= watermark_ms:
            alerts.append((device, previous[device], previous[device] + gap_ms))
        previous[device] = event_ms
    return sorted(alerts, key=lambda alert: (alert[2], alert[0]))


def by_rule(arrivals, gap_ms, raised):
    """Silences by a rule of our own: ``raised(current, following)`` says whether the silence after ``current``
    counts (``following``: the next distinct time, or None)."""
    times = {}
    for device, event_ms in arrivals:
        times.setdefault(device, set()).add(event_ms)
    alerts = []
    for device, moments in times.items():
        ordered = sorted(moments)
        for current, following in zip(ordered, ordered[1:] + [None]):
            if raised(current, following):
                alerts.append((device, current, current + gap_ms))
    return sorted(alerts, key=lambda alert: (alert[2], alert[0]))


def gap_exclusive(arrivals, gap_ms, watermark_ms):
    """A gap of exactly gap_ms not counted as a silence (the rule notebook 06 had before the course's one)."""
    return by_rule(arrivals, gap_ms, lambda current, following: (following is None or following - current > gap_ms)
                   and current + gap_ms <= watermark_ms)


def end_is_a_silence(arrivals, gap_ms, watermark_ms):
    """Every device's last reading alerted at the end of the input."""
    return by_rule(arrivals, gap_ms, lambda current, following: (following is None or following - current >= gap_ms)
                   and current + gap_ms <= watermark_ms)


def ignores_watermark(arrivals, gap_ms, watermark_ms):
    return nb06.silences(arrivals, gap_ms, END_OF_INPUT)


def never_after_the_last(arrivals, gap_ms, watermark_ms):
    """No silence after a device's last reading, even when the watermark has passed it in a running job."""
    return by_rule(arrivals, gap_ms, lambda current, following: following is not None
                   and following - current >= gap_ms and current + gap_ms <= watermark_ms)


def sorted_by_device(arrivals, gap_ms, watermark_ms):
    return sorted(nb06.silences(arrivals, gap_ms, watermark_ms))


@pytest.mark.parametrize("wrong", [in_arrival_order, gap_exclusive, end_is_a_silence, ignores_watermark,
                                   never_after_the_last, sorted_by_device])
def test_silences_wrong_answers_fail(wrong):
    result = nb06.check_silences(wrong)
    assert not result.passed and not result.skipped


def test_silences_examples():
    minute = 60_000
    arrivals = [("d1", 0), ("d1", minute), ("d1", 20 * minute), ("d2", 5 * minute)]
    assert nb06.silences(arrivals, 10 * minute, 100 * minute) == [
        ("d1", minute, 11 * minute), ("d2", 5 * minute, 15 * minute), ("d1", 20 * minute, 30 * minute)]
    assert nb06.silences(arrivals, 10 * minute, 12 * minute) == [("d1", minute, 11 * minute)]
    assert nb06.silences(arrivals, 10 * minute, END_OF_INPUT) == [("d1", minute, 11 * minute)]
    assert nb06.silences([("d1", 0), ("d1", 10 * minute)], 10 * minute, END_OF_INPUT) == [("d1", 0, 10 * minute)]
