"""The window-aggregate job's runner (``iotlab aggregate``): run the job over a topic (bounded) and write
one JSON line per window.

The rule it applies is Flink's own: event time from each reading's timestamp, a watermark of bounded
out-of-orderness (the largest event time the source has read, minus ``out_of_orderness_minutes``; one per
partition, the minimum over them), and a reading is late when its 5-minute window has already fired,
that is when the watermark has reached the window's last millisecond. The DataStream API can also keep
windows open for ``allowed_lateness_minutes`` after that: a late reading then fires its window again.

The job (SQL or DataStream API, with no allowed lateness the same results) writes three topics:
``T.windows``, ``T.dlq`` (bad records, original bytes + reason) and ``T.late``. They are re-created at the
start of each run so a re-run gives the same output. The summary accounts for every reading:
in = valid + dead-lettered, and valid = aggregated + late.

Which readings are late depends on the order the job reads them in. On a one-partition topic that order
is fixed, and so is the result. With several partitions the job reads them interleaved as they come, so
the late readings (and the windows they miss) can differ between runs, unless the bound is larger than the
stream's disorder and nothing is late at all.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from iotlab.core.errors import OptionError
from iotlab.core.settings import Settings, load_settings
from iotlab.core.topics import OutputTopics
from iotlab.core.windows import OUT_OF_ORDERNESS_MINUTES
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


def run_job(topic: str, api: str, out_of_orderness_minutes: int, allowed_lateness_minutes: int,
            settings: Optional[Settings], parallelism: int = 1) -> float:
    """Run the job written with ``api`` ("sql" or "datastream") bounded, in this process, with ``parallelism``
    subtasks; its net run time in s."""
    if api == "sql":
        if allowed_lateness_minutes:
            raise OptionError("Flink SQL's window table functions (TUMBLE, HOP, ...) have no allowed lateness",
                              "use --api datastream, or leave --allowed-lateness at 0")
        from iotlab.jobs.window_aggregate.sql import run

        return run(topic, out_of_orderness_minutes, settings, parallelism)
    elif api == "datastream":
        from iotlab.jobs.window_aggregate.datastream import run

        return run(topic, out_of_orderness_minutes, allowed_lateness_minutes, settings, parallelism)
    else:
        raise OptionError(f"unknown API {api!r}", f"use one of {', '.join(APIS)}")


def final_windows(emitted: list[dict]) -> list[dict]:
    """One result per device and window: the last one emitted (a late firing replaces the first result)."""
    final = {(w["device_id"], w["window_start"]): w for w in emitted}
    return sorted(final.values(), key=lambda w: (w["window_start"], w["device_id"]))


def aggregate_topic(
    topic: str, out: Path, api: str = "sql", out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES,
    allowed_lateness_minutes: int = 0, settings: Optional[Settings] = None, say: Callable[[str], None] = print,
    parallelism: int = 1,
) -> AggregateSummary:
    """Run the job on ``topic`` and write the windows to ``out``, sorted by window start then device."""
    settings = settings or load_settings()
    started = time.monotonic()
    readings_in = topic_size(topic, settings)
    outputs = OutputTopics(topic)
    for name in (outputs.windows, outputs.dead_letter, outputs.late):
        recreate_topic(name, partitions=3, settings=settings)
    say(f"Running the {api} job on {readings_in} readings of {topic} (bounded: up to its current end) ...")
    run_job(topic, api, out_of_orderness_minutes, allowed_lateness_minutes, settings, parallelism)
    # windows are keyed by device: one device's results keep their order in the windows topic
    windows = final_windows([json.loads(m.value) for m in read_topic(outputs.windows, settings)])
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
