"""`iotlab simulate` and `iotlab replay`: readings into Kafka or a file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from iotlab.cli.errors import fail_cleanly


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


@click.command()
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
@fail_cleanly
def simulate(devices, rate, duration, interval, seed, start, fast, anomaly_rate, out_of_order_rate, late_rate,
             duplicate_rate, malformed_rate, topic, out, labels, no_progress) -> None:
    """Simulate IoT sensors into a Kafka topic (--topic) or a .jsonl file (--out)."""
    from datetime import timezone

    from iotlab.sim.sensors import SimulationConfig
    from iotlab.sim.writers import labels_path_of, simulate_to_file, simulate_to_topic

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
        labels = labels or labels_path_of(out)
        summary = simulate_to_file(config, out, labels, rate=pace, progress=not no_progress)
        click.echo(f"wrote {summary.delivered} records to {out} in {summary.seconds:.1f} s, "
                   f"and their labels to {labels}")
        return
    summary = simulate_to_topic(config, topic, labels, rate=pace, progress=not no_progress)
    _print_summary(summary, "record")
    if summary.failed:
        sys.exit(1)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--topic", required=True, help="Kafka topic to send the lines to.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Messages per second [default: as fast as possible].")
@click.option("--no-progress", is_flag=True)
@fail_cleanly
def replay(file: Path, topic: str, rate, no_progress: bool) -> None:
    """Send each line of FILE to Kafka unchanged, in order; report every line that failed."""
    from iotlab.sim import replay_file

    summary = replay_file(file, topic, rate=rate, progress=not no_progress)
    _print_summary(summary, "line")
    if summary.failed:
        sys.exit(1)
