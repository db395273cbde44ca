"""The window aggregate computed independently, in plain Python and pandas: what the Flink jobs are
checked against (same contract, same watermark, same windows).

It replays the records in one arrival order, as one Kafka partition delivers them, with the source's
watermark emitted after every record (``OnEventWatermark``): exactly what the jobs compute on a
one-partition topic. On a topic with several partitions the jobs see the partitions interleaved in an
order that depends on timing; their results equal this reference whenever no reading can be late
(an out-of-orderness bound larger than the stream's disorder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pandas as pd

from iotlab.core.contract import validate_reading
from iotlab.core.timestamps import MINUTE_MS, format_epoch_ms, timestamp_ms
from iotlab.core.windows import OUT_OF_ORDERNESS_MINUTES, WINDOW_MS, OnEventWatermark, window_has_fired, window_start_ms


@dataclass
class ReferenceResult:
    windows: pd.DataFrame  # device_id, window_start, window_end, count, avg/min/max temp, avg humidity
    dead_lettered: list[bytes]
    late: list[bytes]
    readings_in: int


def source_event_ms(line: bytes) -> Optional[int]:
    """The event time the source gives a record (valid or not), or None when its timestamp cannot be read.

    Every record with a readable timestamp moves the watermark, even one dead-lettered for another field.
    """
    try:
        document = json.loads(line)
    except ValueError:  # not UTF-8 or not JSON
        return None
    stamp = document.get("timestamp") if isinstance(document, dict) else None
    try:
        return timestamp_ms(stamp) if isinstance(stamp, str) else None
    except ValueError:
        return None


def disorder_minutes(lines: list[bytes]) -> int:
    """How far (whole minutes, rounded up) the stream's worst record arrives behind the newest one before it.

    An out-of-orderness bound larger than this makes nothing late, whatever order partitions interleave in."""
    newest, worst = None, 0
    for line in lines:
        event_ms = source_event_ms(line)
        if event_ms is not None:
            newest = event_ms if newest is None else max(newest, event_ms)
            worst = max(worst, newest - event_ms)
    return -(-worst // MINUTE_MS)


def aggregate_lines(lines: list[bytes], out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES) -> ReferenceResult:
    """``lines`` in arrival order, as one partition delivers them."""
    watermark = OnEventWatermark(out_of_orderness_minutes * MINUTE_MS)
    rows, dead, late = [], [], []
    for line in lines:
        reading, reason = validate_reading(line)
        if reason is not None:
            dead.append(line)
        else:
            event_ms = timestamp_ms(reading["timestamp"])
            if window_has_fired(event_ms, watermark.current):
                late.append(line)
            else:
                rows.append({"device_id": reading["device_id"], "window_start": window_start_ms(event_ms),
                             "temperature": float(reading["temperature"]), "humidity": float(reading["humidity"])})
        event_ms = source_event_ms(line)
        if event_ms is not None:
            watermark.observe(event_ms)  # after the record: it was emitted after the record
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
