"""The per-device averages computed independently with pandas: what the Flink job is checked against."""

from __future__ import annotations

import pandas as pd


def device_averages_of(readings: list[dict]) -> pd.DataFrame:
    """One row per device (readings, avg/min/max temperature, avg humidity), sorted by device_id."""
    frame = pd.DataFrame(readings, columns=["device_id", "temperature", "humidity"])
    grouped = frame.groupby("device_id")
    result = pd.DataFrame({
        "readings": grouped.size(), "avg_temp": grouped.temperature.mean(), "min_temp": grouped.temperature.min(),
        "max_temp": grouped.temperature.max(), "avg_humidity": grouped.humidity.mean(),
    }).reset_index()
    return result.sort_values("device_id").reset_index(drop=True)
