"""When is a device offline? The course's one rule, used by notebook 06's silence detector, the anomaly
detectors (notebook 10) and the pipeline (notebook 09).

A device that reported at ``t`` and then sends nothing is **silent since t**; the silence is complete, and an
"offline" alert is due, at ``t + OFFLINE_GAP_MINUTES``:

- a next reading ``OFFLINE_GAP_MINUTES`` or more after ``t`` ends a silence (exactly 10 minutes counts: the silence was
  complete when the watermark reached it; note that Flink's session windows merge windows that only touch, so a
  session window of gap 10 minutes does NOT split two readings exactly 10 minutes apart); one that comes sooner
  means the device was heard from in time;
- a silence is raised when event time has passed its due moment: in a running job, when the **watermark**
  reaches ``t + gap`` (the other devices' readings move it on), or, in a batch over a recording, when a later
  reading of the device proves the gap;
- the **end of a recording is not a silence**. When a bounded input ends, Flink sends one last watermark,
  ``Long.MAX_VALUE`` (``END_OF_INPUT``), and every event-time timer fires; a silence whose timer only that
  watermark fires is raised only if a later reading proves it, so a device that simply reported until the
  recording stopped gets no alert.

A bounded run and this rule with ``END_OF_INPUT`` agree when every device reports until near the end of the
recording (the course's data sets): a device that stops for good earlier is raised in the run by a real
watermark, which the batch rule cannot see.
"""

from __future__ import annotations

from typing import Optional

from iotlab.core.timestamps import MINUTE_MS

OFFLINE_GAP_MINUTES = 10
OFFLINE_GAP_MS = OFFLINE_GAP_MINUTES * MINUTE_MS
END_OF_INPUT = 2**63 - 1  # Long.MAX_VALUE: the watermark Flink sends when a bounded input ends


def ends_silence(last_ms: int, next_ms: int, gap_ms: int = OFFLINE_GAP_MS) -> bool:
    """A reading at ``next_ms`` after one at ``last_ms`` (and none between) ends a silence: the gap was complete."""
    return next_ms - last_ms >= gap_ms


def silence_is_raised(last_ms: int, next_ms: Optional[int], watermark_ms: int, gap_ms: int = OFFLINE_GAP_MS) -> bool:
    """Whether the silence after a reading at ``last_ms`` has been raised by the time the watermark is
    ``watermark_ms`` (``END_OF_INPUT`` once a bounded input has ended); ``next_ms``: the device's next reading in
    event time, or None."""
    if next_ms is not None and not ends_silence(last_ms, next_ms, gap_ms):
        return False  # heard from within the gap
    if watermark_ms == END_OF_INPUT:
        return next_ms is not None  # the recording ended: only a later reading proves a silence
    return last_ms + gap_ms <= watermark_ms  # event time has moved past the due moment
