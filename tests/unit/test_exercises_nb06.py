"""Notebook 06's pure check (silences) passes the reference and fails wrong answers."""

import pytest

from iotlab.course.exercises import nb06


def test_reference_passes():
    assert nb06.check_silences(nb06.silences).passed


def stub(*_args):
    raise NotImplementedError()


def test_stub_is_skipped():
    result = nb06.check_silences(stub)
    assert result.skipped and not result.passed


def in_arrival_order(arrivals, gap_ms, until_ms):
    """Compares each reading with the previous *arrival*: out-of-order readings invent silences."""
    previous, alerts = {}, []
    for device, event_ms in arrivals:
        if device in previous and event_ms - previous[device] > gap_ms and previous[device] + gap_ms <= until_ms:
            alerts.append((device, previous[device], previous[device] + gap_ms))
        previous[device] = event_ms
    for device, event_ms in previous.items():
        if event_ms + gap_ms <= until_ms:
            alerts.append((device, event_ms, event_ms + gap_ms))
    return sorted(alerts, key=lambda alert: (alert[2], alert[0]))


def gap_inclusive(arrivals, gap_ms, until_ms):
    """A gap of exactly gap_ms counted as a silence."""
    times = {}
    for device, event_ms in arrivals:
        times.setdefault(device, set()).add(event_ms)
    alerts = []
    for device, moments in times.items():
        ordered = sorted(moments)
        for current, following in zip(ordered, ordered[1:] + [None]):
            if (following is None or following - current >= gap_ms) and current + gap_ms <= until_ms:
                alerts.append((device, current, current + gap_ms))
    return sorted(alerts, key=lambda alert: (alert[2], alert[0]))


def ignores_until(arrivals, gap_ms, until_ms):
    return nb06.silences(arrivals, gap_ms, 2**63 - 1)


def no_final_silence(arrivals, gap_ms, until_ms):
    last = {}
    for device, event_ms in arrivals:
        last[device] = max(last.get(device, event_ms), event_ms)
    return [alert for alert in nb06.silences(arrivals, gap_ms, until_ms) if alert[1] != last[alert[0]]]


def sorted_by_device(arrivals, gap_ms, until_ms):
    return sorted(nb06.silences(arrivals, gap_ms, until_ms))


@pytest.mark.parametrize("wrong", [in_arrival_order, gap_inclusive, ignores_until, no_final_silence,
                                   sorted_by_device])
def test_silences_wrong_answers_fail(wrong):
    result = nb06.check_silences(wrong)
    assert not result.passed and not result.skipped


def test_silences_examples():
    minute = 60_000
    arrivals = [("d1", 0), ("d1", minute), ("d1", 20 * minute), ("d2", 5 * minute)]
    assert nb06.silences(arrivals, 10 * minute, 100 * minute) == [
        ("d1", minute, 11 * minute), ("d2", 5 * minute, 15 * minute), ("d1", 20 * minute, 30 * minute)]
    assert nb06.silences(arrivals, 10 * minute, 12 * minute) == [("d1", minute, 11 * minute)]
