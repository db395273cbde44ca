"""Validate a topic of raw readings against the contract; route bad records to a dead-letter topic.

A dead-lettered record keeps its **original bytes** (value and key) and carries why and where from in
headers, so nothing is lost and someone can fix and replay it later:

| header | example |
|---|---|
| ``dlq.reason`` | ``missing_field: humidity`` |
| ``dlq.source.topic`` / ``.partition`` / ``.offset`` | ``iot.readings`` / ``2`` / ``1841`` |

By convention the dead-letter topic of ``T`` is ``T.dlq``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from iotlab.config import Settings
from iotlab.contract import validate_reading
from iotlab.delivery import DeliveryReport, SendSummary, produce_accounted
from iotlab.kafka_clients import producer, read_topic


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass
class RoutingSummary:
    read: int = 0
    valid: int = 0
    dead_lettered: int = 0
    reasons: Counter = field(default_factory=Counter)  # by category: invalid_json, missing_field, ...
    delivery: SendSummary = field(default_factory=SendSummary)


def route_topic(source: str, valid_topic: str, settings: Optional[Settings] = None) -> RoutingSummary:
    """Read ``source`` to its current end; valid records go to ``valid_topic``, the rest to ``source.dlq``."""
    summary = RoutingSummary()
    report = DeliveryReport(summary.delivery)
    writer = producer(settings)
    dlq = dead_letter_topic(source)
    for message in read_topic(source, settings):
        summary.read += 1
        _, reason = validate_reading(message.value or b"")
        number = summary.read
        if reason is None:
            summary.valid += 1
            produce_accounted(writer, valid_topic, number, message.key, message.value, report)
        else:
            summary.dead_lettered += 1
            summary.reasons[reason.split(":")[0]] += 1
            headers = [("dlq.reason", reason.encode()), ("dlq.source.topic", source.encode()),
                       ("dlq.source.partition", str(message.partition).encode()),
                       ("dlq.source.offset", str(message.offset).encode())]
            produce_accounted(writer, dlq, number, message.key, message.value, report, headers=headers)
        writer.poll(0)
    writer.flush(30)
    return summary
