"""`iotlab aggregate`: the window-aggregate job over a topic, bounded."""

from __future__ import annotations

from pathlib import Path

import click

from iotlab.cli.errors import fail_cleanly


@click.command()
@click.option("--topic", required=True, help="Topic of raw readings to aggregate (read from the beginning to its end).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write, one JSON line per window.")
@click.option("--api", type=click.Choice(["sql", "datastream"]), default="sql", show_default=True)
@click.option("--allowed-lateness", type=click.IntRange(min=0), default=10, show_default=True,
              help="Minutes a device may run ahead of a window's end before the window's readings count as late.")
@fail_cleanly
def aggregate(topic: str, out: Path, api: str, allowed_lateness: int) -> None:
    """5-minute windows per device over TOPIC: bad records to TOPIC.dlq, late ones to TOPIC.late."""
    from iotlab.jobs.window_aggregate.runner import aggregate_topic

    summary = aggregate_topic(topic, out, api=api, allowed_lateness_minutes=allowed_lateness, say=click.echo)
    click.echo(f"wrote {summary.windows_out} windows to {out}")
    for line in summary.lines():
        click.echo(line)
