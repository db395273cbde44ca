"""Throughput of the window-aggregate job next to a plain Kafka consumer on the same topic.

The numbers depend on the machine and what else runs on it: they compare pipelines side by side in one
run, never assert anything in a test.
"""

from __future__ import annotations

import time
from typing import Callable

from iotlab.bench.machine import machine_description
from iotlab.core import OUT_OF_ORDERNESS_MINUTES, OutputTopics
from iotlab.core.errors import ServiceTimeout
from iotlab.jobs.window_aggregate import APIS, run_job
from iotlab.kafka import read_topic, recreate_topic
from iotlab.sim.sensors import SimulationConfig
from iotlab.sim.writers import simulate_to_topic


def bench_aggregate(readings: int = 1_000_000, devices: int = 100, topic: str = "bench.readings",
                    echo: Callable[[str], None] = print) -> dict:
    """On one topic of ``readings``: a plain Kafka consumer's rate (the ceiling), then the aggregate job's
    events/s with the SQL API and with the DataStream API, side by side in one run: over each job's net run
    time, and from the call to its return (planning and the in-process cluster's start-up included)."""
    recreate_topic(topic, partitions=3)
    config = SimulationConfig(devices=devices, interval_s=1, count=readings, seed=5, out_of_order_rate=0.01,
                              malformed_rate=0.001)
    echo(f"Producing {readings:,} readings to {topic} ...")
    produced = simulate_to_topic(config, topic)
    if produced.failed:
        raise ServiceTimeout(f"{produced.failed} of {readings} readings were not delivered to {topic}",
                             "check the broker with `iotlab lab status`, then run the benchmark again")

    plain = "plain Kafka consumer (confluent-kafka)"
    started = time.perf_counter()
    consumed = len(read_topic(topic, timeout_s=600))
    rates = {plain: (consumed / (time.perf_counter() - started),) * 2}
    outputs = OutputTopics(topic)
    for api in APIS:
        for name in (outputs.windows, outputs.dead_letter, outputs.late):
            recreate_topic(name, partitions=3)
        echo(f"Running the {api} job (dead-lettering and late routing on) ...")
        started = time.perf_counter()
        net_seconds = run_job(topic, api, OUT_OF_ORDERNESS_MINUTES, 0, settings=None)
        rates[f"aggregate job, {api} API"] = (consumed / net_seconds, consumed / (time.perf_counter() - started))

    echo("")
    echo(f"Machine: {machine_description()}")
    echo(f"Topic: {consumed:,} readings in 3 partitions; jobs at parallelism 1")
    echo(f"{'pipeline':<40} {'events/s':>12} {'with start-up':>14}")
    for name, (rate, with_start_up) in rates.items():
        echo(f"{name:<40} {rate:>12,.0f} {with_start_up:>14,.0f}")
    echo("(events/s: over the job's net run time as the cluster measured it; with start-up: from the call to its")
    echo(" return, planning and the in-process cluster's start included. The DataStream job is bounded by its")
    echo(" Python operators: every record goes to a Python worker and back.)")
    ratio = rates["aggregate job, sql API"][0] / rates[plain][0]
    echo(f"SQL / plain consumer: {ratio:.2f}")
    return {name: rate for name, (rate, _) in rates.items()}
