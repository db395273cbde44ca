"""Throughput of the window-aggregate job next to a plain Kafka consumer on the same topic.

The numbers depend on the machine and what else runs on it: they compare pipelines side by side in one
run, never assert anything in a test.
"""

from __future__ import annotations

import time
from typing import Callable

from iotlab.bench.machine import machine_description
from iotlab.bench.topics import fill_bench_topic
from iotlab.core import OUT_OF_ORDERNESS_MINUTES, OutputTopics
from iotlab.jobs.window_aggregate import run_job
from iotlab.kafka import read_topic, recreate_topic

PLAIN = "plain Kafka consumer (confluent-kafka)"


def bench_aggregate(readings: int = 1_000_000, devices: int = 100, topic: str = "bench.readings", runs: int = 2,
                    echo: Callable[[str], None] = print) -> dict:
    """On one topic of ``readings`` in 3 partitions: a plain Kafka consumer's rate (the ceiling), then the
    aggregate job's events/s, side by side in one run.

    The plain consumer and the SQL job (at parallelism 1, then 2: the machine's cores) take turns, ``runs``
    times each, and each keeps its best run: the first job in a fresh JVM runs before the JIT compiler has
    warmed up. The DataStream job runs once (it takes minutes). A job's rate is over its net run time, as
    the cluster measured it; "with start-up" counts from the call to its return (planning the job and
    starting the in-process cluster included)."""
    fill_bench_topic(topic, readings, devices, echo)

    best: dict[str, tuple[float, float]] = {}  # pipeline -> (events/s, with start-up)

    def keep_best(name: str, rate: tuple[float, float]) -> None:
        if name not in best or rate[0] > best[name][0]:
            best[name] = rate

    consumed = 0
    for turn in range(1, runs + 1):
        echo(f"Turn {turn} of {runs}: plain consumer, SQL job at parallelism 1 and 2 ...")
        started = time.perf_counter()
        consumed = len(read_topic(topic, timeout_s=600))
        keep_best(PLAIN, (consumed / (time.perf_counter() - started),) * 2)
        for parallelism in (1, 2):
            keep_best(f"aggregate job, sql API, parallelism {parallelism}",
                      _run_job(topic, "sql", parallelism, consumed))
    echo("Running the datastream job once, at parallelism 1 ...")
    keep_best("aggregate job, datastream API, parallelism 1", _run_job(topic, "datastream", 1, consumed))

    echo("")
    echo(f"Machine: {machine_description()}")
    echo(f"Topic: {consumed:,} readings in 3 partitions; dead-lettering and late routing on")
    echo(f"{'pipeline':<48} {'events/s':>10} {'with start-up':>14}")
    for name, (rate, with_start_up) in best.items():
        echo(f"{name:<48} {rate:>10,.0f} {with_start_up:>14,.0f}")
    echo(f"(best of {runs} runs, except the DataStream job: 1 run. events/s: over the job's net run time; with")
    echo(" start-up: from the call to its return. The DataStream job is bounded by its Python operators: every")
    echo(" record goes to a Python worker and back, twice.)")
    sql_name, (sql_rate, _) = max(((name, rate) for name, rate in best.items() if "sql" in name),
                                  key=lambda item: item[1][0])
    echo(f"Best SQL: {sql_name}")
    echo(f"SQL / plain consumer: {sql_rate / best[PLAIN][0]:.2f}")
    return {name: rate for name, (rate, _) in best.items()}


def _run_job(topic: str, api: str, parallelism: int, readings: int) -> tuple[float, float]:
    """One bounded run of the aggregate job: (events/s over its net run time, events/s with start-up)."""
    outputs = OutputTopics(topic)
    for name in (outputs.windows, outputs.dead_letter, outputs.late):
        recreate_topic(name, partitions=3)
    started = time.perf_counter()
    net_seconds = run_job(topic, api, OUT_OF_ORDERNESS_MINUTES, 0, settings=None, parallelism=parallelism)
    return readings / net_seconds, readings / (time.perf_counter() - started)
