"""Replay any recorded stream (a .jsonl file) into a Kafka topic, byte for byte.

Each line is sent as it is (only the newline is removed), in file order, keyed by the line's
``device_id`` when the line is a JSON object that has one, and without a key otherwise — so a stream
our simulator did not write, malformed lines included, replays faithfully. Every line is accounted
for: delivered (per partition) or failed with its line number and the reason.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

from tqdm import tqdm

from iotlab.config import Settings
from iotlab.delivery import DeliveryReport, Pacer, SendSummary, produce_accounted
from iotlab.kafka_clients import producer, producer_limits_for


def key_of(line: bytes) -> Optional[bytes]:
    """The line's device_id as the message key, or None when it cannot be read."""
    try:
        document = json.loads(line)
    except ValueError:  # invalid JSON or invalid UTF-8
        return None
    device = document.get("device_id") if isinstance(document, dict) else None
    return device.encode() if isinstance(device, str) and device else None


def read_lines(path: Path) -> list[bytes]:
    """The file's lines as bytes, without their newline; a final newline does not make an empty line."""
    data = path.read_bytes()
    if not data:
        return []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def replay_file(
    path: Path, topic: str, rate: Optional[float] = None, settings: Optional[Settings] = None,
    progress: bool = True,
) -> SendSummary:
    """Send every line of ``path`` to ``topic`` at ``rate`` messages/s (flat out when None)."""
    lines = read_lines(path)
    summary = SendSummary()
    started = time.monotonic()
    with tqdm(total=len(lines), desc=f"replay -> {topic}", unit="msg", disable=not progress) as bar:
        report = DeliveryReport(summary, on_outcome=lambda: bar.update(1))
        # Idempotence keeps order per partition even when the client retries.
        kafka_producer = producer(settings, linger_ms="5", **producer_limits_for(topic, settings))
        pacer = Pacer(rate)
        for number, line in enumerate(lines, start=1):
            produce_accounted(kafka_producer, topic, number, key_of(line), line, report)
            kafka_producer.poll(0)
            pacer.wait()
        remaining = kafka_producer.flush(60)
    for _ in range(remaining):
        summary.failures.append((0, "not delivered within 60 s of the end (is the broker up?)"))
    summary.failures.sort()
    summary.seconds = time.monotonic() - started
    return summary
