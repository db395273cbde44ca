"""Notebook 05 (time and windows): assigning windows, and deciding which readings are late."""

from __future__ import annotations

from typing import Callable

from iotlab.core.windows import OnEventWatermark, window_has_fired
from iotlab.course.checks import CheckResult, check_cases, failed, passed, skipped

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


def late_positions(arrivals: list[tuple[str, int]], out_of_orderness_ms: int, size_ms: int = 5 * MINUTE) -> list[int]:
    """Reference for 05.3: positions of late readings in ``arrivals`` [(device_id, event_ms) in arrival order,
    all from one Kafka partition], with a watermark of bounded out-of-orderness emitted after every reading.

    The watermark is the largest event time read so far minus ``out_of_orderness_ms``: one for the whole
    partition, whichever device sent the reading. A reading is late when its window has already fired,
    that is when the watermark before it has reached the window's last millisecond (end - 1).
    """
    watermark = OnEventWatermark(out_of_orderness_ms)
    late = []
    for position, (_device, event_ms) in enumerate(arrivals):
        if window_has_fired(event_ms, watermark.current, size_ms):
            late.append(position)
        watermark.observe(event_ms)
    return late


_BASE = 1_762_344_000_000
LATE_CASES = [
    ("in order: nothing is late", ([("a", _BASE + n * MINUTE) for n in range(20)], 0)),
    ("one reading 20 minutes behind", ([("a", _BASE + n * MINUTE) for n in range(30)] + [("a", _BASE + 5 * MINUTE)],
                                       10 * MINUTE)),
    ("another device's progress counts: the watermark belongs to the partition",
     ([("a", _BASE + 40 * MINUTE), ("b", _BASE), ("b", _BASE + MINUTE)], 0)),
    ("the watermark on the window's last millisecond: fired, late",
     ([("a", _BASE + 14 * MINUTE + 59_999), ("a", _BASE + 4 * MINUTE)], 10 * MINUTE)),
    ("one millisecond before it: on time", ([("a", _BASE + 14 * MINUTE + 59_998), ("a", _BASE + 4 * MINUTE)],
                                             10 * MINUTE)),
    ("no out-of-orderness allowed", ([("a", _BASE), ("a", _BASE + 5 * MINUTE), ("a", _BASE + 4 * MINUTE),
                                      ("a", _BASE + 2 * MINUTE)], 0)),
    ("behind the watermark but in a window that has not fired",
     ([("a", _BASE + 9 * MINUTE), ("a", _BASE + 5 * MINUTE)], 3 * MINUTE)),
    ("the first reading is never late: no watermark yet", ([("a", _BASE + 60 * MINUTE)], 0)),
    ("a reading does not move the watermark before itself",
     ([("a", _BASE), ("a", _BASE + 5 * MINUTE - 1)], 0)),
]


def check_late_positions(function: Callable[[list, int], list]) -> CheckResult:
    return check_cases(
        "late_positions", lambda arrivals, bound: list(function(list(arrivals), bound)),
        lambda arrivals, bound: late_positions(arrivals, bound), LATE_CASES,
        hint="keep one watermark for all devices: the largest event time so far minus the bound, updated AFTER "
             "each reading; a reading is late when (its window's end - 1) <= the watermark before it",
        probe_args=([], 0),
    )


# ----------------------------------------------------------------------------- 05.4 late_tolerant_counts


def late_tolerant_counts(readings, out_of_orderness_minutes: int, allowed_lateness_minutes: int, late_tag):
    """Reference for 05.4: event time from ``event_ms`` with bounded out-of-orderness, 5-minute tumbling
    windows per device that accept late readings for ``allowed_lateness_minutes``, later ones to ``late_tag``."""
    from pyflink.common import Duration, Time, Types, WatermarkStrategy
    from pyflink.datastream.window import TumblingEventTimeWindows

    from iotlab.flink import EventTime
    from iotlab.jobs.late_firings import FIRING_TYPE, CountReadings

    strategy = (WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_minutes(out_of_orderness_minutes))
                .with_timestamp_assigner(EventTime()))
    return (readings.assign_timestamps_and_watermarks(strategy)
            .key_by(lambda reading: reading.device_id, key_type=Types.STRING())
            .window(TumblingEventTimeWindows.of(Time.minutes(5)))
            .allowed_lateness(allowed_lateness_minutes * MINUTE)
            .side_output_late_data(late_tag)
            .process(CountReadings(), output_type=FIRING_TYPE))


def check_late_tolerant_counts(build: Callable, topic: str = "nb05.live", say: Callable[[str], None] = print
                               ) -> CheckResult:
    """Run the learner's job live on the late-firing scenario (``iotlab.jobs.late_firings``) and compare
    what it emits after each reading with what Flink's rules say it must."""
    from iotlab.jobs.late_firings import (
        ALLOWED_LATENESS_MINUTES,
        SCENARIO,
        SCENARIO_OUT_OF_ORDERNESS_MINUTES,
        run_live,
        scenario_results,
    )

    name = "late_tolerant_counts"
    try:
        steps, late = run_live(build, SCENARIO, SCENARIO_OUT_OF_ORDERNESS_MINUTES, ALLOWED_LATENESS_MINUTES, topic,
                               say=say)
    except NotImplementedError:
        return skipped(name)
    firings, expected_late, caused_by = scenario_results(SCENARIO, SCENARIO_OUT_OF_ORDERNESS_MINUTES,
                                                         ALLOWED_LATENESS_MINUTES)
    for step, got in enumerate(steps):
        want = [firing for firing, cause in zip(firings, caused_by) if cause == step]
        if sorted(got, key=repr) != sorted(want, key=repr):
            when = f"after reading {step + 1}" if step < len(SCENARIO) else "at the end of the input"
            return failed(name, f"{when} the job emitted {_describe(got)}, expected {_describe(want)}. Hint: the "
                                "watermark strategy is for_bounded_out_of_orderness(...).with_timestamp_assigner("
                                "EventTime()); the window needs .allowed_lateness(ms) and "
                                ".side_output_late_data(late_tag) before .process(...)")
    if late != expected_late:
        return failed(name, f"the side output got {[r.timestamp for r in late]}, expected "
                            f"{[r.timestamp for r in expected_late]}. Hint: .side_output_late_data(late_tag)")
    refired = [f for f in firings if sum(g.device_id == f.device_id and g.window_start == f.window_start
                                         for g in firings) > 1]
    return passed(name, f"{len(firings)} firings in the right order, {refired[0].device_id}'s "
                        f"{refired[0].window_start[11:16]} window fired twice ({refired[0].count} then "
                        f"{refired[1].count}), {len(late)} reading too late for it")


def _describe(firings) -> str:
    if not firings:
        return "nothing"
    return ", ".join(f"{f.device_id} {f.window_start[11:16]} count {f.count}" for f in firings)
