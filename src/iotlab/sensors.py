"""A deterministic IoT sensor simulator: the same seed always gives the same readings.

Each device has its own baseline temperature and humidity; temperature follows a daily cycle
(warmest mid-afternoon) plus Gaussian noise. Readings follow the data contract in DESIGN.md:

    {"device_id": "device-01", "timestamp": "2025-11-05T12:00:00Z",
     "temperature": 27.5, "humidity": 40.2, "status": "OK"}
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator

DEFAULT_START = datetime(2025, 11, 5, 12, 0, tzinfo=timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """UTC ISO 8601 with a Z, to the second: the contract's timestamp format."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Device:
    device_id: str
    base_temperature: float
    base_humidity: float


def make_devices(count: int, rng: random.Random) -> list[Device]:
    """``count`` devices named device-01, device-02, ... with their own baselines."""
    return [
        Device(f"device-{number:02d}", round(rng.uniform(18.0, 28.0), 1), round(rng.uniform(30.0, 60.0), 1))
        for number in range(1, count + 1)
    ]


def generate_readings(
    count: int, devices: int = 5, seed: int = 7, start: datetime = DEFAULT_START, interval_s: int = 10
) -> Iterator[dict]:
    """Yield ``count`` readings, round-robin over ``devices``; every device reports each ``interval_s``."""
    if count < 0 or devices < 1 or interval_s < 1:
        raise ValueError("count must be >= 0, devices >= 1 and interval_s >= 1")
    rng = random.Random(seed)
    fleet = make_devices(devices, rng)
    for index in range(count):
        device = fleet[index % devices]
        moment = start + timedelta(seconds=(index // devices) * interval_s)
        hour = moment.hour + moment.minute / 60
        daily = 3.0 * math.sin((hour - 9.0) / 24.0 * 2 * math.pi)  # peaks at 15:00
        yield {
            "device_id": device.device_id,
            "timestamp": format_timestamp(moment),
            "temperature": round(device.base_temperature + daily + rng.gauss(0.0, 0.5), 2),
            "humidity": round(min(100.0, max(0.0, device.base_humidity + rng.gauss(0.0, 1.5))), 2),
            "status": "OK",
        }


def to_json_bytes(reading: dict) -> bytes:
    """The wire format: compact JSON, keys in contract order."""
    return json.dumps(reading, separators=(",", ":")).encode()
