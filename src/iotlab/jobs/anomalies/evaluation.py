"""Scoring alerts against labelled spans, per kind, the honest way: one episode counts once.

- **Event level, not point-adjusted.** A labelled span is *found* when at least one alert of its device and kind
  overlaps it, widened by ``tolerance_ms`` on each side (detectors need a few readings to be sure, and a
  stuck sensor is only stuck once it has repeated for a while). An alert is *right* when it overlaps some
  span so widened. recall = found spans / spans; precision = right alerts / alerts. Point-adjusted scoring
  (count every reading of a span once any one is flagged) is not used: it rewards a detector for one lucky
  hit inside a long span as if it had found every reading.
- **Delay**: for each found span, the first matching alert's ``alert_at`` minus the span's start.
- **Baselines** (``baselines``): a fixed threshold on temperature, and a random detector with the same number
  of alerts per kind at random readings. A detector is only as good as its margin over them.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from typing import Iterable, Optional

from iotlab.core.timestamps import MINUTE_MS, timestamp_ms
from iotlab.jobs.anomalies.labels import KINDS, Span

TOLERANCE_MINUTES = 10


@dataclass
class KindScore:
    kind: str
    spans: int
    found: int
    alerts: int
    right: int
    delays_ms: list[int]

    @property
    def recall(self) -> float:
        return self.found / self.spans if self.spans else float("nan")

    @property
    def precision(self) -> float:
        return self.right / self.alerts if self.alerts else float("nan")

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        if not self.alerts or not self.spans or p + r == 0:
            return 0.0
        return 2 * p * r / (p + r)

    @property
    def median_delay_minutes(self) -> Optional[float]:
        return statistics.median(self.delays_ms) / MINUTE_MS if self.delays_ms else None

    @property
    def worst_delay_minutes(self) -> Optional[float]:
        return max(self.delays_ms) / MINUTE_MS if self.delays_ms else None


def _interval(alert: dict) -> tuple[int, int]:
    start = timestamp_ms(alert.get("start") or alert["alert_at"])
    end = timestamp_ms(alert.get("end") or alert["alert_at"])
    return min(start, end), max(start, end)


def score(alerts: Iterable[dict], spans: list[Span], tolerance_ms: int = TOLERANCE_MINUTES * MINUTE_MS
          ) -> dict[str, KindScore]:
    """Per kind of ``KINDS``: spans, found, alerts, right alerts and the delays (see the module's rules)."""
    alerts = list(alerts)
    scores = {}
    for kind in KINDS:
        kind_spans = [span for span in spans if span.kind == kind]
        kind_alerts = [alert for alert in alerts if alert["kind"] == kind]
        by_device: dict[str, list[Span]] = {}
        for span in kind_spans:
            by_device.setdefault(span.device_id, []).append(span)
        first_hit: dict[Span, int] = {}
        right = 0
        for alert in kind_alerts:
            start, end = _interval(alert)
            hits = [span for span in by_device.get(alert["device_id"], [])
                    if start <= span.end_ms + tolerance_ms and end >= span.start_ms - tolerance_ms]
            if hits:
                right += 1
            for span in hits:
                at = timestamp_ms(alert["alert_at"])
                first_hit[span] = min(first_hit.get(span, at), at)
        delays = [max(0, at - span.start_ms) for span, at in first_hit.items()]
        scores[kind] = KindScore(kind, len(kind_spans), len(first_hit), len(kind_alerts), right, sorted(delays))
    return scores


def threshold_alerts(readings: Iterable[dict], low: float = 10.0, high: float = 38.0) -> list[dict]:
    """Baseline 1: a fixed band on temperature for every device; each reading outside it is a "spike"."""
    return [{"device_id": r["device_id"], "kind": "spike", "alert_at": r["timestamp"], "start": r["timestamp"],
             "end": r["timestamp"]} for r in readings if not low <= float(r["temperature"]) <= high]


def random_alerts(readings: list[dict], like: Iterable[dict], seed: int = 0) -> list[dict]:
    """Baseline 2: as many alerts of each kind as ``like`` has, each at a reading drawn at random."""
    rng = random.Random(seed)
    picked = []
    for alert in like:
        reading = rng.choice(readings)
        picked.append({"device_id": reading["device_id"], "kind": alert["kind"], "alert_at": reading["timestamp"],
                       "start": reading["timestamp"], "end": reading["timestamp"]})
    return picked


def table(rows: dict[str, dict[str, KindScore]]) -> list[str]:
    """Lines of a table: one row per detector (or baseline) and kind."""
    lines = [f"{'detector':<22} {'kind':<13} {'spans':>5} {'found':>5} {'alerts':>6} {'precision':>9} "
             f"{'recall':>6} {'F1':>5} {'median delay':>12} {'worst delay':>11}"]
    for name, scores in rows.items():
        for kind, s in scores.items():
            median = "-" if s.median_delay_minutes is None else f"{s.median_delay_minutes:.1f} min"
            worst = "-" if s.worst_delay_minutes is None else f"{s.worst_delay_minutes:.1f} min"
            lines.append(f"{name:<22} {kind:<13} {s.spans:>5} {s.found:>5} {s.alerts:>6} {s.precision:>9.2f} "
                         f"{s.recall:>6.2f} {s.f1:>5.2f} {median:>12} {worst:>11}")
    return lines


def evaluate_against_labels(alerts: list[dict], labels: list[dict], lines: list[bytes],
                            tolerance_minutes: int = TOLERANCE_MINUTES) -> Optional[dict[str, dict[str, KindScore]]]:
    """The detectors' scores next to both baselines', on the same labels (what ``iotlab evaluate`` prints);
    None when ``lines`` hold no valid reading (the random baseline draws its alerts from them)."""
    from iotlab.jobs.anomalies.labels import labelled_spans
    from iotlab.jobs.anomalies.reference import device_events

    spans = labelled_spans(labels)
    readings = [event for events in device_events(lines).values() for _, _, event in events
                if isinstance(event, dict)]
    if not readings:
        return None
    tolerance_ms = tolerance_minutes * MINUTE_MS
    return {"detectors": score(alerts, spans, tolerance_ms),
            "fixed threshold": score(threshold_alerts(readings), spans, tolerance_ms),
            "random, same rate": score(random_alerts(readings, alerts), spans, tolerance_ms)}


def point_adjusted_f1(alerts: Iterable[dict], labels: list[dict], kind: str) -> float:
    """The point-adjusted F1 of one kind, which this course does NOT use, to show how it flatters a detector.

    Scored per labelled reading: a reading of a span counts as detected when ANY alert of its device falls in
    the span (the "adjustment"); an alert that falls in no span is one false positive. One lucky alert inside a
    30-reading drift earns 30 true positives: a random detector looks good on long spans."""
    from iotlab.jobs.anomalies.labels import ALERT_KIND_OF_LABEL, labelled_spans

    spans = [span for span in labelled_spans(labels) if span.kind == kind]
    points: dict[Span, int] = {span: 0 for span in spans}
    for label in labels:
        if ALERT_KIND_OF_LABEL.get(label["label"]) != kind:
            continue
        at = timestamp_ms(label["timestamp"])
        for span in spans:
            if span.device_id == label["device_id"] and span.start_ms <= at <= span.end_ms:
                points[span] += 1
    true_positives = false_negatives = false_positives = 0
    hit: set[Span] = set()
    for alert in alerts:
        if alert["kind"] != kind:
            continue
        at = timestamp_ms(alert["alert_at"])
        inside = [span for span in spans if span.device_id == alert["device_id"] and span.start_ms <= at <= span.end_ms]
        hit.update(inside)
        false_positives += not inside
    for span, count in points.items():
        if span in hit:
            true_positives += count
        else:
            false_negatives += count
    if true_positives == 0:
        return 0.0
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / (true_positives + false_negatives)
    return 2 * precision * recall / (precision + recall)
