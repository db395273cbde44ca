"""Writers: the simulator into a .jsonl file or a Kafka topic, and any recorded stream replayed into Kafka.

Both Kafka writers go through the one send loop (``iotlab.kafka.send_records``), so every record is
accounted for the same way: delivered (per partition) or failed with its number and the reason.

Replay sends each line as it is (only the newline is removed), in file order, keyed by the line's
``device_id`` when the line is a JSON object that has one and without a key otherwise, so a stream our
simulator did not write, malformed lines included, replays faithfully.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

from tqdm.auto import tqdm

from iotlab.core.settings import Settings
from iotlab.kafka import Pacer, SendSummary, send_records
from iotlab.sim.sensors import SensorSimulator, SimulationConfig


def expected_records(config: SimulationConfig) -> int:
    """About how many records the run emits (for the progress bar): one per device and tick. Offline
    devices send fewer, duplicates add some; the bars end at the count actually written or sent."""
    if config.count is not None:
        return config.count
    ticks = int(-(-config.duration_s // config.interval_s))  # ceiling division
    return ticks * config.devices


LABELS_SUFFIX = ".labels.jsonl"  # a recording NAME.jsonl keeps its labels in NAME.labels.jsonl


def labels_path_of(stream_path: Path) -> Path:
    """Where the labels of the recorded stream ``stream_path`` (NAME.jsonl) go: NAME.labels.jsonl beside it."""
    return stream_path.with_name(stream_path.name.removesuffix(".jsonl") + LABELS_SUFFIX)


def stream_path_of(labels_path: Path) -> Optional[Path]:
    """The recorded stream whose labels are ``labels_path`` (NAME.labels.jsonl -> NAME.jsonl), None for another name."""
    if not labels_path.name.endswith(LABELS_SUFFIX):
        return None
    return labels_path.with_name(labels_path.name.removesuffix(LABELS_SUFFIX) + ".jsonl")


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
        bar.total = bar.n  # the estimate made way for the real count
        bar.refresh()
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
    records = ((record.seq, record.key, record.value) for record in simulator.records())
    summary = send_records(records, topic, total=expected_records(config), rate=rate, settings=settings,
                           progress=progress, description=f"simulate -> {topic}")
    if labels_path is not None:
        write_labels(simulator, labels_path)
    return summary


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
    return replay_lines(read_lines(path), topic, rate=rate, settings=settings, progress=progress)


def replay_lines(
    lines: list[bytes], topic: str, rate: Optional[float] = None, settings: Optional[Settings] = None,
    progress: bool = True,
) -> SendSummary:
    """Send ``lines`` (records without their newline, as ``read_lines`` gives them) to ``topic`` in order, at
    ``rate`` messages/s (flat out when None): a part of a recording, such as the records a test sends while it
    kills the TaskManager."""
    records = ((number, key_of(line), line) for number, line in enumerate(lines, start=1))
    return send_records(records, topic, total=len(lines), rate=rate, settings=settings, progress=progress,
                        description=f"replay -> {topic}")
