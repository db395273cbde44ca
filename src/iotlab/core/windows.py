"""Window arithmetic shared by the jobs, their references and the exercises.

The course aggregates readings in 5-minute tumbling windows of event time. Windows are aligned to the
epoch, as Flink aligns them (offset 0): the window of a moment t starts at t - t mod size.
"""

from __future__ import annotations

from iotlab.core.timestamps import MINUTE_MS

WINDOW_MINUTES = 5
WINDOW_MS = WINDOW_MINUTES * MINUTE_MS


def window_start_ms(event_ms: int, size_ms: int = WINDOW_MS) -> int:
    """The start of the tumbling window that holds ``event_ms``."""
    return event_ms - event_ms % size_ms


def window_end_ms(event_ms: int, size_ms: int = WINDOW_MS) -> int:
    """The (exclusive) end of the tumbling window that holds ``event_ms``."""
    return window_start_ms(event_ms, size_ms) + size_ms


def is_late_for_device(event_ms: int, device_newest_ms: int, lateness_ms: int, size_ms: int = WINDOW_MS) -> bool:
    """The course's per-device lateness rule, used by the bounded window jobs.

    A reading is late when its own device has already sent a reading more than ``lateness_ms`` past the
    end of the reading's window (``device_newest_ms`` includes the reading itself). It depends only on the
    order of one device's readings, which Kafka keeps per key, so a bounded recomputation gives the same
    answer every time.
    """
    return window_end_ms(event_ms, size_ms) <= device_newest_ms - lateness_ms
