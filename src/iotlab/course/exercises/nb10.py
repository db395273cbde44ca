"""Notebook 10 (anomaly detection): a z-score spike detector and a stuck-sensor detector in keyed state, and
event-level scoring (a labelled span counts once).

The two detectors run in process first, then in real, in-process Flink jobs (keyed by device, parallelism 2), with
the per-key data in Flink state: a plain Python attribute fails the check (``iotlab.course.keyed``). Their
references are the course's own rules (``iotlab.jobs.anomalies.detectors``), replayed in plain Python.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Optional

from pyflink.common import Row, Types
from pyflink.datastream.functions import KeyedProcessFunction
from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

from iotlab.core.contract import validate_reading
from iotlab.core.timestamps import MINUTE_MS, timestamp_ms, timestamp_text
from iotlab.course.checks import (  # noqa: F401 (class_or_reference: the notebook calls nb10.class_or_reference)
    CheckResult,
    check_cases,
    class_or_reference,
)
from iotlab.course.keyed import check_keyed
from iotlab.jobs.anomalies.detectors import QUANTITIES, Ewma, StuckDetector
from iotlab.jobs.anomalies.labels import Span
from iotlab.sim import SensorSimulator, SimulationConfig

# ----------------------------------------------------------------------------- 10.1 z-score spikes

HALF_LIFE_MINUTES = 30  # the baseline's memory
WARM_UP_MINUTES = 30  # no verdict before the baseline has seen this much of the device
THRESHOLD = 6.0  # standard deviations
MIN_STD = 0.3  # °C: a very quiet sensor's deviation is taken as at least this

OUTLIER_TYPE = Types.ROW_NAMED(["device_id", "event_ms", "z"], [Types.STRING(), Types.LONG(), Types.DOUBLE()])


def is_outlier(baseline: Ewma, event_ms: int, temperature: float) -> Optional[float]:
    """The reading's z when it is an outlier of a warmed-up baseline, else None (shared by the reference and the
    check's expectations)."""
    if baseline.mean is None or not baseline.warmed_up(event_ms, WARM_UP_MINUTES * MINUTE_MS):
        return None
    z = baseline.z(temperature, MIN_STD)
    return z if z > THRESHOLD else None


class ZScoreSpikes(KeyedProcessFunction):
    """Reference for 10.1: per device, an EWMA baseline in a ValueState; yield each reading more than THRESHOLD
    standard deviations off it, and keep outliers out of the baseline."""

    def open(self, runtime_context) -> None:
        self.baseline = runtime_context.get_state(ValueStateDescriptor("baseline", Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, reading, ctx):
        baseline = self.baseline.value() or Ewma(HALF_LIFE_MINUTES * MINUTE_MS)
        z = is_outlier(baseline, reading.event_ms, reading.temperature)
        if z is not None:
            yield Row(device_id=reading.device_id, event_ms=reading.event_ms, z=z)
            return  # an outlier does not teach the baseline
        baseline.update(reading.event_ms, reading.temperature)
        self.baseline.update(baseline)


def _simulated_readings(seed: int, devices: int, hours: int, anomaly_rate: float) -> list[Row]:
    config = SimulationConfig(devices=devices, interval_s=60, duration_s=hours * 3600, seed=seed,
                              anomaly_rate=anomaly_rate)
    readings = []
    for record in SensorSimulator(config).records():
        reading, _ = validate_reading(record.value)
        if reading is not None:
            readings.append(Row(device_id=reading["device_id"], event_ms=timestamp_ms(reading["timestamp"]),
                                temperature=float(reading["temperature"]), humidity=float(reading["humidity"])))
    return readings


T0 = 1_762_344_000_000  # 2025-11-05T12:00:00Z


def _plateau_device() -> list[Row]:
    """A quiet device whose temperature jumps by 10 °C for three readings after an hour: the first two readings
    are outliers only if the baseline did not learn from the first."""
    readings = []
    for minute in range(90):
        temperature = 20.0 + (0.2 if minute % 2 else -0.2) + (10.0 if 60 <= minute < 63 else 0.0)
        readings.append(Row(device_id="plateau", event_ms=T0 + minute * MINUTE_MS, temperature=temperature,
                            humidity=40.0))
    return readings


def _early_spike_device() -> list[Row]:
    """A jump 10 minutes after the device's first reading, before the warm-up is over: no verdict yet; and the
    same jump after an hour: an outlier."""
    return [Row(device_id="early", event_ms=T0 + minute * MINUTE_MS,
                temperature=22.0 + (0.1 if minute % 3 else 0.0) + (8.0 if minute in (10, 70) else 0.0), humidity=45.0)
            for minute in range(90)]


def spike_cases() -> list[Row]:
    """Readings of several devices, each in event-time order, interleaved as they arrive."""
    readings = (_simulated_readings(seed=31, devices=3, hours=4, anomaly_rate=0.02) + _plateau_device()
                + _early_spike_device())
    return sorted(readings, key=lambda r: (r.event_ms, r.device_id))


def expected_outliers(readings: list[Row]) -> dict[str, list[tuple[int, float]]]:
    """Per device, (event_ms, z) of each outlier, in order."""
    baselines: dict[str, Ewma] = {}
    found: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for reading in readings:
        baseline = baselines.setdefault(reading.device_id, Ewma(HALF_LIFE_MINUTES * MINUTE_MS))
        z = is_outlier(baseline, reading.event_ms, reading.temperature)
        if z is not None:
            found[reading.device_id].append((reading.event_ms, z))
        else:
            baseline.update(reading.event_ms, reading.temperature)
    return dict(found)


def _times(moments: list, shown: int = 5) -> str:
    """Epoch milliseconds (or tuples of them) as UTC ISO 8601 text, the first ``shown``: what a learner reads."""
    def text(moment):
        return f"({', '.join(map(timestamp_text, moment))})" if isinstance(moment, tuple) else timestamp_text(moment)
    listed = ", ".join(text(moment) for moment in moments[:shown])
    return f"[{listed}{', ...' if len(moments) > shown else ''}]"


def _by_device(rows: list[Row], fields: tuple[str, ...]) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        found[row.device_id].append(tuple(getattr(row, field) for field in fields))
    return {device: sorted(values) for device, values in found.items()}


def check_zscore_spikes(function_class: type, parallelism: int = 2) -> CheckResult:
    """Check 10.1: the learner's KeyedProcessFunction in process, then in a real Flink job, keyed by device."""
    readings = spike_cases()
    expected = expected_outliers(readings)

    def verify(rows: list) -> Optional[str]:
        actual = _by_device(rows, ("event_ms", "z"))
        for device in sorted(set(expected) | set(actual)):
            want, got = expected.get(device, []), actual.get(device, [])
            if [at for at, _ in got] != [at for at, _ in want]:
                hint = ("an outlier must not update the baseline (all three readings of the plateau are outliers "
                        "only then)" if device == "plateau" else
                        "no verdict before WARM_UP_MINUTES of the device's readings (is_outlier says so)"
                        if device == "early" else
                        "no verdict before WARM_UP_MINUTES of the device's readings; z = baseline.z(temperature, "
                        "MIN_STD); an outlier when z > THRESHOLD")
                return (f"{device}: outliers expected at {_times([at for at, _ in want])}, got "
                        f"{_times([at for at, _ in got])}. Hint: {hint}")
            if any(abs(z - w) > 1e-9 for (_, z), (_, w) in zip(got, want)):
                expected_z = [round(w, 3) for _, w in want]
                return (f"{device}: the right readings, but z differs (expected {expected_z}). "
                        "Hint: yield the z of baseline.z(temperature, MIN_STD)")
        return None

    total = sum(len(found) for found in expected.values())
    return check_keyed("ZScoreSpikes", function_class, readings, OUTLIER_TYPE, verify,
                       "in open(), get_state(ValueStateDescriptor('baseline', Types.PICKLED_BYTE_ARRAY())); in "
                       "process_element, self.baseline.value() or a new Ewma, then .update() it",
                       f"{total} outliers among {len(readings)} readings of {len(expected)} devices, per device in "
                       "keyed state; the plateau's baseline did not learn from outliers", parallelism=parallelism)


# ----------------------------------------------------------------------------- 10.2 stuck sensors

STUCK_MINUTES = 10
STUCK_TYPE = Types.ROW_NAMED(["device_id", "quantity", "run_start_ms", "alert_ms"],
                             [Types.STRING(), Types.STRING(), Types.LONG(), Types.LONG()])


class StuckSensor(KeyedProcessFunction):
    """Reference for 10.2: per device, the current run of each quantity (temperature, humidity) in a MapState
    quantity → (value, run start, raised); yield once per run, at its first reading STUCK_MINUTES or more after
    the run's first. Each quantity has its own runs: a probe stuck on temperature while humidity moves is stuck."""

    def open(self, runtime_context) -> None:
        self.runs = runtime_context.get_map_state(
            MapStateDescriptor("runs", Types.STRING(), Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, reading, ctx):
        for quantity in QUANTITIES:
            value = getattr(reading, quantity)
            run = self.runs.get(quantity) if self.runs.contains(quantity) else None  # (value, start, raised)
            if run is None or run[0] != value:
                self.runs.put(quantity, (value, reading.event_ms, False))
                continue
            _, start_ms, raised = run
            if not raised and reading.event_ms - start_ms >= STUCK_MINUTES * MINUTE_MS:
                self.runs.put(quantity, (value, start_ms, True))
                yield Row(device_id=reading.device_id, quantity=quantity, run_start_ms=start_ms,
                          alert_ms=reading.event_ms)


def _run(device: str, start_minute: int, minutes: int, temperature: float, humidity: Optional[float] = None,
         step_minutes: int = 1) -> list[Row]:
    """A run of one temperature; the humidity is ``humidity`` throughout, or (None) moves at every reading."""
    return [Row(device_id=device, event_ms=T0 + (start_minute + m) * MINUTE_MS, temperature=temperature,
                humidity=humidity if humidity is not None else 40.0 + (m // step_minutes % 2) / 10)
            for m in range(0, minutes + 1, step_minutes)]


def stuck_cases() -> list[Row]:
    readings = _simulated_readings(seed=33, devices=3, hours=6, anomaly_rate=0.01)
    readings += _run("nine-minutes", 0, 9, 21.5)  # 9 minutes: not yet stuck
    readings += _run("ten-minutes", 0, 10, 21.5)  # exactly 10: stuck, raised by the 10th minute's reading
    readings += _run("long-run", 0, 45, 21.5)  # one alert for the whole run, however long
    readings += _run("long-run", 46, 12, 22.0)  # a new value: a new run, a second alert
    readings += _run("humidity-moves", 0, 20, 21.5, humidity=40.0, step_minutes=2)
    readings += [Row(device_id="humidity-moves", event_ms=r.event_ms + MINUTE_MS, temperature=21.5, humidity=41.0)
                 for r in _run("humidity-moves", 0, 20, 21.5, step_minutes=2)]  # temperature stuck, humidity not
    readings += [Row(device_id="temperature-moves", event_ms=T0 + m * MINUTE_MS, temperature=21.5 + (m % 2) / 10,
                     humidity=40.0) for m in range(16)]  # humidity stuck, temperature not
    readings += _run("slow-device", 0, 30, 19.0, step_minutes=5)  # every 5 minutes: stuck at the 10th minute
    return sorted(readings, key=lambda r: (r.event_ms, r.device_id))


def expected_stuck(readings: list[Row]) -> dict[str, list[tuple[str, int, int]]]:
    """Per device: (quantity, run start, alert) of each stuck run, by the course's rule."""
    detectors: dict[tuple[str, str], StuckDetector] = {}
    found: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for reading in readings:
        for quantity in QUANTITIES:
            detector = detectors.setdefault((reading.device_id, quantity),
                                            StuckDetector(min_minutes=STUCK_MINUTES, quantity=quantity))
            for alert in detector.observe(reading.device_id, reading.event_ms, getattr(reading, quantity)):
                found[reading.device_id].append((quantity, timestamp_ms(alert["start"]),
                                                 timestamp_ms(alert["alert_at"])))
    return {device: sorted(runs) for device, runs in found.items()}


def check_stuck_sensor(function_class: type, parallelism: int = 2) -> CheckResult:
    """Check 10.2: the learner's KeyedProcessFunction in process, then in a real Flink job, keyed by device."""
    readings = stuck_cases()
    expected = expected_stuck(readings)
    hints = {"nine-minutes": "a run must last STUCK_MINUTES: 9 minutes is not stuck",
             "ten-minutes": "exactly STUCK_MINUTES is stuck (>=), raised by the reading that reaches it",
             "long-run": "one alert per run however long it lasts; a new value starts a new run",
             "humidity-moves": "each quantity has its own runs: the temperature is stuck though the humidity moves",
             "temperature-moves": "each quantity has its own runs: the humidity is stuck though the temperature "
                                  "moves",
             "slow-device": "the rule is in minutes, not readings: a 5-minute device is stuck after 3 readings"}

    def verify(rows: list) -> Optional[str]:
        actual = _by_device(rows, ("quantity", "run_start_ms", "alert_ms"))
        for device in ("humidity-moves", "temperature-moves"):  # a quantity never found: the per-quantity rule
            missing = {q for q, _, _ in expected.get(device, [])} - {q for q, _, _ in actual.get(device, [])}
            if missing:
                return (f"{device}: expected (quantity, run start, alert) {_runs(expected[device])}, got "
                        f"{_runs(actual.get(device, []))}. Hint: {hints[device]}")
        # The hand-made cases first: each tests one rule, so their hint names the rule that was broken.
        devices = [device for device in hints if device in expected or device in actual]
        devices += sorted((set(expected) | set(actual)) - set(hints))
        for device in devices:
            want, got = expected.get(device, []), actual.get(device, [])
            if want != got:
                return (f"{device}: expected (quantity, run start, alert) {_runs(want)}, got {_runs(got)}. "
                        f"Hint: {_stuck_hint(device, want, got, hints)}")
        return None

    total = sum(len(found) for found in expected.values())
    return check_keyed("StuckSensor", function_class, readings, STUCK_TYPE, verify,
                       "keep each quantity's (value, run start, raised) in a MapState keyed by quantity; a new run "
                       "of a quantity begins when its value changes",
                       f"{total} stuck runs among {len(readings)} readings, one alert each, in keyed state",
                       parallelism=parallelism)


def _runs(runs: list[tuple[str, int, int]], shown: int = 3) -> str:
    listed = ", ".join(f"({quantity}, {timestamp_text(start)}, {timestamp_text(alert)})"
                       for quantity, start, alert in runs[:shown])
    return f"[{listed}{', ...' if len(runs) > shown else ''}]"


def _stuck_hint(device: str, want: list[tuple[str, int, int]], got: list[tuple[str, int, int]],
                hints: dict[str, str]) -> str:
    """The rule a wrong answer broke, from what it yielded: several alerts for one run is always the same mistake,
    whichever device shows it first."""
    starts = [(quantity, start) for quantity, start, _ in got]
    if len(starts) > len(set(starts)):
        return ("one alert per run, however long it lasts: keep in the run's state that it was raised, and yield "
                "only the first time the run reaches STUCK_MINUTES")
    return hints.get(device, "a run of a quantity starts at the first reading with a new value of it")


# ----------------------------------------------------------------------------- 10.3 event-level scores


def event_scores(alerts: list[dict], spans: list[Span], tolerance_ms: int) -> dict[str, float]:
    """Reference for 10.3: precision and recall of ``alerts`` against ``spans`` (one kind), event level.

    A span is found when an alert of its device overlaps it widened by ``tolerance_ms`` on each side (an alert
    covers [start, end], or its alert_at alone); an alert is right when it overlaps some span so widened.
    precision = right alerts / alerts, recall = found spans / spans; NaN when there is nothing to divide by."""
    def interval(alert: dict) -> tuple[int, int]:
        start = timestamp_ms(alert.get("start") or alert["alert_at"])
        end = timestamp_ms(alert.get("end") or alert["alert_at"])
        return min(start, end), max(start, end)

    def overlaps(alert: dict, span: Span) -> bool:
        start, end = interval(alert)
        return (alert["device_id"] == span.device_id and start <= span.end_ms + tolerance_ms
                and end >= span.start_ms - tolerance_ms)

    right = sum(1 for alert in alerts if any(overlaps(alert, span) for span in spans))
    found = sum(1 for span in spans if any(overlaps(alert, span) for alert in alerts))
    return {"precision": right / len(alerts) if alerts else float("nan"),
            "recall": found / len(spans) if spans else float("nan")}


def _at(minute: float) -> str:
    from iotlab.core.timestamps import timestamp_text

    return timestamp_text(T0 + int(minute * MINUTE_MS))


def _alert(minute: float, device: str = "d1", start: Optional[float] = None) -> dict:
    return {"device_id": device, "kind": "drift", "alert_at": _at(minute),
            "start": _at(minute if start is None else start), "end": _at(minute)}


def _span(start: float, end: float, device: str = "d1") -> Span:
    return Span(device, "drift", T0 + int(start * MINUTE_MS), T0 + int(end * MINUTE_MS))


TEN = 10 * MINUTE_MS
SCORE_CASES = [
    ("one alert in one span", ([_alert(30)], [_span(20, 50)], TEN)),
    ("five alerts in one span: the span counts once", ([_alert(m) for m in (25, 30, 35, 40, 45)], [_span(20, 50)],
                                                        TEN)),
    ("an alert within the tolerance after the span", ([_alert(59)], [_span(20, 50)], TEN)),
    ("an alert beyond the tolerance", ([_alert(61)], [_span(20, 50)], TEN)),
    ("exactly at the tolerance's edge", ([_alert(60)], [_span(20, 50)], TEN)),
    ("an alert whose span overlaps, raised later", ([_alert(75, start=45)], [_span(20, 50)], TEN)),
    ("the wrong device", ([_alert(30, device="d2")], [_span(20, 50)], TEN)),
    ("two spans, one found", ([_alert(30)], [_span(20, 50), _span(200, 230)], TEN)),
    ("no tolerance", ([_alert(50.5)], [_span(20, 50)], 0)),
    ("no alerts", ([], [_span(20, 50)], TEN)),
    ("no spans", ([_alert(30)], [], TEN)),
]


def check_event_scores(function: Callable) -> CheckResult:
    return check_cases(
        "event_scores", function, event_scores, SCORE_CASES,
        hint="an alert covers [start, end] (alert_at when they are missing); it hits a span of its device when "
             "start <= span.end_ms + tolerance_ms and end >= span.start_ms - tolerance_ms; precision counts "
             "alerts that hit some span, recall counts spans hit at least once; NaN for 0/0",
        probe_args=([], [], 0),
    )
