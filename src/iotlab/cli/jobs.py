"""`iotlab aggregate`: the window-aggregate job over a topic, bounded."""

from __future__ import annotations

from pathlib import Path

import click

from iotlab.cli.errors import fail_cleanly
from iotlab.core import OUT_OF_ORDERNESS_MINUTES


@click.command()
@click.option("--topic", required=True, help="Topic of raw readings to aggregate (read from the beginning to its end).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write, one JSON line per window.")
@click.option("--api", type=click.Choice(["sql", "datastream"]), default="sql", show_default=True)
@click.option("--out-of-orderness", type=click.IntRange(min=0), default=OUT_OF_ORDERNESS_MINUTES, show_default=True,
              help="Minutes the watermark trails the newest event time read (bounded out-of-orderness).")
@click.option("--allowed-lateness", type=click.IntRange(min=0), default=0, show_default=True,
              help="Minutes a window stays open after the watermark passes its end (DataStream API only).")
@click.option("--parallelism", type=click.IntRange(min=1), default=1, show_default=True,
              help="Subtasks per operator; more than the topic's partitions leaves source subtasks idle.")
@fail_cleanly
def aggregate(topic: str, out: Path, api: str, out_of_orderness: int, allowed_lateness: int,
              parallelism: int) -> None:
    """5-minute windows per device over TOPIC, on event time, as Flink computes them.

    The watermark trails the newest event time read by --out-of-orderness minutes (per partition; the
    minimum over partitions). A reading whose window has already fired when it arrives (the watermark has
    reached the window's last millisecond) is late and goes to TOPIC.late, unless --allowed-lateness
    (DataStream API) keeps its window open: then the window fires again with it. Bad records go to
    TOPIC.dlq. On a one-partition topic the result is the same on every run; with several partitions the
    late readings depend on how the partitions interleave, unless nothing is late. Parallelism changes
    which subtask reads which partition, not the results.
    """
    from iotlab.jobs.window_aggregate import aggregate_topic

    summary = aggregate_topic(topic, out, api=api, out_of_orderness_minutes=out_of_orderness,
                              allowed_lateness_minutes=allowed_lateness, say=click.echo, parallelism=parallelism)
    click.echo(f"wrote {summary.windows_out} windows to {out}")
    for line in summary.lines():
        click.echo(line)
