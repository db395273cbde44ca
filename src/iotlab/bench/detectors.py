"""The anomaly detectors' two implementations on the same topic: the keyed Python function and the SQL OVER
aggregates (Java), their readings/s, and whether they raised the same alerts.

Both run bounded over one topic (``fill_bench_topic``: one-second readings, out-of-order and malformed
records) in this process's mini cluster, as ``iotlab detect --engine python|sql`` does; a rate is over the
whole call (planning and the mini cluster's start included: the same cost for both).

Numbers depend on the machine and what else runs on it: they are printed, never asserted in a test.
"""

from __future__ import annotations

from typing import Callable

from iotlab.bench.machine import machine_description
from iotlab.bench.topics import fill_bench_topic
from iotlab.jobs.anomalies.runner import ENGINES, detect_topic


def bench_detectors(readings: int = 100_000, devices: int = 100, topic: str = "bench.detectors",
                    echo: Callable[[str], None] = print) -> dict:
    fill_bench_topic(topic, readings, devices, echo)
    results = {}
    for engine in ENGINES:
        echo(f"Running the {engine} detectors over {topic} ...")
        results[engine] = detect_topic(topic, engine=engine)
        echo(f"  {results[engine].lines()[0]}")
    same = results["sql"].alerts == results["python"].alerts
    echo("")
    echo(f"Machine: {machine_description()}")
    echo(f"Topic: {readings:,} readings in 3 partitions, {devices} devices")
    echo(f"{'detectors':<40} {'readings/s':>11} {'alerts':>7}")
    for engine, summary in results.items():
        name = "SQL OVER aggregates (Java)" if engine == "sql" else "keyed Python function"
        echo(f"{name:<40} {summary.readings_in / summary.seconds:>11,.0f} {len(summary.alerts):>7}")
    echo(f"identical alerts: {'yes' if same else 'NO'}")
    ratio = results["python"].seconds / results["sql"].seconds
    echo(f"detectors sql / python: {ratio:.1f}")
    return {"results": results, "identical": same, "ratio": ratio}
