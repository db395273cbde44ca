"""Notebook 00: the same per-device averages as Flink, in plain Python."""

from __future__ import annotations

from collections import defaultdict
from typing import Callable

from iotlab.course.checks import CheckResult, check_cases


def average_temperature_by_device(readings: list[dict]) -> dict[str, float]:
    """Reference for exercise 00.1: average temperature per device_id."""
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for reading in readings:
        totals[reading["device_id"]] += reading["temperature"]
        counts[reading["device_id"]] += 1
    return {device: totals[device] / counts[device] for device in totals}


def _reading(device: str, temperature: float, second: int = 0) -> dict:
    return {"device_id": device, "timestamp": f"2025-11-05T12:00:{second:02d}Z",
            "temperature": temperature, "humidity": 40.0, "status": "OK"}


# Cases the notebook shows, then cases it does not (so a hard-coded answer fails).
AVERAGE_CASES = [
    ("two devices", ([_reading("device-01", 20.0), _reading("device-02", 30.0), _reading("device-01", 22.0)],)),
    ("no readings at all", ([],)),
    ("a single reading", ([_reading("device-07", -3.5)],)),
    ("interleaved, unsorted devices", ([_reading(f"device-{n % 4:02d}", 10.0 + n * 0.1, n) for n in range(40)],)),
    ("non-round averages", ([_reading("device-01", t) for t in (21.1, 21.2, 21.4)],)),
]


def check_average_temperature_by_device(function: Callable[[list[dict]], dict]) -> CheckResult:
    """Check exercise 00.1 on shown and hidden cases."""
    return check_cases(
        "average_temperature_by_device", lambda readings: function([dict(r) for r in readings]),
        average_temperature_by_device, AVERAGE_CASES,
        hint="sum and count per device_id, then divide; return a dict keyed by device_id "
             "(an empty list gives an empty dict)",
        probe_args=([],),
    )
