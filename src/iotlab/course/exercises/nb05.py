"""Notebook 05 (time and windows): assigning windows, and deciding which readings are late."""

from __future__ import annotations

from typing import Callable

from iotlab.course.checks import CheckResult, check_cases

MINUTE = 60_000

# ----------------------------------------------------------------------------- 05.1 tumbling_window


def tumbling_window(timestamp_ms: int, size_ms: int) -> tuple[int, int]:
    """Reference for 05.1: the [start, end) tumbling window of ``size_ms`` holding ``timestamp_ms``."""
    start = timestamp_ms - timestamp_ms % size_ms  # Python's % is never negative: right for times before 1970
    return start, start + size_ms


TUMBLING_CASES = [
    ("inside a window", (1_762_344_123_456, 5 * MINUTE)),
    ("exactly on a boundary belongs to the next window", (1_762_344_300_000, 5 * MINUTE)),
    ("one millisecond before a boundary", (1_762_344_299_999, 5 * MINUTE)),
    ("one-hour windows", (1_762_347_599_000, 60 * MINUTE)),
    ("the epoch", (0, 5 * MINUTE)),
    ("before 1970", (-1, 5 * MINUTE)),
]


def check_tumbling_window(function: Callable[[int, int], tuple]) -> CheckResult:
    return check_cases(
        "tumbling_window", lambda ts, size: tuple(function(ts, size)), tumbling_window, TUMBLING_CASES,
        hint="start = timestamp - timestamp % size (floor to a multiple of size), end = start + size; a timestamp "
             "equal to a boundary starts the next window",
        probe_args=(0, MINUTE),
    )


# ----------------------------------------------------------------------------- 05.2 sliding_windows


def sliding_windows(timestamp_ms: int, size_ms: int, slide_ms: int) -> list[tuple[int, int]]:
    """Reference for 05.2: every [start, end) sliding window (size, slide) that holds the timestamp,
    earliest first."""
    last_start = timestamp_ms - timestamp_ms % slide_ms
    windows = []
    start = last_start
    while start > timestamp_ms - size_ms:
        windows.append((start, start + size_ms))
        start -= slide_ms
    return sorted(windows)


SLIDING_CASES = [
    ("10-minute windows every 5 minutes", (1_762_344_123_456, 10 * MINUTE, 5 * MINUTE)),
    ("on a slide boundary", (1_762_344_300_000, 10 * MINUTE, 5 * MINUTE)),
    ("15-minute windows every minute", (1_762_344_123_456, 15 * MINUTE, MINUTE)),
    ("slide equal to size is tumbling", (1_762_344_123_456, 5 * MINUTE, 5 * MINUTE)),
    ("size not a multiple of slide", (1_762_344_123_456, 7 * MINUTE, 3 * MINUTE)),
]


def check_sliding_windows(function: Callable[[int, int, int], list]) -> CheckResult:
    return check_cases(
        "sliding_windows", lambda *args: [tuple(w) for w in function(*args)], sliding_windows, SLIDING_CASES,
        hint="the latest window starts at the timestamp floored to the slide; step back one slide at a time while "
             "the window still reaches past the timestamp (start > timestamp - size); return them earliest first",
        probe_args=(0, 2 * MINUTE, MINUTE),
    )


# ----------------------------------------------------------------------------- 05.3 late_positions


def late_positions(arrivals: list[tuple[str, int]], allowed_lateness_ms: int, size_ms: int = 5 * MINUTE) -> list[int]:
    """Reference for 05.3: positions of late readings in ``arrivals`` [(device_id, event_ms) in arrival order].

    A reading is late when its device has already sent a reading more than ``allowed_lateness_ms`` past the
    end of the reading's window (the rule the course's jobs use).
    """
    newest: dict[str, int] = {}
    late = []
    for position, (device, event_ms) in enumerate(arrivals):
        newest[device] = max(newest.get(device, event_ms), event_ms)
        window_end = event_ms - event_ms % size_ms + size_ms
        if window_end <= newest[device] - allowed_lateness_ms:
            late.append(position)
    return late


_BASE = 1_762_344_000_000
LATE_CASES = [
    ("in order: nothing is late", ([("a", _BASE + n * MINUTE) for n in range(20)], 0)),
    ("one reading 20 minutes behind", ([("a", _BASE + n * MINUTE) for n in range(30)] + [("a", _BASE + 5 * MINUTE)],
                                       10 * MINUTE)),
    ("another device's progress does not count", ([("a", _BASE + 40 * MINUTE), ("b", _BASE), ("b", _BASE + MINUTE)],
                                                  0)),
    ("exactly at the limit is late", ([("a", _BASE + 15 * MINUTE), ("a", _BASE + 4 * MINUTE)], 10 * MINUTE)),
    ("one millisecond inside the limit is on time", ([("a", _BASE + 15 * MINUTE - 1), ("a", _BASE + 4 * MINUTE)],
                                                     10 * MINUTE)),
    ("zero allowed lateness", ([("a", _BASE), ("a", _BASE + 5 * MINUTE), ("a", _BASE + 4 * MINUTE),
                                ("a", _BASE + 2 * MINUTE)], 0)),
    ("the newest reading itself is never late", ([("a", _BASE + 60 * MINUTE)], 0)),
]


def check_late_positions(function: Callable[[list, int], list]) -> CheckResult:
    return check_cases(
        "late_positions", lambda arrivals, lateness: list(function(list(arrivals), lateness)),
        lambda arrivals, lateness: late_positions(arrivals, lateness), LATE_CASES,
        hint="keep the newest event time per device (including the current reading); a reading is late when "
             "its window's end <= that device's newest - allowed lateness",
        probe_args=([], 0),
    )
