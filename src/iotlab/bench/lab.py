"""Benchmarks that print their numbers and the machine they ran on (never asserted in tests).

``iotlab bench lab``: cold start of the native lab (from `up` to all healthy, with the artifacts
already cached) and each service's resident memory once the lab is idle.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

from iotlab.bench.machine import machine_description
from iotlab.lab import artifacts
from iotlab.lab.native import NativeLab, resident_mb
from iotlab.lab.runtime import SERVICES

START_TARGET_S = 45.0
MEMORY_TARGET_MB = 3 * 1024


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
