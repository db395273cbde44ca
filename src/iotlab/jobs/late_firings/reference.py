"""What a DataStream event-time window job emits for the late-firing scenario, computed without Flink.

The rules, as Flink 2.2's ``WindowOperator`` and ``EventTimeTrigger`` apply them:

- the watermark of ``for_bounded_out_of_orderness(B)`` is the largest timestamp seen minus B minus 1 ms;
- a window fires when the watermark reaches its last millisecond (end - 1 ms), once;
- with allowed lateness L the window keeps its contents until the watermark reaches end - 1 ms + L: a
  reading for it that arrives in between fires it again at once, with everything it holds;
- a reading whose window is past that point is late: it goes to the side output (or is dropped);
- at the end of a bounded input the watermark jumps to the end of time and every open window fires.

``scenario_results`` assumes what the live run (``runner``) makes sure of: each reading meets the watermark
of every reading before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from iotlab.core.timestamps import MINUTE_MS, format_epoch_ms, timestamp_ms

WINDOW_MS = 5 * MINUTE_MS


@dataclass(frozen=True)
class Reading:
    device_id: str
    timestamp: str  # RFC 3339, as in the data contract

    @property
    def event_ms(self) -> int:
        return timestamp_ms(self.timestamp)


# Two devices, one partition, in arrival order. Bound 1 minute, allowed lateness 5 minutes.
SCENARIO = [
    Reading("device-01", "2025-11-05T12:00:30Z"),
    Reading("device-02", "2025-11-05T12:01:00Z"),
    Reading("device-01", "2025-11-05T12:03:00Z"),
    Reading("device-01", "2025-11-05T12:07:00Z"),  # watermark 12:05:59.999: both 12:00 windows fire
    Reading("device-02", "2025-11-05T12:04:00Z"),  # late, but within allowed lateness: 12:00 fires again
    Reading("device-01", "2025-11-05T12:12:00Z"),  # watermark 12:10:59.999: 12:05 fires, 12:00 is gone
    Reading("device-01", "2025-11-05T12:02:00Z"),  # too late: side output
]
SCENARIO_OUT_OF_ORDERNESS_MINUTES = 1
ALLOWED_LATENESS_MINUTES = 5


@dataclass(frozen=True)
class Firing:
    """One result a window emits: its count when it fired."""
    device_id: str
    window_start: str
    count: int


def scenario_results(readings: list[Reading], out_of_orderness_minutes: int, allowed_lateness_minutes: int
                     ) -> tuple[list[Firing], list[Reading], list[int]]:
    """(firings in the order they happen, late readings, and after which reading each firing happens:
    the index of the reading whose watermark or arrival caused it, len(readings) for the end of input)."""
    bound, lateness = out_of_orderness_minutes * MINUTE_MS, allowed_lateness_minutes * MINUTE_MS
    contents: dict[tuple[str, int], int] = {}  # open windows: (device, start) -> readings held
    fired: set[tuple[str, int]] = set()
    firings, late, caused_by = [], [], []
    watermark = None

    def fire(key: tuple[str, int], index: int) -> None:
        fired.add(key)
        firings.append(Firing(key[0], format_epoch_ms(key[1]), contents[key]))
        caused_by.append(index)

    def advance(new_watermark: int, index: int) -> None:
        for key in sorted(contents, key=lambda k: (k[1], k[0])):
            last_ms = key[1] + WINDOW_MS - 1
            if key not in fired and last_ms <= new_watermark:
                fire(key, index)
        for key in [k for k in contents if k[1] + WINDOW_MS - 1 + lateness <= new_watermark]:
            del contents[key]  # cleaned up: nothing can fire it any more

    for index, reading in enumerate(readings):
        start = reading.event_ms - reading.event_ms % WINDOW_MS
        key = (reading.device_id, start)
        if watermark is not None and start + WINDOW_MS - 1 + lateness <= watermark:
            late.append(reading)
        else:
            contents[key] = contents.get(key, 0) + 1
            if key in fired:  # the window fired before: this reading fires it again, at once
                fire(key, index)
        newest = reading.event_ms - bound - 1
        if watermark is None or newest > watermark:
            watermark = newest
            advance(watermark, index)
    for key in sorted(contents, key=lambda k: (k[1], k[0])):
        if key not in fired:
            fire(key, len(readings))
    return firings, late, caused_by
