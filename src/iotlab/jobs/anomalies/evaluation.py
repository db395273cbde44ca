"""Scoring alerts against labelled spans, per kind and quantity, the honest way: one episode counts once.

- **Event level, not point-adjusted.** A labelled span (one device, kind and quantity) is *found* when an alert
  of the same device, kind and quantity overlaps it, widened by a small ``lead`` before its start (a detector
  may time an episode a reading early) and a ``lag`` after its end (detectors need a few readings to be sure: a
  stuck sensor is only stuck once it has repeated for a while, a spike is raised when the device is back).
- **Alerts count as well as spans.** Each span is found by its first alert, and only that alert is right: a
  second alert on the same span, or an alert on no span, is a false alarm. recall = found spans / spans;
  precision = right alerts / alerts, so a flood of alerts inside one span lowers precision.
- **Delay**: for each found span, its first alert's ``alert_at`` minus the span's start.
- **Baselines** (``evaluate_against_labels``): a fixed band per quantity, a rolling z-score without the
  detectors' refinements (no warm-up, no spans, every reading over the threshold is an alert), and a random
  detector with as many alerts of each kind. A detector is only as good as its margin over them.
- **Unseen seeds** (``seed_scores``, ``interval``): a score on one stream is one draw; the course reports each
  kind's mean F1 over several streams the detectors were not tuned on, with a 95% confidence interval.

Point-adjusted scoring (count every reading of a span once any one is flagged) is not used: it rewards a
detector for one lucky hit inside a long span as if it had found every reading (``point_adjusted_f1`` shows it).
"""

from __future__ import annotations

import math
import random
import statistics
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Optional

from iotlab.core.timestamps import MINUTE_MS, timestamp_ms
from iotlab.jobs.anomalies.detectors import QUANTITIES
from iotlab.jobs.anomalies.labels import KINDS, Span

LEAD_MINUTES = 1  # an alert may come this long before its span starts ...
LAG_MINUTES = 10  # ... and this long after it ends
TOLERANCE_MINUTES = LAG_MINUTES  # what ``iotlab evaluate --tolerance`` sets: the lag
FIXED_BANDS = {"temperature": (10.0, 38.0), "humidity": (15.0, 85.0)}  # the fixed-band baseline's limits
ROLLING_MINUTES, ROLLING_THRESHOLD = 60, 4.0  # the rolling z-score baseline: its window and threshold

# Student's t at 97.5% by degrees of freedom (a 95% two-sided interval); 1.96 beyond the table.
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
         11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 19: 2.093, 29: 2.045}


@dataclass
class KindScore:
    kind: str
    quantity: str
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


def _quantity(alert: dict) -> str:
    """An alert's quantity; alerts written before quantities existed were all about temperature."""
    return alert.get("quantity") or "temperature"


def score_keys(alerts: list[dict], spans: list[Span]) -> list[tuple[str, str]]:
    """The (kind, quantity) pairs to report: every pair with a span or an alert, in ``KINDS`` order."""
    pairs = {(span.kind, span.quantity) for span in spans} | {(a["kind"], _quantity(a)) for a in alerts}
    return sorted(pairs, key=lambda pair: (KINDS.index(pair[0]) if pair[0] in KINDS else len(KINDS), pair[1]))


def score(alerts: Iterable[dict], spans: list[Span], lag_ms: int = LAG_MINUTES * MINUTE_MS,
          lead_ms: int = LEAD_MINUTES * MINUTE_MS) -> dict[tuple[str, str], KindScore]:
    """Per (kind, quantity): spans, found, alerts, right alerts and the delays (see the module's rules)."""
    alerts = sorted(alerts, key=lambda alert: timestamp_ms(alert["alert_at"]))
    scores = {}
    for kind, quantity in score_keys(alerts, spans):
        by_device: dict[str, list[Span]] = {}
        for span in spans:
            if (span.kind, span.quantity) == (kind, quantity):
                by_device.setdefault(span.device_id, []).append(span)
        kind_alerts = [alert for alert in alerts if (alert["kind"], _quantity(alert)) == (kind, quantity)]
        first_hit: dict[Span, int] = {}
        right = 0
        for alert in kind_alerts:  # in alert order: each span's first alert claims it
            start, end = _interval(alert)
            hits = [span for span in by_device.get(alert["device_id"], [])
                    if start <= span.end_ms + lag_ms and end >= span.start_ms - lead_ms and span not in first_hit]
            if hits:
                right += 1
            for span in hits:
                first_hit[span] = timestamp_ms(alert["alert_at"])
        delays = [max(0, at - span.start_ms) for span, at in first_hit.items()]
        spans_of_pair = sum(len(found) for found in by_device.values())
        scores[(kind, quantity)] = KindScore(kind, quantity, spans_of_pair, len(first_hit), len(kind_alerts), right,
                                             sorted(delays))
    return scores


def _baseline_alert(reading: dict, quantity: str) -> dict:
    return {"device_id": reading["device_id"], "kind": "spike", "quantity": quantity,
            "alert_at": reading["timestamp"], "start": reading["timestamp"], "end": reading["timestamp"]}


def threshold_alerts(readings: Iterable[dict], bands: Optional[dict[str, tuple[float, float]]] = None) -> list[dict]:
    """Baseline 1: a fixed band per quantity for every device; each reading outside it is a "spike"."""
    bands = bands or FIXED_BANDS
    return [_baseline_alert(reading, quantity) for reading in readings for quantity, (low, high) in bands.items()
            if not low <= float(reading[quantity]) <= high]


def rolling_zscore_alerts(readings: Iterable[dict], window_minutes: float = ROLLING_MINUTES,
                          threshold: float = ROLLING_THRESHOLD) -> list[dict]:
    """Baseline 2: per device and quantity, a reading more than ``threshold`` standard deviations from the mean
    of the device's previous ``window_minutes`` is a "spike"; no warm-up beyond 3 readings, no spans."""
    history: dict[tuple[str, str], deque] = {}
    alerts = []
    for reading in sorted(readings, key=lambda r: timestamp_ms(r["timestamp"])):
        at = timestamp_ms(reading["timestamp"])
        for quantity in QUANTITIES:
            window = history.setdefault((reading["device_id"], quantity), deque())
            while window and window[0][0] < at - window_minutes * MINUTE_MS:
                window.popleft()
            value = float(reading[quantity])
            values = [v for _, v in window]
            if len(values) >= 3:
                spread = statistics.pstdev(values) or 1e-9
                if abs(value - statistics.fmean(values)) / spread > threshold:
                    alerts.append(_baseline_alert(reading, quantity))
            window.append((at, value))
    return alerts


def random_alerts(readings: list[dict], like: Iterable[dict], seed: int = 0) -> list[dict]:
    """Baseline 3: as many alerts of each kind and quantity as ``like`` has, each at a reading drawn at random."""
    rng = random.Random(seed)
    picked = []
    for alert in like:
        reading = rng.choice(readings)
        picked.append({"device_id": reading["device_id"], "kind": alert["kind"], "quantity": _quantity(alert),
                       "alert_at": reading["timestamp"], "start": reading["timestamp"], "end": reading["timestamp"]})
    return picked


def table(rows: dict[str, dict[tuple[str, str], KindScore]]) -> list[str]:
    """Lines of a table: one row per detector (or baseline), kind and quantity."""
    lines = [f"{'detector':<18} {'kind':<12} {'quantity':<11} {'spans':>5} {'found':>5} {'alerts':>6} "
             f"{'precision':>9} {'recall':>6} {'F1':>5} {'median delay':>12} {'worst delay':>11}"]
    for name, scores in rows.items():
        for (kind, quantity), s in scores.items():
            median = "-" if s.median_delay_minutes is None else f"{s.median_delay_minutes:.1f} min"
            worst = "-" if s.worst_delay_minutes is None else f"{s.worst_delay_minutes:.1f} min"
            lines.append(f"{name:<18} {kind:<12} {quantity:<11} {s.spans:>5} {s.found:>5} {s.alerts:>6} "
                         f"{s.precision:>9.2f} {s.recall:>6.2f} {s.f1:>5.2f} {median:>12} {worst:>11}")
    return lines


def evaluate_against_labels(alerts: list[dict], labels: list[dict], lines: list[bytes],
                            lag_minutes: int = LAG_MINUTES
                            ) -> Optional[dict[str, dict[tuple[str, str], KindScore]]]:
    """The detectors' scores next to the three baselines', on the same labels (what ``iotlab evaluate`` prints);
    None when ``lines`` hold no valid reading (the baselines draw their alerts from them)."""
    from iotlab.jobs.anomalies.labels import labelled_spans
    from iotlab.jobs.anomalies.reference import device_events

    spans = labelled_spans(labels)
    readings = [event for events in device_events(lines).values() for _, _, event in events
                if isinstance(event, dict)]
    if not readings:
        return None
    lag_ms = lag_minutes * MINUTE_MS
    return {"detectors": score(alerts, spans, lag_ms),
            "fixed band": score(threshold_alerts(readings), spans, lag_ms),
            "rolling z-score": score(rolling_zscore_alerts(readings), spans, lag_ms),
            "random, same rate": score(random_alerts(readings, alerts), spans, lag_ms)}


@dataclass(frozen=True)
class Interval:
    """A mean over several streams with its 95% confidence interval (Student's t)."""

    mean: float
    low: float
    high: float
    samples: int

    def text(self) -> str:
        return f"{self.mean:.2f} [{self.low:.2f}, {self.high:.2f}]"


def interval(values: list[float]) -> Interval:
    """The mean of ``values`` (scores in [0, 1], one per stream) and its 95% confidence interval, cut to [0, 1]."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Interval(mean, float("nan"), float("nan"), len(values))
    degrees = len(values) - 1
    t = next((T_975[d] for d in sorted(T_975) if d >= degrees), 1.96)
    half = t * statistics.stdev(values) / math.sqrt(len(values))
    return Interval(mean, max(0.0, mean - half), min(1.0, mean + half), len(values))  # a score lies in [0, 1]


def seed_scores(per_stream: list[dict[tuple[str, str], KindScore]]) -> dict[tuple[str, str], Interval]:
    """Per (kind, quantity): the mean F1 over streams with its 95% interval. A stream without a span of a pair
    does not count for it (its F1 would say nothing about finding such spans)."""
    pairs = sorted({pair for scores in per_stream for pair in scores},
                   key=lambda pair: (KINDS.index(pair[0]) if pair[0] in KINDS else len(KINDS), pair[1]))
    return {pair: interval([scores[pair].f1 for scores in per_stream if pair in scores and scores[pair].spans])
            for pair in pairs if any(pair in scores and scores[pair].spans for scores in per_stream)}


def point_adjusted_f1(alerts: Iterable[dict], labels: list[dict], kind: str, quantity: Optional[str] = None) -> float:
    """The point-adjusted F1 of one kind (and quantity, when given), which this course does NOT use, to show how
    it flatters a detector.

    Scored per labelled reading: a reading of a span counts as detected when ANY alert of its device falls in
    the span (the "adjustment"); an alert that falls in no span is one false positive. One lucky alert inside a
    30-reading drift earns 30 true positives: a random detector looks good on long spans."""
    from iotlab.jobs.anomalies.labels import ALERT_KIND_OF_LABEL, labelled_spans

    spans = [span for span in labelled_spans(labels)
             if span.kind == kind and quantity in (None, span.quantity)]
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
        if alert["kind"] != kind or quantity not in (None, _quantity(alert)):
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
