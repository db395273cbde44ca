"""The simulator's ground truth as anomalous spans: what a detector should find, one span per episode.

The simulator labels every anomalous reading (``iotlab.sim.sensors``): a spike or an impossible humidity is one
reading, a drift or a stuck sensor is a run of readings, an offline device is one label holding its silent
interval. A detector is scored per episode (an event), not per reading: consecutive labels of one device, kind
and quantity, less than ``join_gap_ms`` apart, are one span.

Quantities: a label of a fault in one quantity says which (``quantity``). The classic labels do not; what they
hit is fixed (``CLASSIC_QUANTITIES``): spikes and drifts are in temperature, a stuck sensor freezes both values
(one span per quantity: both detectors should find it), an impossible value is a humidity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Union

from iotlab.core.timestamps import MINUTE_MS, timestamp_ms
from iotlab.jobs.anomalies.detectors import ALL_QUANTITIES

# The simulator's label names as the data contract's alert kinds (other labels are transport faults).
ALERT_KIND_OF_LABEL = {"spike": "spike", "stuck": "stuck", "drift": "drift", "offline": "offline",
                       "humidity_out_of_range": "out_of_range"}
KINDS = ("spike", "stuck", "drift", "offline", "out_of_range")
CLASSIC_QUANTITIES = {"spike": ("temperature",), "drift": ("temperature",), "stuck": ("temperature", "humidity"),
                      "offline": (ALL_QUANTITIES,), "humidity_out_of_range": ("humidity",)}


def label_quantities(label: dict) -> tuple[str, ...]:
    """The quantities a label's fault hit."""
    if label["label"] == "offline":
        return (ALL_QUANTITIES,)
    if "quantity" in label:
        return (label["quantity"],)
    return CLASSIC_QUANTITIES[label["label"]]


@dataclass(frozen=True)
class Span:
    """One anomalous episode of one quantity of one device: [start_ms, end_ms] in event time."""

    device_id: str
    kind: str
    start_ms: int
    end_ms: int
    quantity: str = "temperature"


def read_labels(path: Union[str, Path]) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def labelled_spans(labels: Iterable[dict], join_gap_ms: int = 5 * MINUTE_MS) -> list[Span]:
    """The anomaly labels as spans, sorted by device, kind and start."""
    moments: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for label in labels:
        kind = ALERT_KIND_OF_LABEL.get(label["label"])
        if kind is None:
            continue
        start = timestamp_ms(label["timestamp"])
        end = start
        if kind == "offline":  # "silent until <time>": the label covers the whole silence
            end = timestamp_ms(label["detail"].rsplit(" ", 1)[-1])
        for quantity in label_quantities(label):
            moments.setdefault((label["device_id"], kind, quantity), []).append((start, end))
    spans = []
    for (device, kind, quantity), found in sorted(moments.items()):
        found.sort()
        current_start, current_end = found[0]
        for start, end in found[1:]:
            if start - current_end <= join_gap_ms:
                current_end = max(current_end, end)
            else:
                spans.append(Span(device, kind, current_start, current_end, quantity))
                current_start, current_end = start, end
        spans.append(Span(device, kind, current_start, current_end, quantity))
    return spans
