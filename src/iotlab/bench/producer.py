"""Measure producer throughput on the lab's broker for different batching and compression settings.

The numbers depend on the machine and what else runs on it: they are for comparing settings side by
side in one run, never for asserting in a test.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from tqdm.auto import tqdm

from iotlab.core.settings import Settings
from iotlab.kafka import DeliveryReport, SendSummary, produce_accounted, producer

# Each entry: a name for the table, and the librdkafka properties that differ from librdkafka's defaults.
# The course's producer factory turns idempotence on; here it is off unless a setup says otherwise, so
# that each setup measures only what its name says.
PRODUCER_SETUPS: dict[str, dict] = {
    "one message per request (batch.size=1)": {"linger.ms": 0, "batch.size": 1},
    "defaults (linger.ms=5)": {},
    "linger.ms=20 + lz4": {"linger.ms": 20, "compression.type": "lz4"},
    "linger.ms=50 + zstd, 1 MB batches": {"linger.ms": 50, "compression.type": "zstd", "batch.size": 1_000_000},
    "acks=all + idempotence": {"acks": "all", "enable.idempotence": True},
}
WITHOUT_IDEMPOTENCE = {"enable.idempotence": False}


@dataclass
class ThroughputResult:
    setup: str
    messages: int
    failed: int
    seconds: float

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def measure_producer(
    topic: str, messages: list[tuple[bytes, bytes]], setup: str, overrides: dict,
    settings: Optional[Settings] = None,
) -> ThroughputResult:
    """Produce ``messages`` (key, value) with the given properties; time until the last delivery report."""
    summary = SendSummary()
    report = DeliveryReport(summary)
    kafka_producer = producer({**WITHOUT_IDEMPOTENCE, **overrides}, settings)
    started = time.perf_counter()
    for number, (key, value) in enumerate(messages, start=1):
        produce_accounted(kafka_producer, topic, number, key, value, report)
        kafka_producer.poll(0)
    kafka_producer.flush(120)
    seconds = time.perf_counter() - started
    return ThroughputResult(setup, summary.delivered, len(messages) - summary.delivered, seconds)


def compare_setups(
    topic: str, messages: list[tuple[bytes, bytes]], setups: Optional[dict[str, dict]] = None,
    settings: Optional[Settings] = None,
) -> list[ThroughputResult]:
    """Run every setup on the same messages, one after the other."""
    setups = setups or PRODUCER_SETUPS
    return [measure_producer(topic, messages, name, overrides, settings)
            for name, overrides in tqdm(setups.items(), desc="producer setups")]
