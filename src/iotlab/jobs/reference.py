"""The window aggregate computed independently, in plain Python and pandas: what the Flink jobs are
checked against (same contract, same lateness rule, same windows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from iotlab.contract import validate_reading
from iotlab.sensors import format_timestamp, parse_timestamp

WINDOW = timedelta(minutes=5)


@dataclass
class ReferenceResult:
    windows: pd.DataFrame  # device_id, window_start, window_end, count, avg/min/max temp, avg humidity
    dead_lettered: list[bytes]
    late: list[bytes]
    readings_in: int


def window_start_of(moment):
    epoch_seconds = int(moment.timestamp())
    return moment - timedelta(seconds=epoch_seconds % int(WINDOW.total_seconds()),
                              microseconds=moment.microsecond)


def aggregate_lines(lines: list[bytes], allowed_lateness_minutes: int = 10) -> ReferenceResult:
    """``lines`` in arrival order (a device's records keep their order, as on its Kafka partition)."""
    lateness = timedelta(minutes=allowed_lateness_minutes)
    newest: dict[str, object] = {}
    rows, dead, late = [], [], []
    for line in lines:
        reading, reason = validate_reading(line)
        if reason is not None:
            dead.append(line)
            continue
        device, moment = reading["device_id"], parse_timestamp(reading["timestamp"])
        newest[device] = max(newest.get(device, moment), moment)
        start = window_start_of(moment)
        if start + WINDOW <= newest[device] - lateness:
            late.append(line)
            continue
        rows.append({"device_id": device, "window_start": start, "temperature": float(reading["temperature"]),
                     "humidity": float(reading["humidity"])})
    frame = pd.DataFrame(rows, columns=["device_id", "window_start", "temperature", "humidity"])
    grouped = frame.groupby(["device_id", "window_start"])
    windows = pd.DataFrame({
        "count": grouped.size(), "avg_temp": grouped.temperature.mean(), "min_temp": grouped.temperature.min(),
        "max_temp": grouped.temperature.max(), "avg_humidity": grouped.humidity.mean(),
    }).reset_index()
    windows["window_end"] = windows["window_start"] + WINDOW
    for column in ("window_start", "window_end"):
        windows[column] = windows[column].map(format_timestamp)
    columns = ["device_id", "window_start", "window_end", "count", "avg_temp", "min_temp", "max_temp", "avg_humidity"]
    windows = windows[columns].sort_values(["window_start", "device_id"]).reset_index(drop=True)
    return ReferenceResult(windows, dead, late, len(lines))
