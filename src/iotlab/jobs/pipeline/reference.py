"""The pipeline's results recomputed in batch, in plain Python, from the same records: what Cassandra must
hold after a run, in the shapes ``iotlab store export`` writes (so the two compare row by row).

Exact when no reading can be late (an out-of-orderness bound larger than the stream's disorder): then
Flink's watermarks, however they interleave, drop nothing, and every result is a function of the set of
readings alone. (With late readings, ``window_aggregate.reference`` replays one partition's arrival order.)

- windows: ``window_aggregate.reference.aggregate_lines``;
- latest: each device's newest valid reading (the table keeps the write with the latest event time);
- alerts: the anomaly detectors' batch reference (``iotlab.jobs.anomalies.reference``), offline included: a
  gap of ``gap`` minutes or more after a reading (readings exactly ``gap`` apart are two sessions); the end of
  the input is not a silence, but a silence a running job's watermark has passed is (``watermark_ms``).
"""

from __future__ import annotations

import math
from typing import Optional

from iotlab.core.contract import validate_reading
from iotlab.core.timestamps import timestamp_ms, timestamp_text
from iotlab.core.windows import OUT_OF_ORDERNESS_MINUTES
from iotlab.jobs.anomalies.detectors import OfflineDetector, alert_order
from iotlab.jobs.anomalies.reference import detect
from iotlab.jobs.window_aggregate.reference import aggregate_lines


def expected_windows(lines: list[bytes], out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES) -> list[dict]:
    """Window aggregates, sorted by window start then device (as ``store export windows``)."""
    return aggregate_lines(lines, out_of_orderness_minutes).windows.to_dict("records")


def valid_readings(lines: list[bytes]) -> list[dict]:
    return [reading for reading in (validate_reading(line)[0] for line in lines) if reading is not None]


def expected_latest(lines: list[bytes]) -> list[dict]:
    """Each device's newest reading, by device (as ``store export latest``)."""
    newest: dict[str, dict] = {}
    for reading in valid_readings(lines):
        known = newest.get(reading["device_id"])
        if known is None or timestamp_ms(reading["timestamp"]) > timestamp_ms(known["timestamp"]):
            newest[reading["device_id"]] = reading
    return [{"device_id": device, "timestamp": timestamp_text(timestamp_ms(reading["timestamp"])),
             "temperature": float(reading["temperature"]), "humidity": float(reading["humidity"]),
             "status": reading["status"]} for device, reading in sorted(newest.items())]


def expected_alerts(lines: list[bytes], watermark_ms: Optional[int] = None, drained: bool = False) -> list[dict]:
    """Every alert of the anomaly detectors' batch reference (``iotlab.jobs.anomalies.reference.detect``: spike,
    stuck, drift, offline, out_of_range), sorted by alert time, device and kind, in the shape of ``store export
    alerts``.

    ``watermark_ms``: the stream's last watermark, for a job that ran live. Its timers have then also raised the
    silences of devices that sent nothing since (last reading + gap <= watermark), which a batch over the
    records sees no reading end. A job still running (or stopped with a savepoint) has raised only the alerts at
    or before the watermark; a job stopped with ``drained=True`` has had every reading released by the
    end-of-time watermark, so it has raised every alert readings raise. None: the input has ended, and its end
    is not a silence."""
    alerts = detect(lines)
    if watermark_ms is not None:
        if not drained:
            alerts = [alert for alert in alerts if timestamp_ms(alert["alert_at"]) <= watermark_ms]
        gap = OfflineDetector()
        last: dict[str, int] = {}
        for reading in valid_readings(lines):
            at = timestamp_ms(reading["timestamp"])
            last[reading["device_id"]] = max(last.get(reading["device_id"], at), at)
        alerts += [gap.silence(device, at) for device, at in last.items() if at + gap.gap_ms <= watermark_ms]
    stored = [{**alert, **{key: timestamp_text(alert[key]) for key in ("alert_at", "start", "end")},
               "score": float(alert["score"])} for alert in alerts]
    return sorted(stored, key=alert_order)


def differences(actual: list[dict], expected: list[dict], tolerance: float = 1e-9) -> list[str]:
    """What differs between two lists of records (floats within ``tolerance``): empty when they are equal.

    Records are matched by position, so both lists must be sorted the same way (the export's order)."""
    found = []
    if len(actual) != len(expected):
        found.append(f"{len(actual)} rows, expected {len(expected)}")
    for number, (got, want) in enumerate(zip(actual, expected)):
        for key in sorted(set(got) | set(want)):
            a, b = got.get(key), want.get(key)
            same = (math.isclose(a, b, rel_tol=0, abs_tol=tolerance) if isinstance(a, float) and isinstance(b, float)
                    else a == b)
            if not same:
                found.append(f"row {number}: {key} is {a!r}, expected {b!r}")
    return found
