"""The silence alerts computed independently, in plain Python: what the Flink job is checked against."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from iotlab.core.contract import validate_reading
from iotlab.core.timestamps import timestamp_ms


def silences(arrivals: list[tuple[str, int]], gap_ms: int, until_ms: int) -> list[tuple[str, int, int]]:
    """Every (device_id, silent_since_ms, alert_at_ms) with alert_at <= until_ms.

    ``arrivals`` are (device_id, event_ms) in any order. A device is silent when, after a reading at t,
    its next reading in event time comes more than ``gap_ms`` later (or never): the alert is due at
    t + gap. Sorted by alert time, then device.
    """
    times: dict[str, set[int]] = defaultdict(set)
    for device, event_ms in arrivals:
        times[device].add(event_ms)
    alerts = []
    for device, moments in times.items():
        ordered = sorted(moments)
        for current, following in zip(ordered, ordered[1:] + [None]):
            silent = following is None or following - current > gap_ms
            if silent and current + gap_ms <= until_ms:
                alerts.append((device, current, current + gap_ms))
    return sorted(alerts, key=lambda alert: (alert[2], alert[0]))



def alert_tuples(alerts: pd.DataFrame) -> list[tuple[str, int, int]]:
    """Alerts as (device_id, silent_since_ms, alert_at_ms), sorted by alert time then device: the shape of
    ``silences``, so the two can be compared with ``==``."""
    rows = ((row.device_id, timestamp_ms(row.silent_since), timestamp_ms(row.alert_at)) for row in alerts.itertuples())
    return sorted(rows, key=lambda alert: (alert[2], alert[0]))


def valid_arrivals(lines: list[bytes]) -> list[tuple[str, int]]:
    """(device_id, event_ms) of each valid reading among ``lines``, in their order (bad ones left out)."""
    readings = (validate_reading(line)[0] for line in lines)
    return [(r["device_id"], timestamp_ms(r["timestamp"])) for r in readings if r is not None]
