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


def global_newest(arrivals, lateness):
    newest, late = None, []
    for position, (_, event_ms) in enumerate(arrivals):
        newest = event_ms if newest is None else max(newest, event_ms)
        if event_ms - event_ms % 300_000 + 300_000 <= newest - lateness:
            late.append(position)
    return late


def strict_limit(arrivals, lateness):
    return [p for p in nb05.late_positions(arrivals, lateness)
            if not nb05.late_positions([arrivals[q] for q in range(p + 1)], lateness + 1)[-1:] == [p]]


def event_time_instead_of_window_end(arrivals, lateness):
    newest, late = {}, []
    for position, (device, event_ms) in enumerate(arrivals):
        newest[device] = max(newest.get(device, event_ms), event_ms)
        if event_ms <= newest[device] - lateness - 1:
            late.append(position)
    return late


@pytest.mark.parametrize("wrong", [global_newest, strict_limit, event_time_instead_of_window_end,
                                   lambda arrivals, lateness: []])
def test_late_positions_wrong_answers_fail(wrong):
    assert not nb05.check_late_positions(wrong).passed


def test_stubs_are_skipped():
    def stub(*_):
        raise NotImplementedError()

    for check in (nb05.check_tumbling_window, nb05.check_sliding_windows, nb05.check_late_positions):
        assert check(stub).skipped
