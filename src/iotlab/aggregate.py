"""``iotlab aggregate``: run the window-aggregate job over a topic (bounded) and write one JSON line per window.

The job (SQL or DataStream API, same results) writes three topics: ``T.windows``, ``T.dlq`` (bad records,
original bytes + reason) and ``T.late``. They are re-created at the start of each run so a re-run gives
the same output. The summary accounts for every reading: in = valid + dead-lettered, and
valid = aggregated + late.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from confluent_kafka import TopicPartition

from iotlab.config import Settings, load_settings
from iotlab.jobs.window_aggregate_sql import output_topics
from iotlab.kafka_clients import consumer, read_topic, recreate_topic

WINDOW_FIELDS = ("device_id", "window_start", "window_end", "count", "avg_temp", "min_temp", "max_temp",
                 "avg_humidity")
APIS = ("sql", "datastream")


@dataclass
class AggregateSummary:
    readings_in: int
    dead_lettered: int
    late: int
    windows_out: int
    aggregated: int
    seconds: float

    @property
    def valid(self) -> int:
        return self.readings_in - self.dead_lettered

    def lines(self) -> list[str]:
        return [f"readings in: {self.readings_in}, valid: {self.valid}, dead-lettered: {self.dead_lettered}, "
                f"late: {self.late}, windows out: {self.windows_out} (in {self.seconds:.1f} s)"]


def topic_size(topic: str, settings: Optional[Settings] = None) -> int:
    """Messages in the topic now (sum over partitions of high - low watermark)."""
    reader = consumer("iotlab-size", settings)
    try:
        metadata = reader.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise ValueError(f"topic {topic!r} does not exist: produce to it first "
                             f"(e.g. `iotlab replay FILE --topic {topic}`)")
        total = 0
        for partition in metadata.partitions:
            low, high = reader.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            total += high - low
        return total
    finally:
        reader.close()


def run_job(topic: str, api: str, allowed_lateness_minutes: int, settings: Optional[Settings]) -> None:
    if api == "sql":
        from iotlab.jobs.window_aggregate_sql import run
    elif api == "datastream":
        from iotlab.jobs.window_aggregate_datastream import run
    else:
        raise ValueError(f"api must be one of {APIS}")
    run(topic, allowed_lateness_minutes, settings)


def aggregate_topic(
    topic: str, out: Path, api: str = "sql", allowed_lateness_minutes: int = 10,
    settings: Optional[Settings] = None, say: Callable[[str], None] = print,
) -> AggregateSummary:
    """Run the job on ``topic`` and write the windows to ``out``, sorted by window start then device."""
    settings = settings or load_settings()
    started = time.monotonic()
    readings_in = topic_size(topic, settings)
    outputs = output_topics(topic)
    for name in (outputs.windows, outputs.dead_letter, outputs.late):
        recreate_topic(name, partitions=3, settings=settings)
    say(f"Running the {api} job on {readings_in} readings of {topic} (bounded: up to its current end) ...")
    run_job(topic, api, allowed_lateness_minutes, settings)
    windows = sorted((json.loads(m.value) for m in read_topic(outputs.windows, settings)),
                     key=lambda w: (w["window_start"], w["device_id"]))
    with out.open("w") as file:
        for window in windows:
            file.write(json.dumps({field: window[field] for field in WINDOW_FIELDS}) + "\n")
    return AggregateSummary(
        readings_in=readings_in,
        dead_lettered=len(read_topic(outputs.dead_letter, settings)),
        late=len(read_topic(outputs.late, settings)),
        windows_out=len(windows),
        aggregated=sum(w["count"] for w in windows),
        seconds=time.monotonic() - started,
    )
