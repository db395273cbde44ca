"""The benchmarks' input: one topic of simulated readings, the same for every benchmark that compares jobs."""

from __future__ import annotations

from typing import Callable

from iotlab.core.errors import ServiceTimeout
from iotlab.kafka import recreate_topic
from iotlab.sim.sensors import SimulationConfig
from iotlab.sim.writers import simulate_to_topic


def fill_bench_topic(topic: str, readings: int, devices: int, echo: Callable[[str], None] = print) -> None:
    """``topic`` afresh (3 partitions) with ``readings`` one-second readings of ``devices`` devices, 1% of them
    out of order and 0.1% malformed (so dead-letter routing runs); fail if any was not delivered."""
    recreate_topic(topic, partitions=3)
    config = SimulationConfig(devices=devices, interval_s=1, count=readings, seed=5, out_of_order_rate=0.01,
                              malformed_rate=0.001)
    echo(f"Producing {readings:,} readings of {devices} devices to {topic} ...")
    produced = simulate_to_topic(config, topic)
    if produced.failed:
        raise ServiceTimeout(f"{produced.failed} of {readings} readings were not delivered to {topic}",
                             "check the broker with `iotlab lab status`, then run the benchmark again")
