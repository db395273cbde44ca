"""The window aggregate computed independently, in plain Python and pandas: what the Flink jobs are
checked against (same contract, same lateness rule, same windows)."""


from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from iotlab.core.contract import validate_reading
from iotlab.core.timestamps import MINUTE_MS, format_epoch_ms, timestamp_ms
from iotlab.core.windows import WINDOW_MS, is_late_for_device, window_start_ms


@dataclass
class ReferenceResult:
    windows: pd.DataFrame  # device_id, window_start, window_end, count, avg/min/max temp, avg humidity
    dead_lettered: list[bytes]
    late: list[bytes]
    readings_in: int


def aggregate_lines(lines: list[bytes], allowed_lateness_minutes: int = 10) -> ReferenceResult:
    """``lines`` in arrival order (a device's records keep their order, as on its Kafka partition)."""
    lateness_ms = allowed_lateness_minutes * MINUTE_MS
    newest: dict[str, int] = {}
    rows, dead, late = [], [], []
    for line in lines:
        reading, reason = validate_reading(line)
        if reason is not None:
            dead.append(line)
            continue
        device, event_ms = reading["device_id"], timestamp_ms(reading["timestamp"])
        newest[device] = max(newest.get(device, event_ms), event_ms)
        if is_late_for_device(event_ms, newest[device], lateness_ms):
            late.append(line)
            continue
        rows.append({"device_id": device, "window_start": window_start_ms(event_ms),
                     "temperature": float(reading["temperature"]), "humidity": float(reading["humidity"])})
    frame = pd.DataFrame(rows, columns=["device_id", "window_start", "temperature", "humidity"])
    grouped = frame.groupby(["device_id", "window_start"])
    windows = pd.DataFrame({
        "count": grouped.size(), "avg_temp": grouped.temperature.mean(), "min_temp": grouped.temperature.min(),
        "max_temp": grouped.temperature.max(), "avg_humidity": grouped.humidity.mean(),
    }).reset_index()
    windows["window_end"] = windows["window_start"] + WINDOW_MS
    for column in ("window_start", "window_end"):
        windows[column] = windows[column].map(format_epoch_ms)
    columns = ["device_id", "window_start", "window_end", "count", "avg_temp", "min_temp", "max_temp", "avg_humidity"]
    windows = windows[columns].sort_values(["window_start", "device_id"]).reset_index(drop=True)
    return ReferenceResult(windows, dead, late, len(lines))
