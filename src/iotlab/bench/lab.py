"""Benchmarks that print their numbers and the machine they ran on (never asserted in tests).

``iotlab bench lab [--nodes 3]``: cold start of the native lab (from `up` to all healthy, with the artifacts
already cached) and each process's resident memory once the lab is idle.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

from iotlab.bench.machine import machine_description
from iotlab.lab import artifacts
from iotlab.lab.native import NativeLab, resident_mb

# Per node count: all healthy within this many seconds, idle resident memory within this many MiB (three nodes:
# the 4.5 GB, so that the lab, a browser and the notebook fit a learner's 8 GB laptop).
START_TARGET_S = {1: 45.0, 3: 90.0}
MEMORY_TARGET_MB = {1: 3 * 1024, 3: 4608}


def bench_lab(runs: int = 1, idle_seconds: int = 20, nodes: int = 1, echo: Callable[[str], None] = print) -> dict:
    """Time ``runs`` cold starts of a ``nodes``-node lab and measure idle memory after the last one; print a
    table with a row per process."""
    lab = NativeLab(nodes=nodes)
    was_running = bool(lab.running_services() or NativeLab(nodes=4 - nodes).running_services())
    artifacts.resolve(lab.jars, say=echo)  # cached before timing: the target excludes downloads
    if was_running:
        echo("Stopping the running lab to time a cold start ...")
        lab.down(say=echo)

    starts: list[float] = []
    units = [unit.name for unit in lab.units()]
    per_unit: dict[str, list[float]] = {unit: [] for unit in units}
    for run in range(1, runs + 1):
        lab = NativeLab(nodes=nodes)
        elapsed = lab.up(say=lambda _: None, progress=False)
        starts.append(elapsed)
        for unit in units:
            per_unit[unit].append(lab.healthy_after[unit])
        echo(f"run {run}: all healthy after {elapsed:.1f} s")
        if run < runs:
            lab.down(say=lambda _: None)

    echo(f"Letting the lab idle for {idle_seconds} s before measuring memory ...")
    time.sleep(idle_seconds)
    memory = {unit.name: resident_mb(lab.unit_pids(unit)) for unit in lab.units()}
    total_memory = sum(memory.values())

    echo("")
    echo(f"Machine: {machine_description()}")
    echo(f"Lab: {nodes} Kafka and {nodes} Cassandra node(s), the Flink session cluster (JobManager, TaskManager)")
    echo(f"{'process':<12} {'healthy after (s)':>18} {'idle RSS (MiB)':>15}")
    for unit in units:
        echo(f"{unit:<12} {statistics.median(per_unit[unit]):>18.1f} {memory[unit]:>15.0f}")
    median_start = statistics.median(starts)
    echo(f"{'all':<12} {median_start:>18.1f} {total_memory:>15.0f}")
    start_verdict = "met" if median_start <= START_TARGET_S[nodes] else "MISSED"
    memory_verdict = "met" if total_memory <= MEMORY_TARGET_MB[nodes] else "MISSED"
    echo(f"targets: all healthy within {START_TARGET_S[nodes]:.0f} s -> {start_verdict}; "
         f"idle memory within {MEMORY_TARGET_MB[nodes]} MiB -> {memory_verdict}")
    if not was_running:
        lab.down(say=lambda _: None)
    return {"start_s": starts, "memory_mb": memory}
