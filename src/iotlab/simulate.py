"""Drive the sensor simulator into a Kafka topic or a .jsonl file, with its labels kept apart."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

from tqdm import tqdm

from iotlab.config import Settings
from iotlab.delivery import DeliveryReport, Pacer, SendSummary, produce_accounted
from iotlab.kafka_clients import producer, producer_limits_for
from iotlab.sensors import SensorSimulator, SimulationConfig


def expected_records(config: SimulationConfig) -> int:
    """About how many records the run emits (for the progress bar)."""
    if config.count is not None:
        return config.count
    ticks = int(-(-config.duration_s // config.interval_s))  # ceiling division
    return ticks * config.devices


def write_labels(simulator: SensorSimulator, path: Path) -> None:
    """One JSON object per line, in the order they were recorded."""
    with path.open("w") as out:
        for label in simulator.labels:
            out.write(json.dumps(label, separators=(",", ":")) + "\n")


def simulate_to_file(
    config: SimulationConfig, path: Path, labels_path: Optional[Path] = None,
    rate: Optional[float] = None, progress: bool = True,
) -> SendSummary:
    """Write the stream to ``path`` (one record per line) and the labels to ``labels_path``."""
    simulator = SensorSimulator(config)
    summary = SendSummary()
    started = time.monotonic()
    pacer = Pacer(rate)
    with path.open("wb") as out, tqdm(total=expected_records(config), desc=f"simulate -> {path.name}",
                                      unit="rec", disable=not progress) as bar:
        for record in simulator.records():
            out.write(record.value + b"\n")
            summary.attempted += 1
            summary.delivered += 1
            bar.update(1)
            pacer.wait()
    if labels_path is not None:
        write_labels(simulator, labels_path)
    summary.seconds = time.monotonic() - started
    return summary


def simulate_to_topic(
    config: SimulationConfig, topic: str, labels_path: Optional[Path] = None, rate: Optional[float] = None,
    settings: Optional[Settings] = None, progress: bool = True,
) -> SendSummary:
    """Produce the stream to ``topic`` (key = device_id) and account for every record."""
    simulator = SensorSimulator(config)
    summary = SendSummary()
    started = time.monotonic()
    with tqdm(total=expected_records(config), desc=f"simulate -> {topic}", unit="msg",
              disable=not progress) as bar:
        report = DeliveryReport(summary, on_outcome=lambda: bar.update(1))
        kafka_producer = producer(settings, linger_ms="5", **producer_limits_for(topic, settings))
        pacer = Pacer(rate)
        for record in simulator.records():
            produce_accounted(kafka_producer, topic, record.seq, record.key, record.value, report)
            kafka_producer.poll(0)
            pacer.wait()
        remaining = kafka_producer.flush(60)
    for _ in range(remaining):
        summary.failures.append((-1, "not delivered within 60 s of the end (is the broker up?)"))
    if labels_path is not None:
        write_labels(simulator, labels_path)
    summary.seconds = time.monotonic() - started
    return summary
