"""Throughput of the window-aggregate job next to a plain Kafka consumer on the same topic.

The numbers depend on the machine and what else runs on it: they compare pipelines side by side in one
run, never assert anything in a test.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

from iotlab.bench.machine import machine_description
from iotlab.core.errors import ServiceTimeout
from iotlab.jobs.window_aggregate.runner import aggregate_topic
from iotlab.kafka import read_topic, recreate_topic
from iotlab.sim.sensors import SimulationConfig
from iotlab.sim.writers import simulate_to_topic


def bench_aggregate(readings: int = 1_000_000, devices: int = 100, topic: str = "bench.readings",
                    echo: Callable[[str], None] = print) -> dict:
    """On one topic of ``readings``: a plain Kafka consumer's rate (the ceiling), then the aggregate job's
    events/s with the SQL API and with the DataStream API (each timed from submit to finish)."""
    recreate_topic(topic, partitions=3)
    config = SimulationConfig(devices=devices, interval_s=1, count=readings, seed=5, out_of_order_rate=0.01,
                              malformed_rate=0.001)
    echo(f"Producing {readings:,} readings to {topic} ...")
    produced = simulate_to_topic(config, topic)
    if produced.failed:
        raise ServiceTimeout(f"{produced.failed} of {readings} readings were not delivered to {topic}",
                             "check the broker with `iotlab lab status`, then run the benchmark again")

    results = {}
    started = time.perf_counter()
    consumed = len(read_topic(topic, timeout_s=600))
    results["plain Kafka consumer (confluent-kafka)"] = consumed / (time.perf_counter() - started)
    for api in ("sql", "datastream"):
        with tempfile.TemporaryDirectory() as folder:
            summary = aggregate_topic(topic, Path(folder) / "windows.jsonl", api=api, say=echo)
        results[f"aggregate job, {api} API"] = summary.readings_in / summary.seconds
        echo(f"{api}: {summary.lines()[0]}")

    echo("")
    echo(f"Machine: {machine_description()}")
    echo(f"{'pipeline':<40} {'events/s':>12}")
    for name, rate in results.items():
        echo(f"{name:<40} {rate:>12,.0f}")
    ratio = results["aggregate job, sql API"] / results["plain Kafka consumer (confluent-kafka)"]
    echo(f"SQL job / raw consume rate: {ratio:.2f} (target: at least 0.5)")
    return results
