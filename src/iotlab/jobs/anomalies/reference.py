"""The detectors over a whole recorded stream, in plain Python: the batch reference of the Flink job, and what
``iotlab detect`` reports.

Records in arrival order → per device, its events in event-time order: valid readings (a duplicate of a
moment already seen is skipped), and records dead-lettered for an impossible value that still name a device
and a time (``out_of_range``). Each device's ``DeviceDetectors`` sees them in order; the result is the alerts
sorted by alert time, device and kind. Nothing is raised because the input ends: a spike still open at the
end is not reported (a spike is raised when the device is back to normal), and the end is not a silence.
"""

from __future__ import annotations

import json
from typing import Callable, Optional

from iotlab.core.contract import validate_reading
from iotlab.core.timestamps import timestamp_ms
from iotlab.jobs.anomalies.detectors import DeviceDetectors, alert_order


def impossible_event(line: bytes, reason: str) -> Optional[tuple[str, int]]:
    """(device, event time) of a record refused for an impossible value, if it names both."""
    if not reason.startswith("impossible_value") or "timestamp" in reason:
        return None
    try:
        document = json.loads(line)
        return document["device_id"], timestamp_ms(document["timestamp"])
    except (ValueError, KeyError, TypeError):
        return None


def device_events(lines: list[bytes]) -> dict[str, list[tuple[int, int, object]]]:
    """Per device: (event ms, order, event) sorted by time, an event being a reading dict or a reason string."""
    events: dict[str, list[tuple[int, int, object]]] = {}
    seen: set[tuple[str, int]] = set()
    for order, line in enumerate(lines):
        reading, reason = validate_reading(line)
        if reading is not None:
            at = timestamp_ms(reading["timestamp"])
            if (reading["device_id"], at) not in seen:
                seen.add((reading["device_id"], at))
                events.setdefault(reading["device_id"], []).append((at, order, reading))
        elif (found := impossible_event(line, reason)) is not None:
            events.setdefault(found[0], []).append((found[1], order, reason))
    return {device: sorted(found) for device, found in events.items()}


def detect(lines: list[bytes], make: Callable[[], DeviceDetectors] = DeviceDetectors) -> list[dict]:
    """Every alert of the stream, sorted by alert time, device and kind."""
    alerts = []
    for device, events in sorted(device_events(lines).items()):
        detectors = make()
        for at, _, event in events:
            if isinstance(event, dict):
                alerts += detectors.reading(device, at, float(event["temperature"]), float(event["humidity"]))
            else:
                alerts += detectors.impossible(device, at, str(event))
    return sorted(alerts, key=alert_order)
