"""Reference implementations of the exercises: what checks compare against, and what later
cells fall back to when an exercise is skipped."""

from __future__ import annotations

from collections import defaultdict


def average_temperature_by_device(readings: list[dict]) -> dict[str, float]:
    """Average temperature per device_id (exercise 00.1)."""
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for reading in readings:
        totals[reading["device_id"]] += reading["temperature"]
        counts[reading["device_id"]] += 1
    return {device: totals[device] / counts[device] for device in totals}
