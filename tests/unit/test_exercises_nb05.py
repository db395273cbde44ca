"""Notebook 05's checks pass the references and fail wrong answers."""

import pytest

from iotlab.course.exercises import nb05


def test_references_pass():
    assert nb05.check_tumbling_window(nb05.tumbling_window).passed
    assert nb05.check_sliding_windows(nb05.sliding_windows).passed
    assert nb05.check_late_positions(nb05.late_positions).passed


@pytest.mark.parametrize("wrong", [
    lambda ts, size: (ts // size * size, ts // size * size + size - 1),       # inclusive end
    lambda ts, size: (round(ts / size) * size, round(ts / size) * size + size),  # rounds instead of flooring
    lambda ts, size: (ts - abs(ts) % size, ts - abs(ts) % size + size),       # wrong before 1970
    lambda ts, size: (ts, ts + size),                                         # not aligned
])
def test_tumbling_window_wrong_answers_fail(wrong):
    assert not nb05.check_tumbling_window(wrong).passed


@pytest.mark.parametrize("wrong", [
    lambda ts, size, slide: list(reversed(nb05.sliding_windows(ts, size, slide))),
    lambda ts, size, slide: nb05.sliding_windows(ts, size, slide)[1:],
    lambda ts, size, slide: [nb05.tumbling_window(ts, size)],
    lambda ts, size, slide: nb05.sliding_windows(ts, size + slide, slide),
])
def test_sliding_windows_wrong_answers_fail(wrong):
    assert not nb05.check_sliding_windows(wrong).passed


def per_device_watermark(arrivals, bound):
    """The rule this course used to teach: one watermark per device. Flink keeps one per partition."""
    watermarks, late = {}, []
    for position, (device, event_ms) in enumerate(arrivals):
        if device in watermarks and event_ms - event_ms % 300_000 + 300_000 - 1 <= watermarks[device]:
            late.append(position)
        watermarks[device] = max(watermarks.get(device, event_ms - bound), event_ms - bound)
    return late


def window_end_not_last_millisecond(arrivals, bound):
    newest, late = None, []
    for position, (_, event_ms) in enumerate(arrivals):
        if newest is not None and event_ms - event_ms % 300_000 + 300_000 < newest - bound:
            late.append(position)
        newest = event_ms if newest is None else max(newest, event_ms)
    return late


def behind_the_watermark(arrivals, bound):
    """Late when the reading itself is behind the watermark, whether or not its window has fired."""
    newest, late = None, []
    for position, (_, event_ms) in enumerate(arrivals):
        if newest is not None and event_ms <= newest - bound:
            late.append(position)
        newest = event_ms if newest is None else max(newest, event_ms)
    return late


def watermark_updated_before(arrivals, bound):
    newest, late = None, []
    for position, (_, event_ms) in enumerate(arrivals):
        newest = event_ms if newest is None else max(newest, event_ms)
        if event_ms - event_ms % 300_000 + 300_000 - 1 <= newest - bound:
            late.append(position)
    return late


@pytest.mark.parametrize("wrong", [per_device_watermark, window_end_not_last_millisecond, behind_the_watermark,
                                   watermark_updated_before, lambda arrivals, bound: []])
def test_late_positions_wrong_answers_fail(wrong):
    assert not nb05.check_late_positions(wrong).passed


def test_stubs_are_skipped():
    def stub(*_):
        raise NotImplementedError()

    for check in (nb05.check_tumbling_window, nb05.check_sliding_windows, nb05.check_late_positions):
        assert check(stub).skipped
