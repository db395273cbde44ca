"""Validate a topic of raw readings against the contract; route bad records to its dead-letter topic.

A dead-lettered record keeps its original key and bytes, with the reason and its position in headers
(``iotlab.core.topics`` names them), so nothing is lost and someone can fix and replay it later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from iotlab.core.contract import validate_reading
from iotlab.core.settings import Settings
from iotlab.core.topics import dead_letter_headers, dead_letter_topic
from iotlab.kafka.clients import producer
from iotlab.kafka.reading import read_topic
from iotlab.kafka.sending import DeliveryReport, SendSummary, produce_accounted


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
    writer = producer(settings=settings)
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
            headers = list(dead_letter_headers(reason, source, message.partition, message.offset).items())
            produce_accounted(writer, dlq, number, message.key, message.value, report, headers=headers)
        writer.poll(0)
    writer.flush(30)
    return summary
