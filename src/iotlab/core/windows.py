"""Window arithmetic shared by the jobs, their references and the exercises.

The course aggregates readings in 5-minute tumbling windows of event time. Windows are aligned to the
epoch, as Flink aligns them (offset 0): the window of a moment t starts at t - t mod size.
"""

from __future__ import annotations

from typing import Optional

from iotlab.core.timestamps import MINUTE_MS

WINDOW_MINUTES = 5
# The course's default watermark bound: how far behind the newest reading a reading may arrive and still count.
OUT_OF_ORDERNESS_MINUTES = 10
WINDOW_MS = WINDOW_MINUTES * MINUTE_MS


def window_start_ms(event_ms: int, size_ms: int = WINDOW_MS) -> int:
    """The start of the tumbling window that holds ``event_ms``."""
    return event_ms - event_ms % size_ms


def window_end_ms(event_ms: int, size_ms: int = WINDOW_MS) -> int:
    """The (exclusive) end of the tumbling window that holds ``event_ms``."""
    return window_start_ms(event_ms, size_ms) + size_ms


def window_has_fired(event_ms: int, watermark_ms: Optional[int], size_ms: int = WINDOW_MS) -> bool:
    """Flink's rule: an event-time window fires once the watermark reaches its last millisecond (end - 1).

    A reading whose window has fired is **late**: without allowed lateness, Flink's window operator drops it.
    """
    return watermark_ms is not None and window_end_ms(event_ms, size_ms) - 1 <= watermark_ms


class OnEventWatermark:
    """The watermark of one source split with bounded out-of-orderness, emitted after every record.

    What ``WATERMARK FOR event_time AS event_time - INTERVAL ...`` with ``'scan.watermark.emit.strategy' =
    'on-event'`` computes for a one-partition topic: the largest event time seen so far minus the bound. It
    belongs to the split, not to a device: every record moves it. ``current`` is None before the first record.
    """

    def __init__(self, out_of_orderness_ms: int) -> None:
        self.out_of_orderness_ms = out_of_orderness_ms
        self.current: Optional[int] = None

    def observe(self, event_ms: int) -> None:
        candidate = event_ms - self.out_of_orderness_ms
        self.current = candidate if self.current is None else max(self.current, candidate)
