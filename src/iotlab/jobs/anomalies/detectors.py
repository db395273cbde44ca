"""Per-device anomaly detectors: small state machines fed one device's readings in event-time order.

Spike, stuck and drift watch ONE measured quantity each (``QUANTITIES``: temperature and humidity), so a probe
stuck on its temperature is found while the same device's humidity still moves, and the reverse. Every alert
says which quantity it is about (``quantity``; ``all`` for a silent device).

Each detector's parameters are in time units (minutes), never in readings, so it behaves the same whether a
device reports every second or every minute. Each raises ONE alert per anomalous span (a dict in the data
contract's alert shape: device_id, kind, alert_at, start, end, score, details with its parameters):

- ``SpikeDetector`` (spike): a reading more than ``threshold`` standard deviations from the device's running
  baseline (EWMA mean and variance with a half-life), over at most ``max_span_minutes`` (longer is a drift or a
  shift, not a spike); raised when the device is back to normal.
- ``StuckDetector`` (stuck): the same value for at least ``min_minutes``; raised once, when the span reaches it.
- ``DriftDetector`` (drift): a two-sided CUSUM of the residuals against the running baseline, in standard
  deviations, each clipped (one spike cannot make a drift); raised when it exceeds ``limit``, then quiet until
  the sums fall back to zero. While a sum is above ``hold`` the baseline does not learn, for at most
  ``max_hold_minutes`` per excursion: a baseline that kept learning would follow a slow drift and never see it.
  (Below ``hold`` it learns: holding at every small excursion would teach it only the quiet readings, shrink its
  variance and raise drifts on plain noise. And it holds for a bounded time: a baseline held for good would
  never follow the day's cycle again, its sums would never fall back, and it would stay silent from then on.)
- ``OfflineDetector`` (offline): the course's rule (``iotlab.core.offline``): no reading for ``gap_minutes`` or
  more; raised when the next reading shows the gap, or in a live stream when a timer at last reading + gap fires.
  The end of a recording is not a silence.
- ``OutOfRangeDetector`` (out_of_range): records of one device the contract refused as impossible values
  (dead-lettered), grouped in spans ``join_minutes`` apart.

``QuantityDetectors`` runs spike, stuck and drift on one quantity; ``DeviceDetectors`` runs them for every
quantity of one device, with offline and out-of-range; ``detect`` runs it over a whole stream (the batch
reference, and what ``iotlab detect`` computes); the Flink job (``job``) keeps a ``DeviceDetectors`` per
device in keyed state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from iotlab.core.offline import OFFLINE_GAP_MINUTES, ends_silence
from iotlab.core.timestamps import MINUTE_MS, timestamp_ms, timestamp_text

QUANTITIES = ("temperature", "humidity")  # what a reading measures: spike, stuck and drift watch each one
ALL_QUANTITIES = "all"  # the quantity of an offline alert: the device sent nothing at all


def make_alert(device_id: str, kind: str, quantity: str, alert_ms: int, start_ms: int, end_ms: int,
               score: float, details: dict) -> dict:
    return {"device_id": device_id, "kind": kind, "quantity": quantity, "alert_at": timestamp_text(alert_ms),
            "start": timestamp_text(start_ms), "end": timestamp_text(end_ms), "score": round(float(score), 3),
            "details": details}


def alert_order(alert: dict) -> tuple:
    """How the course sorts alerts everywhere: by alert time, device, kind and quantity."""
    return timestamp_ms(alert["alert_at"]), alert["device_id"], alert["kind"], alert.get("quantity") or ""


class Ewma:
    """Exponentially weighted mean and variance whose memory is a half-life in time, not a number of readings:
    a reading ``dt`` after the previous one weighs ``1 - 0.5 ** (dt / half_life)``."""

    def __init__(self, half_life_ms: int) -> None:
        self.half_life_ms = half_life_ms
        self.mean: Optional[float] = None
        self.variance = 0.0
        self.last_ms: Optional[int] = None
        self.since_ms: Optional[int] = None  # when the baseline started (for the warm-up)

    def update(self, at_ms: int, value: float) -> None:
        if self.mean is None:
            self.mean, self.last_ms, self.since_ms = value, at_ms, at_ms
            return
        weight = 1.0 - 0.5 ** (max(at_ms - self.last_ms, 0) / self.half_life_ms)
        difference = value - self.mean
        self.mean += weight * difference
        self.variance = (1.0 - weight) * (self.variance + weight * difference * difference)
        self.last_ms = at_ms

    def skip(self, at_ms: int) -> None:
        """A reading the baseline must not learn from: its clock moves on, so the next reading it learns weighs
        as one reading after this one, not as one after a long gap (which would weigh it heavily)."""
        self.last_ms = at_ms

    def z(self, value: float, min_std: float) -> float:
        return abs(value - self.mean) / max(math.sqrt(self.variance), min_std)

    def warmed_up(self, at_ms: int, warm_up_ms: int) -> bool:
        return self.since_ms is not None and at_ms - self.since_ms >= warm_up_ms


@dataclass
class SpikeDetector:
    half_life_minutes: float = 30.0
    threshold: float = 6.0
    max_span_minutes: float = 3.0
    warm_up_minutes: float = 30.0
    min_std: float = 0.3
    quantity: str = "temperature"
    baseline: Ewma = field(init=False)
    open_span: Optional[tuple[int, int, float]] = field(default=None, init=False)  # start, end, worst z

    def __post_init__(self) -> None:
        self.baseline = Ewma(int(self.half_life_minutes * MINUTE_MS))

    def parameters(self) -> dict:
        return {"half_life_minutes": self.half_life_minutes, "threshold": self.threshold,
                "max_span_minutes": self.max_span_minutes}

    def observe(self, device_id: str, at_ms: int, value: float) -> list[dict]:
        if self.baseline.mean is None or not self.baseline.warmed_up(at_ms, int(self.warm_up_minutes * MINUTE_MS)):
            self.baseline.update(at_ms, value)
            return []
        z = self.baseline.z(value, self.min_std)
        if z > self.threshold:  # off the baseline: part of a span; the baseline does not learn from it
            start, _, worst = self.open_span or (at_ms, at_ms, 0.0)
            self.open_span = (start, at_ms, max(worst, z))
            return []
        self.baseline.update(at_ms, value)
        return self.close(device_id, at_ms)

    def close(self, device_id: str, at_ms: int) -> list[dict]:
        """The open span ends (the device is back to normal, or the input ended): a spike if it was short."""
        if self.open_span is None:
            return []
        start, end, worst = self.open_span
        self.open_span = None
        if end - start > self.max_span_minutes * MINUTE_MS:
            return []
        return [make_alert(device_id, "spike", self.quantity, at_ms, start, end, worst, self.parameters())]


@dataclass
class StuckDetector:
    min_minutes: float = 10.0
    quantity: str = "temperature"
    run_start_ms: Optional[int] = field(default=None, init=False)
    value: Optional[float] = field(default=None, init=False)
    raised: bool = field(default=False, init=False)

    def parameters(self) -> dict:
        return {"min_minutes": self.min_minutes}

    def observe(self, device_id: str, at_ms: int, value: float) -> list[dict]:
        if value != self.value:
            self.value, self.run_start_ms, self.raised = value, at_ms, False
            return []
        span_ms = at_ms - self.run_start_ms
        if self.raised or span_ms < self.min_minutes * MINUTE_MS:
            return []
        self.raised = True
        return [make_alert(device_id, "stuck", self.quantity, at_ms, self.run_start_ms, at_ms, span_ms / MINUTE_MS,
                           self.parameters())]


@dataclass
class DriftDetector:
    half_life_minutes: float = 30.0
    slack: float = 1.0  # standard deviations of residual the CUSUM ignores per reading
    limit: float = 12.0
    clip: float = 4.0  # a residual counts at most this many standard deviations: one spike cannot make a drift
    warm_up_minutes: float = 60.0
    noise_std: float = 0.5  # floor of the residuals' standard deviation
    hold: float = 8.0  # above this sum the baseline holds what it knew instead of learning the drift
    max_hold_minutes: float = 90.0  # ... for at most this long per excursion
    quantity: str = "temperature"
    baseline: Ewma = field(init=False)
    high: float = field(default=0.0, init=False)
    low: float = field(default=0.0, init=False)
    rising_since_ms: Optional[int] = field(default=None, init=False)
    held_since_ms: Optional[int] = field(default=None, init=False)  # when the baseline began to hold
    alarmed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.baseline = Ewma(int(self.half_life_minutes * MINUTE_MS))

    def parameters(self) -> dict:
        return {"half_life_minutes": self.half_life_minutes, "slack": self.slack, "limit": self.limit,
                "hold": self.hold, "max_hold_minutes": self.max_hold_minutes}

    def observe(self, device_id: str, at_ms: int, value: float) -> list[dict]:
        if self.baseline.mean is None or not self.baseline.warmed_up(at_ms, int(self.warm_up_minutes * MINUTE_MS)):
            self.baseline.update(at_ms, value)
            return []
        residual = (value - self.baseline.mean) / max(math.sqrt(self.baseline.variance), self.noise_std)
        residual = max(-self.clip, min(self.clip, residual))
        before = max(self.high, self.low)
        self.high = max(0.0, self.high + residual - self.slack)
        self.low = max(0.0, self.low - residual - self.slack)
        now = max(self.high, self.low)
        if now > self.hold and self.held_since_ms is None:
            self.held_since_ms = at_ms
        held_too_long = (self.held_since_ms is not None
                         and at_ms - self.held_since_ms > self.max_hold_minutes * MINUTE_MS)
        if now <= self.hold or held_too_long:  # in control (or held long enough): the baseline learns
            self.baseline.update(at_ms, value)
        else:  # a sum is up: the baseline holds what it knew
            self.baseline.skip(at_ms)
        if before == 0.0 and now > 0.0:
            self.rising_since_ms = at_ms
        if now == 0.0:
            self.rising_since_ms, self.held_since_ms, self.alarmed = None, None, False
            return []
        if self.alarmed or now < self.limit:
            return []
        self.alarmed = True
        return [make_alert(device_id, "drift", self.quantity, at_ms, self.rising_since_ms or at_ms, at_ms, now,
                           self.parameters())]


@dataclass
class OfflineDetector:
    gap_minutes: float = float(OFFLINE_GAP_MINUTES)  # a float in the alerts, as the SQL detector writes it
    last_ms: Optional[int] = field(default=None, init=False)
    raised_after_ms: Optional[int] = field(default=None, init=False)  # the last reading whose silence was raised

    def parameters(self) -> dict:
        return {"gap_minutes": self.gap_minutes}

    @property
    def gap_ms(self) -> int:
        return int(self.gap_minutes * MINUTE_MS)

    def observe(self, device_id: str, at_ms: int) -> list[dict]:
        """A reading: if it ends a silence of ``gap_minutes`` or more that no timer raised yet, raise it now."""
        previous, self.last_ms = self.last_ms, at_ms
        if previous is None or not ends_silence(previous, at_ms, self.gap_ms) or self.raised_after_ms == previous:
            return []
        return [self.silence(device_id, previous)]

    def silence_due(self, device_id: str, timer_ms: int) -> list[dict]:
        """A live stream's timer at last reading + gap: still nothing newer, so the device is silent now.

        Never called at the end of a bounded input (Flink's final watermark): the end of a recording is not a
        silence, and the reading after a real gap raises it anyway."""
        if self.last_ms is None or self.last_ms + self.gap_ms != timer_ms or self.raised_after_ms == self.last_ms:
            return []
        return [self.silence(device_id, self.last_ms)]

    def silence(self, device_id: str, last_ms: int) -> dict:
        """The alert for a silence after ``last_ms``: raised when it had lasted ``gap_minutes``."""
        self.raised_after_ms = last_ms
        alert_ms = last_ms + self.gap_ms
        return make_alert(device_id, "offline", ALL_QUANTITIES, alert_ms, last_ms, alert_ms, self.gap_minutes,
                          self.parameters())


def short_reason(reason: str) -> str:
    """``impossible_value: humidity 150.0 is greater than ...`` → ``impossible_value: humidity``: the rule and
    the field, which is what the Java contract (and so the SQL detectors) report too."""
    return " ".join(reason.split(" ")[:2])


def reason_quantity(reason: str) -> str:
    """``impossible_value: humidity 150.0 ...`` → ``humidity``: the quantity an impossible value is about."""
    return short_reason(reason).split(" ")[-1]


@dataclass
class OutOfRangeDetector:
    join_minutes: float = 10.0
    last_ms: Optional[int] = field(default=None, init=False)

    def parameters(self) -> dict:
        return {"join_minutes": self.join_minutes}

    def observe(self, device_id: str, at_ms: int, reason: str) -> list[dict]:
        """An impossible reading (its dead-letter reason): a new span unless the last one is recent."""
        previous, self.last_ms = self.last_ms, at_ms
        if previous is not None and at_ms - previous <= self.join_minutes * MINUTE_MS:
            return []
        return [make_alert(device_id, "out_of_range", reason_quantity(reason), at_ms, at_ms, at_ms, 1.0,
                           {**self.parameters(), "reason": short_reason(reason)})]


@dataclass
class QuantityDetectors:
    """Spike, stuck and drift, for one measured quantity of one device."""

    quantity: str = "temperature"
    spike: SpikeDetector = field(default_factory=SpikeDetector)
    stuck: StuckDetector = field(default_factory=StuckDetector)
    drift: DriftDetector = field(default_factory=DriftDetector)

    def __post_init__(self) -> None:  # each detector names the quantity in its alerts
        self.spike.quantity = self.stuck.quantity = self.drift.quantity = self.quantity

    def observe(self, device_id: str, at_ms: int, value: float) -> list[dict]:
        return (self.spike.observe(device_id, at_ms, value) + self.stuck.observe(device_id, at_ms, value)
                + self.drift.observe(device_id, at_ms, value))


def _each_quantity() -> dict[str, QuantityDetectors]:
    return {quantity: QuantityDetectors(quantity) for quantity in QUANTITIES}


@dataclass
class DeviceDetectors:
    """Every detector, for one device; feed it that device's events in event-time order."""

    quantities: dict[str, QuantityDetectors] = field(default_factory=_each_quantity)
    offline: OfflineDetector = field(default_factory=OfflineDetector)
    out_of_range: OutOfRangeDetector = field(default_factory=OutOfRangeDetector)

    def reading(self, device_id: str, at_ms: int, temperature: float, humidity: float) -> list[dict]:
        values = {"temperature": temperature, "humidity": humidity}
        alerts = self.offline.observe(device_id, at_ms)
        for quantity, detectors in self.quantities.items():
            alerts += detectors.observe(device_id, at_ms, values[quantity])
        return alerts

    def impossible(self, device_id: str, at_ms: int, reason: str) -> list[dict]:
        """A record of this device the contract refused for an impossible value (it is not a reading)."""
        return self.out_of_range.observe(device_id, at_ms, reason)

    def timer(self, device_id: str, timer_ms: int) -> list[dict]:
        """An event-time timer at ``timer_ms`` fired in a live stream (see ``OfflineDetector.silence_due``)."""
        return self.offline.silence_due(device_id, timer_ms)
