"""Closing every window of a running job: one valid reading of device ``flush`` into every partition, far
after the data. Each partition's watermark (the job's is their minimum) then passes every window and every
silence of the real devices, which fire while the job runs; a comparison leaves device ``flush`` out."""

from __future__ import annotations

import json
from typing import Optional

from iotlab.core.settings import Settings
from iotlab.kafka.clients import producer

FLUSH_DEVICE = "flush"


def send_flush_readings(topic: str, at: str, settings: Optional[Settings] = None) -> None:
    """One valid reading of ``FLUSH_DEVICE`` at ``at`` (contract timestamp text) into every partition of
    ``topic``; raises when one is not acknowledged within 30 s."""
    kafka = producer(settings=settings)
    value = json.dumps({"device_id": FLUSH_DEVICE, "timestamp": at, "temperature": 20.0, "humidity": 50.0,
                        "status": "OK"}).encode()
    for partition in kafka.list_topics(topic, timeout=10).topics[topic].partitions:
        kafka.produce(topic, key=FLUSH_DEVICE.encode(), value=value, partition=partition)
    if kafka.flush(30):
        raise RuntimeError(f"the flush readings were not acknowledged by {topic}'s brokers within 30 s")


def without_flush(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Exported rows per table, device ``flush`` left out."""
    return {kind: [row for row in found if row["device_id"] != FLUSH_DEVICE] for kind, found in rows.items()}
