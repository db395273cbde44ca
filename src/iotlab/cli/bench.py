"""`iotlab bench ...`: benchmarks that print their numbers and the machine."""

from __future__ import annotations

import click

from iotlab.cli.errors import fail_cleanly


@click.group()
def bench() -> None:
    """Benchmarks that print their numbers and the machine they ran on."""


@bench.command("lab")
@click.option("--runs", default=1, show_default=True, help="How many cold starts to time.")
@click.option("--idle-seconds", default=20, show_default=True,
              help="How long to let the lab settle before measuring memory.")
@click.option("--nodes", type=click.Choice(["1", "3"]), default="1", show_default=True,
              help="Kafka brokers and Cassandra nodes of the lab to time.")
@fail_cleanly
def bench_lab(runs: int, idle_seconds: int, nodes: str) -> None:
    """Cold start (from `up` to all healthy, artifacts cached) and idle resident memory per process."""
    from iotlab.bench import bench_lab as run

    run(runs=runs, idle_seconds=idle_seconds, nodes=int(nodes), echo=click.echo)


@bench.command("aggregate")
@click.option("--readings", default=1_000_000, show_default=True, type=click.IntRange(min=1000))
@click.option("--devices", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--runs", default=2, show_default=True, type=click.IntRange(min=1),
              help="Turns of the plain consumer and the SQL job; each keeps its best.")
@fail_cleanly
def bench_aggregate(readings: int, devices: int, runs: int) -> None:
    """Raw consume rate versus the aggregate job's events/s (SQL and DataStream) on one topic."""
    from iotlab.bench import bench_aggregate as run

    run(readings=readings, devices=devices, runs=runs, echo=click.echo)


@bench.command("pipeline")
@click.option("--readings", default=1_000_000, show_default=True, type=click.IntRange(min=1000),
              help="Readings in the throughput topic.")
@click.option("--devices", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--runs", default=2, show_default=True, type=click.IntRange(min=1),
              help="Turns of the plain consumer and the bounded pipeline; each keeps its best.")
@click.option("--rate", default=5_000, show_default=True, type=click.IntRange(min=100),
              help="Readings/s of the steady load while latency is measured.")
@click.option("--seconds", default=60, show_default=True, type=click.IntRange(min=10),
              help="How long the steady load lasts.")
@fail_cleanly
def bench_pipeline(readings: int, devices: int, runs: int, rate: int, seconds: int) -> None:
    """The pipeline's readings/s next to a plain consumer's, and window close -> Cassandra row latency."""
    from iotlab.bench.pipeline import bench_pipeline as run

    run(readings=readings, devices=devices, runs=runs, rate=rate, seconds=seconds, echo=click.echo)


@bench.command("faults")
@click.option("--rate", default=5_000, show_default=True, type=click.IntRange(min=100),
              help="Readings/s of the steady load.")
@click.option("--devices", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--outage-seconds", default=60, show_default=True, type=click.IntRange(min=5),
              help="How long every Cassandra node stays frozen in the outage.")
@click.option("--timeout", "timeout_s", default=300, show_default=True, type=click.IntRange(min=30),
              help="Seconds to wait, after each fault, for the job to run and catch up.")
@fail_cleanly
def bench_faults(rate: int, devices: int, outage_seconds: int, timeout_s: int) -> None:
    """The pipeline under a steady load on the three-node lab, through a broker kill, a Cassandra node kill, a
    Cassandra outage, a TaskManager kill and a JobManager kill, one after another; then its rows compared with a
    batch recomputation of everything it read."""
    from iotlab.bench.machine import machine_description
    from iotlab.faults.drill import drill_faults, run_drill
    from iotlab.lab import get_runtime

    report = run_drill(get_runtime("native"), drill_faults(outage_seconds), rate=rate, devices=devices,
                       timeout_s=timeout_s, say=click.echo)
    click.echo("")
    click.echo(f"Machine: {machine_description()}")
    click.echo(f"Three-node lab; {report.readings:,} readings at {report.rate:,.0f}/s, {devices} devices; the rows "
               "of each fault are the windows and alerts that closed between its injection and its catch-up")
    for line in report.table():
        click.echo(line)
    click.echo(f"(caught up: a window closed after the fault is in Cassandra and none waits; windows close every "
               f"{report.window_period_s:.0f} s at this rate, so that includes waiting for the next)")
    click.echo(report.summary())


@bench.command("cassandra")
@click.option("--rows", default=100_000, show_default=True, type=click.IntRange(min=100))
@click.option("--devices", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--concurrency", default=64, show_default=True, type=click.IntRange(min=1, max=1024),
              help="Requests in flight for the concurrent, async and batch methods.")
@fail_cleanly
def bench_cassandra(rows: int, devices: int, concurrency: int) -> None:
    """The same window rows written one by one, concurrently, with async futures and in partition batches."""
    from iotlab.bench import bench_cassandra as run

    run(rows=rows, devices=devices, concurrency=concurrency, echo=click.echo)


@bench.command("evaluation")
@click.option("--seeds", default="101-105", show_default=True, callback=lambda ctx, param, text: parse_seeds(text),
              help="Seeds of the scored streams, as FIRST-LAST or a comma-separated list (never the tuning seeds).")
@fail_cleanly
def bench_evaluation(seeds: tuple[int, ...]) -> None:
    """The detectors' mean F1 per kind and quantity over unseen seeds, with 95% intervals (no lab needed)."""
    from iotlab.bench.evaluation import bench_evaluation as run

    run(seeds=seeds, echo=click.echo)


def parse_seeds(text: str) -> tuple[int, ...]:
    """``101-105`` or ``101,103,107``: at least two seeds (an interval needs two streams)."""
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            seeds = tuple(range(first, last + 1))
        else:
            seeds = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{text!r}: give FIRST-LAST (101-105) or a list (101,103,107)") from None
    if len(seeds) < 2:
        raise click.BadParameter(f"{text!r}: at least two seeds, so that the mean has an interval")
    return seeds


@bench.command("detectors")
@click.option("--readings", default=100_000, show_default=True, type=click.IntRange(min=1000),
              help="Readings in the topic both implementations read.")
@click.option("--devices", default=100, show_default=True, type=click.IntRange(min=1))
@fail_cleanly
def bench_detectors(readings: int, devices: int) -> None:
    """The anomaly detectors as a keyed Python function and as SQL OVER aggregates, on the same topic."""
    from iotlab.bench.detectors import bench_detectors as run

    run(readings=readings, devices=devices, echo=click.echo)
