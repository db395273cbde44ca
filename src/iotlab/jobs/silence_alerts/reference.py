"""The silence alerts computed independently, in plain Python: what the Flink job is checked against."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from iotlab.core.contract import validate_reading
from iotlab.core.offline import silence_is_raised
from iotlab.core.timestamps import timestamp_ms


def silences(arrivals: list[tuple[str, int]], gap_ms: int, watermark_ms: int) -> list[tuple[str, int, int]]:
    """Every (device_id, silent_since_ms, alert_at_ms) raised by the time the watermark is ``watermark_ms``
    (``END_OF_INPUT`` once a bounded input has ended), by the course's offline rule (``iotlab.core.offline``).

    ``arrivals`` are (device_id, event_ms) in any order. After a reading at t whose next reading in event time
    comes ``gap_ms`` or more later, or never, the device is silent since t and the alert is due at t + gap.
    Sorted by alert time, then device.
    """
    times: dict[str, set[int]] = defaultdict(set)
    for device, event_ms in arrivals:
        times[device].add(event_ms)
    alerts = []
    for device, moments in times.items():
        ordered = sorted(moments)
        for current, following in zip(ordered, ordered[1:] + [None]):
            if silence_is_raised(current, following, watermark_ms, gap_ms):
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
