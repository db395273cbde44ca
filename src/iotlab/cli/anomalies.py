"""`iotlab detect` and `iotlab evaluate`: the anomaly detectors over a topic, and their scores against labels."""

from __future__ import annotations

import json
from pathlib import Path

import click

from iotlab.cli.errors import fail_cleanly
from iotlab.core.errors import OptionError


@click.command()
@click.option("--topic", required=True, help="Topic of raw readings (read from the beginning to its current end).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write, one JSON line per alert.")
@click.option("--out-of-orderness", type=click.IntRange(min=0), default=None,
              help="Minutes the watermark trails the newest event time read (default: 35).")
@click.option("--engine", type=click.Choice(["sql", "python"]), default="sql", show_default=True,
              help="sql: the detectors as OVER aggregates in the JVM (what the pipeline runs); python: the keyed "
                   "Python function. Same alerts; sql is faster.")
@fail_cleanly
def detect(topic: str, out: Path, out_of_orderness: int, engine: str) -> None:
    """Spikes, stuck sensors, drifts, offline devices and out-of-range values per device, in Flink keyed state.

    One alert per anomalous span; the end of the topic is not a device going silent."""
    from iotlab.jobs.anomalies.job import DETECTOR_OUT_OF_ORDERNESS_MINUTES
    from iotlab.jobs.anomalies.runner import detect_topic, write_alerts

    if not out.parent.is_dir():
        raise OptionError(f"--out: folder {out.parent} does not exist", "create it, or write the file elsewhere")
    bound = DETECTOR_OUT_OF_ORDERNESS_MINUTES if out_of_orderness is None else out_of_orderness
    click.echo(f"Running the {engine} detectors on {topic} (bounded: up to its current end) ...")
    summary = detect_topic(topic, bound, engine=engine)
    write_alerts(summary.alerts, out)
    click.echo(f"wrote {len(summary.alerts)} alerts to {out}")
    for line in summary.lines():
        click.echo(line)


def _read_jsonl(path: Path, what: str) -> list[dict]:
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            raise OptionError(f"{what} {path}, line {number}, is not JSON",
                              "pass the file `iotlab detect` wrote") from None
    return records


@click.command()
@click.option("--alerts", "alerts_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Alerts as JSON lines (`iotlab detect --out`).")
@click.option("--labels", "labels_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The simulator's labels (NAME.labels.jsonl).")
@click.option("--readings", "readings_path", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The recorded stream (NAME.jsonl), for the baselines; default: the labels' file without .labels.")
@click.option("--tolerance", type=click.IntRange(min=0), default=10, show_default=True,
              help="Minutes an alert may come after a labelled span ends and still find it (it may come at most "
                   "1 minute before the span starts).")
@fail_cleanly
def evaluate(alerts_path: Path, labels_path: Path, readings_path: Path, tolerance: int) -> None:
    """Event-level precision, recall, F1 and detection delay per kind and quantity, next to three baselines."""
    from iotlab.jobs.anomalies.evaluation import LEAD_MINUTES, evaluate_against_labels, table
    from iotlab.sim.writers import LABELS_SUFFIX, stream_path_of

    alerts = _read_jsonl(alerts_path, "alerts file")
    missing = [number for number, alert in enumerate(alerts, 1) if not {"device_id", "kind", "alert_at"} <= set(alert)]
    if missing:
        raise OptionError(f"alert {missing[0]} of {alerts_path} lacks device_id, kind or alert_at",
                          "pass the file `iotlab detect` wrote")
    labels = _read_jsonl(labels_path, "labels file")
    if readings_path is None:
        readings_path = stream_path_of(labels_path)
        if readings_path is None:
            raise OptionError(f"cannot tell the recorded stream of {labels_path} (not NAME{LABELS_SUFFIX})",
                              "pass it with --readings")
        if not readings_path.exists():
            raise OptionError(f"no recorded stream {readings_path} for the baselines", "pass it with --readings")
    lines = readings_path.read_bytes().splitlines()
    rows = evaluate_against_labels(alerts, labels, lines, tolerance)
    if rows is None:
        raise OptionError(f"{readings_path} holds no valid reading, so the baselines have nothing to draw from",
                          "pass the recorded stream (NAME.jsonl) with --readings")
    click.echo(f"an alert finds a span of its device, kind and quantity from {LEAD_MINUTES} minute before it starts "
               f"to {tolerance} minutes after it ends; a span counts once, and only its first alert is right")
    for line in table(rows):
        click.echo(line)
