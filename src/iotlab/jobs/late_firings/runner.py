"""Run a window job live on the late-firing scenario and watch each window fire, and fire again.

The scenario's readings go one step at a time into a one-partition topic while the job runs. Before each
step the runner waits until the job has emitted every result the previous step causes (the reference says
which). A result proves that the watermark moved, so each reading meets the watermark of all readings
before it, whatever the machine's speed: the run is deterministic although Flink emits watermarks on a
wall-clock interval (every 200 ms by default), not after every record. When a job's result never comes
(a wrong job), the runner waits ``patience_s`` and goes on, so the comparison can show what differs.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Callable, Optional

from pyflink.common import Row, Types, WatermarkStrategy
from pyflink.datastream import DataStream, OutputTag
from pyflink.datastream.connectors.kafka import KafkaOffsetsInitializer, KafkaTopicPartition
from pyflink.datastream.functions import ProcessWindowFunction

from iotlab.core.errors import ServiceTimeout
from iotlab.core.settings import Settings, load_settings
from iotlab.core.timestamps import format_epoch_ms, timestamp_ms
from iotlab.flink.environments import stream_environment
from iotlab.flink.sources import bounded_kafka_source
from iotlab.jobs.late_firings.reference import Firing, Reading, scenario_results
from iotlab.kafka import producer, recreate_topic

READING_TYPE = Types.ROW_NAMED(["device_id", "event_ms"], [Types.STRING(), Types.LONG()])
FIRING_TYPE = Types.ROW_NAMED(["device_id", "window_start", "count"], [Types.STRING(), Types.STRING(), Types.LONG()])
RESULT_TYPE = Types.ROW_NAMED(["kind", "device_id", "time", "count"],
                              [Types.STRING(), Types.STRING(), Types.STRING(), Types.LONG()])


class CountReadings(ProcessWindowFunction):
    """One result per firing: the device, the window's start and how many readings the window holds."""

    def process(self, device_id, context, readings):
        yield Row(device_id=device_id, window_start=format_epoch_ms(context.window().start),
                  count=len(list(readings)))


# What the learner writes: readings in, one result per firing out, late readings to the side output.
WindowJob = Callable[[DataStream, int, int, OutputTag], DataStream]


def _parse(text: str) -> Row:
    reading = json.loads(text)
    return Row(device_id=reading["device_id"], event_ms=timestamp_ms(reading["timestamp"]))


def run_live(build: WindowJob, readings: list[Reading], out_of_orderness_minutes: int,
             allowed_lateness_minutes: int, topic: str, settings: Optional[Settings] = None,
             patience_s: float = 20.0, startup_s: float = 60.0,
             say: Callable[[str], None] = print) -> tuple[list[list[Firing]], list[Reading]]:
    """Run ``build`` on ``readings``, fed step by step; returns the firings seen after each reading (and
    after the end of input, last), and the late readings. Until the job's first result, a step waits up to
    ``startup_s`` (the job is still starting); after that ``patience_s``."""
    settings = settings or load_settings()
    recreate_topic(topic, partitions=1, settings=settings)
    env = stream_environment(settings=settings, options={"python.fn-execution.bundle.size": "1"})
    env.set_parallelism(1)
    source = bounded_kafka_source(topic, "late-firings", settings,
                                  KafkaOffsetsInitializer.offsets({KafkaTopicPartition(topic, 0): len(readings)}))
    parsed = env.from_source(source, WatermarkStrategy.no_watermarks(), "readings").map(_parse, READING_TYPE)
    late_tag = OutputTag("late readings")
    fired = build(parsed, out_of_orderness_minutes, allowed_lateness_minutes, late_tag)
    results = fired.map(lambda f: Row(kind="fired", device_id=f.device_id, time=f.window_start, count=f.count),
                        RESULT_TYPE).union(
        fired.get_side_output(late_tag).map(
            lambda r: Row(kind="late", device_id=r.device_id, time=format_epoch_ms(r.event_ms), count=0),
            RESULT_TYPE))

    arrived: "queue.Queue[Optional[Row]]" = queue.Queue()

    def collect() -> None:
        with results.execute_and_collect("late firings, live") as rows:
            for row in rows:
                arrived.put(row)
        arrived.put(None)  # the job has finished

    threading.Thread(target=collect, daemon=True).start()
    _, _, caused_by = scenario_results(readings, out_of_orderness_minutes, allowed_lateness_minutes)
    steps: list[list[Firing]] = [[] for _ in range(len(readings) + 1)]
    late: list[Reading] = []
    send = producer(settings=settings)
    finished = False
    missed = False  # a result that never came: the run already differs, no need to wait long for the rest

    def wait_s() -> float:
        if missed:
            return 2.0
        # until the first result, the job may still be starting (the mini cluster, a Python worker)
        return patience_s if any(steps) else startup_s

    def take(expected: int, step: int) -> None:
        nonlocal finished, missed
        deadline = time.monotonic() + wait_s()
        while not finished and len(steps[step]) < expected:
            try:
                row = arrived.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                say(f"  after reading {step + 1}: {len(steps[step])} of {expected} expected results came")
                missed = True
                return
            if row is None:
                finished = True
            elif row.kind == "late":
                late.append(Reading(row.device_id, row.time))
            else:
                steps[step].append(Firing(row.device_id, row.time, row.count))

    for index, reading in enumerate(readings):
        send.produce(topic, json.dumps({"device_id": reading.device_id, "timestamp": reading.timestamp}).encode(),
                     key=reading.device_id.encode())
        send.flush(10)
        take(caused_by.count(index), index)
    # the end of input: every remaining result, then the end of the job
    take(caused_by.count(len(readings)), len(readings))
    deadline = time.monotonic() + 60
    while not finished and time.monotonic() < deadline:
        take(10**6, len(readings))
    if not finished:
        raise ServiceTimeout("the late-firing job did not finish within a minute of its last reading",
                             "check the lab with `iotlab lab status`, then run the cell again")
    return steps, late
