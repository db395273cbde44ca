"""The ``iotlab`` command line: the lab, the doctor, the course tooling and the benchmarks.

Every failure a user can fix ends in one line that says what is wrong and how to fix it, and a
non-zero exit code. Run ``iotlab --help`` or ``iotlab COMMAND --help``.
"""

from __future__ import annotations

import sys
from functools import wraps
from pathlib import Path

import click

from iotlab.lab import RUNTIMES, LabError, get_runtime


def _fail_cleanly(command):
    """Turn the lab's errors (and bad settings) into one clear line and exit code 1."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except LabError as error:
            if error.details:
                click.echo(error.details, err=True)
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(1)
        except ValueError as error:  # settings problems (bad .env values)
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(1)

    return wrapper


@click.group()
@click.version_option(package_name="iotlab")
def main() -> None:
    """IoT Streaming Lab: Kafka, Flink and Cassandra on your machine."""


# ----------------------------------------------------------------------------- lab

@main.group()
def lab() -> None:
    """Start, inspect and stop the lab's services."""


runtime_option = click.option(
    "--runtime", type=click.Choice(RUNTIMES), default="native", show_default=True,
    help="native: local processes, no Docker. docker: lab_env/docker-compose.yml.",
)


@lab.command()
@runtime_option
@click.option("--no-progress", is_flag=True, help="Do not draw the progress bar (for logs and CI).")
@_fail_cleanly
def up(runtime: str, no_progress: bool) -> None:
    """Resolve what is missing, start Kafka, Cassandra and Flink, and wait until each works."""
    get_runtime(runtime).up(say=click.echo, progress=not no_progress)


@lab.command()
@runtime_option
@_fail_cleanly
def down(runtime: str) -> None:
    """Stop the services this lab started (and nothing else)."""
    get_runtime(runtime).down(say=click.echo)


@lab.command()
@runtime_option
@click.confirmation_option(prompt="This deletes every topic, table and log of the lab. Continue?")
@_fail_cleanly
def reset(runtime: str) -> None:
    """Stop the lab and wipe its data and logs."""
    get_runtime(runtime).reset(say=click.echo)


@lab.command()
@runtime_option
@_fail_cleanly
def status(runtime: str) -> None:
    """A table: service, address, version, healthy, pid, resident memory. Exit 1 if any is unhealthy."""
    rows = get_runtime(runtime).status()
    header = f"{'service':<10} {'address':<24} {'version':<9} {'healthy':<8} {'pid':<14} {'RSS MiB':>8}  detail"
    click.echo(header)
    click.echo("-" * len(header))
    for row in rows:
        pids = ",".join(map(str, row.pids)) or "-"
        # Pad before colouring: ANSI codes would otherwise count as width.
        healthy = click.style(f"{'yes' if row.healthy else 'no':<8}", fg="green" if row.healthy else "red")
        click.echo(f"{row.service:<10} {row.address:<24} {row.version:<9} {healthy} {pids:<14} "
                   f"{row.rss_mb:>8.0f}  {row.detail}")
    click.echo(f"{'total':<10} {'':<24} {'':<9} {'':<8} {'':<14} {sum(r.rss_mb for r in rows):>8.0f}")
    if not all(row.healthy for row in rows):
        sys.exit(1)


@lab.command()
@runtime_option
@click.argument("service", type=click.Choice(["kafka", "cassandra", "flink"]))
@click.option("-n", "--lines", default=40, show_default=True, help="How many lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C to stop).")
@_fail_cleanly
def logs(runtime: str, service: str, lines: int, follow: bool) -> None:
    """Show the end of a service's log."""
    runtime_obj = get_runtime(runtime)
    click.echo(runtime_obj.log_tail(service, lines))
    if follow:
        runtime_obj.follow_log(service)


# ----------------------------------------------------------------------------- data

class Duration(click.ParamType):
    """A duration such as 90s, 10m, 24h or 1d (a bare number means seconds)."""

    name = "duration"
    UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip().lower()
        unit = text[-1] if text and text[-1] in self.UNITS else "s"
        number = text[:-1] if text and text[-1] in self.UNITS else text
        try:
            seconds = float(number) * self.UNITS[unit]
        except ValueError:
            self.fail(f"{value!r} is not a duration: use a number with s, m, h or d, e.g. 10m", param, ctx)
        if seconds <= 0:
            self.fail(f"{value!r} must be longer than zero", param, ctx)
        return seconds


def _print_summary(summary, what: str) -> None:
    for line in summary.lines(what):
        click.echo(line)


@main.command()
@click.option("--devices", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Target messages per second (sets the pace, and the event-time spacing unless --interval).")
@click.option("--duration", type=Duration(), default="10m", show_default=True,
              help="Event-time span to simulate (at --rate without --interval, also the wall-clock time).")
@click.option("--interval", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds of event time between two readings of one device [default: devices/rate, or 10].")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--start", type=click.DateTime(["%Y-%m-%dT%H:%M:%SZ"]), default="2025-11-05T12:00:00Z",
              show_default=True, help="Event time of the first reading (UTC).")
@click.option("--fast", is_flag=True, help="Send as fast as possible instead of at --rate.")
@click.option("--anomaly-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--out-of-order-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--late-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--duplicate-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--malformed-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--topic", help="Kafka topic to produce to (key = device_id).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write, one record per line.")
@click.option("--labels", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the ground-truth labels [default with --out: FILE.labels.jsonl].")
@click.option("--no-progress", is_flag=True)
@_fail_cleanly
def simulate(devices, rate, duration, interval, seed, start, fast, anomaly_rate, out_of_order_rate, late_rate,
             duplicate_rate, malformed_rate, topic, out, labels, no_progress) -> None:
    """Simulate IoT sensors into a Kafka topic (--topic) or a .jsonl file (--out)."""
    from datetime import timezone

    from iotlab.sensors import SimulationConfig
    from iotlab.simulate import simulate_to_file, simulate_to_topic

    if (topic is None) == (out is None):
        raise click.UsageError("give exactly one of --topic T or --out FILE.jsonl")
    if interval is None:
        interval = devices / rate if rate else 10.0
    config = SimulationConfig(
        devices=devices, seed=seed, start=start.replace(tzinfo=timezone.utc), interval_s=interval,
        duration_s=duration, anomaly_rate=anomaly_rate, out_of_order_rate=out_of_order_rate,
        late_rate=late_rate, duplicate_rate=duplicate_rate, malformed_rate=malformed_rate,
    )
    pace = None if fast else rate
    if out is not None:
        labels = labels or out.with_name(out.name.removesuffix(".jsonl") + ".labels.jsonl")
        summary = simulate_to_file(config, out, labels, rate=pace, progress=not no_progress)
        click.echo(f"wrote {out} and its labels {labels}")
    else:
        summary = simulate_to_topic(config, topic, labels, rate=pace, progress=not no_progress)
    _print_summary(summary, "record")
    if summary.failed:
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--topic", required=True, help="Kafka topic to send the lines to.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Messages per second [default: as fast as possible].")
@click.option("--no-progress", is_flag=True)
@_fail_cleanly
def replay(file: Path, topic: str, rate, no_progress: bool) -> None:
    """Send each line of FILE to Kafka unchanged, in order; report every line that failed."""
    from iotlab.replay import replay_file

    summary = replay_file(file, topic, rate=rate, progress=not no_progress)
    _print_summary(summary, "line")
    if summary.failed:
        sys.exit(1)


@main.command()
@click.option("--topic", required=True, help="Topic of raw readings to aggregate (read from the beginning to its end).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write, one JSON line per window.")
@click.option("--api", type=click.Choice(["sql", "datastream"]), default="sql", show_default=True)
@click.option("--allowed-lateness", type=click.IntRange(min=0), default=10, show_default=True,
              help="Minutes a device may run ahead of a window's end before the window's readings count as late.")
@_fail_cleanly
def aggregate(topic: str, out: Path, api: str, allowed_lateness: int) -> None:
    """5-minute windows per device over TOPIC: bad records to TOPIC.dlq, late ones to TOPIC.late."""
    from iotlab.aggregate import aggregate_topic

    summary = aggregate_topic(topic, out, api=api, allowed_lateness_minutes=allowed_lateness, say=click.echo)
    click.echo(f"wrote {summary.windows_out} windows to {out}")
    for line in summary.lines():
        click.echo(line)


# ----------------------------------------------------------------------------- doctor

@main.command()
@_fail_cleanly
def doctor() -> None:
    """Check Python, Java, Maven, ports, the services and the connector; print the fix for each problem."""
    from iotlab.doctor import print_report, run_checks

    checks = run_checks()
    print_report(checks, echo=click.echo)
    if not all(check.ok for check in checks):
        sys.exit(1)


# ----------------------------------------------------------------------------- course

@main.group()
def course() -> None:
    """Tools for course authors."""


@course.command()
@click.option("--check", is_flag=True, help="Only check that notebooks/ is up to date; exit 1 if not.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project root (default: this repository).")
@_fail_cleanly
def build(check: bool, root: Path | None) -> None:
    """Write the learner notebooks/ from solutions/ (solutions become stubs, outputs are dropped)."""
    from iotlab.course import build_all

    stale = build_all(root=root, check_only=check, say=click.echo)
    if check and stale:
        click.secho(
            f"error: notebooks/ is stale for {', '.join(stale)}: run `iotlab course build` and commit the result",
            fg="red", err=True,
        )
        sys.exit(1)


# ----------------------------------------------------------------------------- bench

@main.group()
def bench() -> None:
    """Benchmarks that print their numbers and the machine they ran on."""


@bench.command("lab")
@click.option("--runs", default=1, show_default=True, help="How many cold starts to time.")
@click.option("--idle-seconds", default=20, show_default=True,
              help="How long to let the lab settle before measuring memory.")
@_fail_cleanly
def bench_lab(runs: int, idle_seconds: int) -> None:
    """Cold start (from `up` to all healthy, artifacts cached) and idle resident memory per service."""
    from iotlab.bench import bench_lab as run

    run(runs=runs, idle_seconds=idle_seconds, echo=click.echo)


@bench.command("aggregate")
@click.option("--readings", default=1_000_000, show_default=True, type=click.IntRange(min=1000))
@click.option("--devices", default=100, show_default=True, type=click.IntRange(min=1))
@_fail_cleanly
def bench_aggregate(readings: int, devices: int) -> None:
    """Raw consume rate versus the aggregate job's events/s (SQL and DataStream) on one topic."""
    from iotlab.bench import bench_aggregate as run

    run(readings=readings, devices=devices, echo=click.echo)


if __name__ == "__main__":
    main()
