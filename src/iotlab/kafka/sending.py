"""Sending many records to Kafka and accounting for every one of them: the course's one send loop.

``DeliveryReport`` is the producer's ``on_delivery`` callback: each message ends up either delivered
(counted per partition) or failed (kept with its position and the broker's reason). Nothing is
dropped silently, so a summary can always say: sent + failed = everything we tried.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from confluent_kafka import KafkaError, KafkaException, Producer
from tqdm.auto import tqdm

from iotlab.core.settings import Settings
from iotlab.kafka.admin import producer_limits_for
from iotlab.kafka.clients import producer


@dataclass
class SendSummary:
    """What happened to every record of one run."""

    attempted: int = 0
    delivered: int = 0
    per_partition: Counter = field(default_factory=Counter)
    failures: list[tuple[int, str]] = field(default_factory=list)  # (line or seq number, reason)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    def lines(self, what: str = "line") -> list[str]:
        """A human summary: totals, per-partition counts and each failure."""
        rate = self.delivered / self.seconds if self.seconds > 0 else 0.0
        out = [f"sent {self.delivered}, failed {self.failed}, of {self.attempted} in {self.seconds:.1f} s "
               f"({rate:,.0f} msg/s)"]
        if self.per_partition:
            out.append("per partition: " + ", ".join(f"{p}: {n}" for p, n in sorted(self.per_partition.items())))
        out.extend(f"  failed {what} {number}: {reason}" for number, reason in self.failures)
        return out


class DeliveryReport:
    """Collects the outcome of each produced message into a ``SendSummary``."""

    def __init__(self, summary: SendSummary, on_outcome: Optional[Callable[[], None]] = None) -> None:
        self.summary = summary
        self.on_outcome = on_outcome

    def callback(self, number: int) -> Callable:
        """The on_delivery callback for the message known as ``number`` (its line or sequence number)."""

        def report(error, message) -> None:
            if error is not None:
                self.summary.failures.append((number, error.str()))
            else:
                self.summary.delivered += 1
                self.summary.per_partition[message.partition()] += 1
            if self.on_outcome:
                self.on_outcome()

        return report


def produce_accounted(
    producer: Producer, topic: str, number: int, key: Optional[bytes], value: bytes, report: DeliveryReport,
    headers: Optional[list[tuple[str, bytes]]] = None,
) -> None:
    """Produce one message; a local refusal (too large, bad topic) becomes a failure, not an exception."""
    report.summary.attempted += 1
    while True:
        try:
            producer.produce(topic, key=key, value=value, headers=headers, on_delivery=report.callback(number))
            return
        except BufferError:  # the local queue is full: let deliveries drain, then retry
            producer.poll(0.5)
        except KafkaException as error:
            kafka_error = error.args[0]
            reason = kafka_error.str()
            if kafka_error.code() == KafkaError.MSG_SIZE_TOO_LARGE:
                reason = f"{len(value)} bytes is more than the topic accepts (max.message.bytes): {reason}"
            report.summary.failures.append((number, reason))
            if report.on_outcome:
                report.on_outcome()
            return


class Pacer:
    """Sleeps just enough to hold a target rate (messages per second); ``None`` means flat out."""

    def __init__(self, rate: Optional[float]) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self.started = time.monotonic()
        self.sent = 0

    def wait(self) -> None:
        self.sent += 1
        if self.rate is None:
            return
        ahead = self.started + self.sent / self.rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)


# One record to send: its number (line or sequence number, for the report), key and value.
NumberedRecord = tuple[int, Optional[bytes], bytes]


def send_records(
    records: Iterable[NumberedRecord], topic: str, total: Optional[int] = None, rate: Optional[float] = None,
    settings: Optional[Settings] = None, progress: bool = True, description: Optional[str] = None,
) -> SendSummary:
    """Produce every record to ``topic`` at ``rate`` messages/s (flat out when None), with a progress bar.

    Every record ends up delivered or in ``failures`` with its number and the reason, including those the
    broker never acknowledged by the end. Batches are capped at what the topic accepts, so an oversized
    record fails alone; idempotence keeps order per partition even when the client retries.
    """
    summary = SendSummary()
    started = time.monotonic()
    config = {"linger.ms": 5, **producer_limits_for(topic, settings)}
    with tqdm(total=total, desc=description or f"send -> {topic}", unit="msg", disable=not progress) as bar:
        report = DeliveryReport(summary, on_outcome=lambda: bar.update(1))
        kafka_producer = producer(config, settings)
        pacer = Pacer(rate)
        for number, key, value in records:
            produce_accounted(kafka_producer, topic, number, key, value, report)
            kafka_producer.poll(0)
            pacer.wait()
        remaining = kafka_producer.flush(60)
        bar.total = summary.attempted  # ``total`` may have been an estimate (the simulator's)
        bar.refresh()
    for _ in range(remaining):
        summary.failures.append((0, "not delivered within 60 s of the end (is the broker up?)"))
    summary.failures.sort()
    summary.seconds = time.monotonic() - started
    return summary


def partitions_of_keys(topic: str, keys: Iterable[str], config: Optional[dict] = None,
                       settings: Optional[Settings] = None) -> dict[str, int]:
    """{key: the partition a message with that key lands on}, as the brokers report it.

    Sends one small message (``b"where?"``) per key with the course's producer, changed by ``config``
    (``{"partitioner": "consistent_random"}`` gives librdkafka's own CRC32 hash), and reads the partition
    from each delivery report: what really happened, not a prediction.
    """
    where: dict[str, int] = {}

    def record(error, message) -> None:
        if error is not None:
            raise KafkaException(error)
        where[message.key().decode()] = message.partition()

    client = producer(config, settings)
    for key in keys:
        client.produce(topic, key=key.encode(), value=b"where?", on_delivery=record)
    remaining = client.flush(30)
    if remaining:
        raise KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT, f"{remaining} messages to {topic} not delivered"))
    return where
