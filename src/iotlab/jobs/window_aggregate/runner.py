"""The window-aggregate job's runner (``iotlab aggregate``): run the job over a topic (bounded) and write
one JSON line per window.

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

from iotlab.core.settings import Settings, load_settings
from iotlab.core.topics import OutputTopics
from iotlab.kafka import read_topic, recreate_topic, topic_size

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


def run_job(topic: str, api: str, allowed_lateness_minutes: int, settings: Optional[Settings]) -> None:
    """Run the job written with ``api`` ("sql" or "datastream") bounded, in this process."""
    if api == "sql":
        from iotlab.jobs.window_aggregate.sql import run
    elif api == "datastream":
        from iotlab.jobs.window_aggregate.datastream import run
    else:
        raise ValueError(f"api must be one of {APIS}, got {api!r}")
    run(topic, allowed_lateness_minutes, settings)


def aggregate_topic(
    topic: str, out: Path, api: str = "sql", allowed_lateness_minutes: int = 10,
    settings: Optional[Settings] = None, say: Callable[[str], None] = print,
) -> AggregateSummary:
    """Run the job on ``topic`` and write the windows to ``out``, sorted by window start then device."""
    settings = settings or load_settings()
    started = time.monotonic()
    readings_in = topic_size(topic, settings)
    outputs = OutputTopics(topic)
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
