"""Benchmarks that print their numbers and the machine they ran on (never asserted in tests).

``iotlab bench lab``: cold start of the native lab (from `up` to all healthy, with the artifacts
already cached) and each service's resident memory once the lab is idle.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Callable

import psutil

from iotlab.lab import artifacts
from iotlab.lab.native import SERVICES, NativeLab, resident_mb

START_TARGET_S = 45.0
MEMORY_TARGET_MB = 3 * 1024


def machine_description() -> str:
    memory_gib = psutil.virtual_memory().total / 2**30
    return (f"{platform.node()}: {os.cpu_count()} cores, {memory_gib:.1f} GiB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def bench_lab(runs: int = 1, idle_seconds: int = 20, echo: Callable[[str], None] = print) -> dict:
    """Time ``runs`` cold starts and measure idle memory after the last one; print a table."""
    lab = NativeLab()
    was_running = bool(lab.running_services())
    artifacts.resolve(lab.jars, say=echo)  # cached before timing: the target excludes downloads
    if was_running:
        echo("Stopping the running lab to time a cold start ...")
        lab.down(say=echo)

    starts: list[float] = []
    per_service: dict[str, list[float]] = {service: [] for service in SERVICES}
    for run in range(1, runs + 1):
        lab = NativeLab()
        elapsed = lab.up(say=lambda _: None, progress=False)
        starts.append(elapsed)
        for service in SERVICES:
            per_service[service].append(lab.healthy_after[service])
        echo(f"run {run}: all healthy after {elapsed:.1f} s")
        if run < runs:
            lab.down(say=lambda _: None)

    echo(f"Letting the lab idle for {idle_seconds} s before measuring memory ...")
    time.sleep(idle_seconds)
    memory = {service: resident_mb(lab.pids(service)) for service in SERVICES}
    total_memory = sum(memory.values())

    echo("")
    echo(f"Machine: {machine_description()}")
    echo(f"{'service':<12} {'healthy after (s)':>18} {'idle RSS (MiB)':>15}")
    for service in SERVICES:
        echo(f"{service:<12} {statistics.median(per_service[service]):>18.1f} {memory[service]:>15.0f}")
    median_start = statistics.median(starts)
    echo(f"{'all':<12} {median_start:>18.1f} {total_memory:>15.0f}")
    start_verdict = "met" if median_start <= START_TARGET_S else "MISSED"
    memory_verdict = "met" if total_memory <= MEMORY_TARGET_MB else "MISSED"
    echo(f"targets: all healthy within {START_TARGET_S:.0f} s -> {start_verdict}; "
         f"idle memory within {MEMORY_TARGET_MB} MiB -> {memory_verdict}")
    if not was_running:
        lab.down(say=lambda _: None)
    return {"start_s": starts, "memory_mb": memory}


def bench_aggregate(readings: int = 1_000_000, devices: int = 100, topic: str = "bench.readings",
                    echo: Callable[[str], None] = print) -> dict:
    """On one topic of ``readings``: a plain Kafka consumer's rate (the ceiling), then the aggregate job's
    events/s with the SQL API and with the DataStream API (each timed from submit to finish)."""
    import tempfile
    from pathlib import Path

    from iotlab.aggregate import aggregate_topic
    from iotlab.kafka_clients import read_topic, recreate_topic
    from iotlab.sensors import SimulationConfig
    from iotlab.simulate import simulate_to_topic

    recreate_topic(topic, partitions=3)
    config = SimulationConfig(devices=devices, interval_s=1, count=readings, seed=5, out_of_order_rate=0.01,
                              malformed_rate=0.001)
    echo(f"Producing {readings:,} readings to {topic} ...")
    produced = simulate_to_topic(config, topic)
    if produced.failed:
        raise RuntimeError(f"{produced.failed} readings were not delivered")

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
