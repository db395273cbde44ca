"""The anomaly detectors on hand-made series, the evaluation's rules, and the scores on a seed the tuning never saw."""

from __future__ import annotations

import functools
import random

import pytest

from iotlab.core.timestamps import MINUTE_MS, timestamp_ms, timestamp_text
from iotlab.jobs.anomalies import evaluation, labels, reference
from iotlab.jobs.anomalies.detectors import (
    DeviceDetectors,
    DriftDetector,
    OfflineDetector,
    SpikeDetector,
    StuckDetector,
)
from iotlab.sim import SensorSimulator, SimulationConfig

SECOND_MS = 1000


def noisy(minutes: int, step_ms: int = MINUTE_MS, seed: int = 1) -> list[tuple[int, float]]:
    rng = random.Random(seed)
    return [(i * step_ms, round(22.0 + rng.gauss(0, 0.5), 2)) for i in range(minutes * MINUTE_MS // step_ms)]


@pytest.mark.parametrize("step_ms", [MINUTE_MS, 10 * SECOND_MS])
def test_one_outlier_is_one_spike_whatever_the_reporting_interval(step_ms):
    series = noisy(120, step_ms)
    at, value = series[len(series) // 2]
    series[len(series) // 2] = (at, value + 15)
    detector = SpikeDetector()
    alerts = [a for t, v in series for a in detector.observe("d", t, v)]
    assert [(a["kind"], a["start"], a["end"]) for a in alerts] == [("spike", timestamp_text(at), timestamp_text(at))]


def test_a_level_shift_is_not_a_spike():
    series = [(t, v + (10 if t >= 60 * MINUTE_MS else 0)) for t, v in noisy(120)]
    detector = SpikeDetector()
    assert [a for t, v in series for a in detector.observe("d", t, v)] == []


@pytest.mark.parametrize("step_ms", [MINUTE_MS, 30 * SECOND_MS])
def test_a_stuck_sensor_is_raised_once_after_min_minutes(step_ms):
    series = noisy(60, step_ms)
    frozen = [(t, 21.5) for t, _ in series[len(series) // 3:len(series) // 3 * 2]]  # 20 minutes frozen
    detector = StuckDetector(min_minutes=10)
    alerts = [a for t, v in series[:len(series) // 3] + frozen for a in detector.observe("d", t, v)]
    assert len(alerts) == 1
    assert alerts[0]["start"] == timestamp_text(frozen[0][0])
    assert alerts[0]["alert_at"] == timestamp_text(frozen[0][0] + 10 * MINUTE_MS)


@pytest.mark.parametrize("stuck_quantity", ["temperature", "humidity"])
def test_one_quantity_stuck_is_found_while_the_other_still_moves(stuck_quantity):
    """A stuck temperature probe on a device whose humidity keeps changing (and the reverse): one alert, with the
    quantity that is stuck."""
    detector = DeviceDetectors()
    rng = random.Random(4)
    alerts = []
    for minute in range(90):
        values = {"temperature": round(22.0 + rng.gauss(0, 0.5), 2), "humidity": round(45.0 + rng.gauss(0, 1.5), 2)}
        if minute >= 40:
            values[stuck_quantity] = 21.5 if stuck_quantity == "temperature" else 47.25
        alerts += detector.reading("d", minute * MINUTE_MS, values["temperature"], values["humidity"])
    assert [(a["kind"], a["quantity"], a["alert_at"]) for a in alerts] == [
        ("stuck", stuck_quantity, timestamp_text(50 * MINUTE_MS))]


def test_a_humidity_spike_is_a_humidity_alert():
    detector = DeviceDetectors()
    rng = random.Random(5)
    alerts = []
    for minute in range(120):
        humidity = round(45.0 + rng.gauss(0, 1.5), 2) + (25.0 if minute == 70 else 0.0)
        alerts += detector.reading("d", minute * MINUTE_MS, round(22.0 + rng.gauss(0, 0.5), 2), humidity)
    assert [(a["kind"], a["quantity"], a["start"]) for a in alerts] == [
        ("spike", "humidity", timestamp_text(70 * MINUTE_MS))]


def test_a_gap_is_offline_but_the_end_of_the_input_is_not():
    detector = DeviceDetectors()
    times = [t for t, _ in noisy(60)]
    times = [t for t in times if not 20 * MINUTE_MS < t < 35 * MINUTE_MS]  # silent from minute 20 to 35
    alerts = [a for t in times for a in detector.reading("d", t, 22.0 + (t % 7) / 10, 40.0 + (t % 5) / 10)]
    offline = [a for a in alerts if a["kind"] == "offline"]
    assert [(a["start"], a["alert_at"]) for a in offline] == [
        (timestamp_text(20 * MINUTE_MS), timestamp_text(30 * MINUTE_MS))]


def test_a_silence_a_timer_raised_is_not_raised_again_by_the_next_reading():
    detector = DeviceDetectors()
    detector.reading("d", 0, 22.0, 40.0)
    assert detector.timer("d", 5 * MINUTE_MS) == []  # not gap minutes after the last reading
    raised = detector.timer("d", 10 * MINUTE_MS)
    assert [a["kind"] for a in raised] == ["offline"]
    assert [a for a in detector.reading("d", 15 * MINUTE_MS, 22.1, 40.1) if a["kind"] == "offline"] == []


def test_offline_gap_is_in_minutes():
    detector = OfflineDetector(gap_minutes=10)
    detector.observe("d", 0)
    assert detector.observe("d", 9 * MINUTE_MS + 59 * SECOND_MS) == []
    assert len(detector.observe("d", 20 * MINUTE_MS)) == 1


def creep(at_ms: int) -> float:
    """+8 degrees over the 30 minutes after minute 600, then back to normal."""
    minutes = at_ms / MINUTE_MS - 600
    return 8.0 * minutes / 30 if 0 <= minutes < 30 else 0.0


def run_drift(series: list[tuple[int, float]]) -> list[dict]:
    detector = DriftDetector()
    return [alert for at, value in series for alert in detector.observe("d", at, value)]


def test_a_slow_creep_is_a_drift_and_noise_is_not():
    series = noisy(24 * 60)
    assert run_drift(series) == []
    alerts = run_drift([(at, value + creep(at)) for at, value in series])
    assert len(alerts) == 1 and alerts[0]["kind"] == "drift"
    assert 600 * MINUTE_MS <= timestamp_ms(alerts[0]["alert_at"]) < 630 * MINUTE_MS


def slow_creep(at_ms: int) -> float:
    """+3 degrees over the 2 hours after minute 600 (1.5 degrees an hour), then back to normal."""
    minutes = at_ms / MINUTE_MS - 600
    return 3.0 * minutes / 120 if 0 <= minutes < 120 else 0.0


@pytest.mark.parametrize("step_ms", [10 * SECOND_MS, MINUTE_MS])
def test_a_slow_drift_is_found_while_it_creeps(step_ms):
    series = noisy(24 * 60, step_ms)
    alerts = run_drift([(at, value + slow_creep(at)) for at, value in series])
    assert [a["kind"] for a in alerts] == ["drift"]
    assert 600 * MINUTE_MS <= timestamp_ms(alerts[0]["alert_at"]) < 720 * MINUTE_MS  # before the creep ends


def test_the_baseline_holds_while_a_sum_is_up_and_only_for_a_while():
    detector = DriftDetector(warm_up_minutes=0, hold=2.0, max_hold_minutes=30)
    for minute in range(60):
        detector.observe("d", minute * MINUTE_MS, 22.0 + (0.4 if minute % 2 else -0.4))
    learned = detector.baseline.mean
    for minute in range(60, 80):  # 3 degrees up: the sums rise past hold, the baseline keeps what it knew
        detector.observe("d", minute * MINUTE_MS, 25.0)
    assert detector.baseline.mean == learned
    for minute in range(80, 150):  # held more than 30 minutes: it learns the new level after all
        detector.observe("d", minute * MINUTE_MS, 25.0)
    assert detector.baseline.mean > 24.0


def span(start_min: int, end_min: int, kind: str = "spike", quantity: str = "temperature") -> labels.Span:
    return labels.Span("d", kind, start_min * MINUTE_MS, end_min * MINUTE_MS, quantity)


def alert(at_min: float, kind: str = "spike", device: str = "d", quantity: str = "temperature") -> dict:
    return {"device_id": device, "kind": kind, "quantity": quantity,
            "alert_at": timestamp_text(int(at_min * MINUTE_MS))}


SPIKE = ("spike", "temperature")


def test_a_span_counts_once_and_a_flood_of_alerts_lowers_precision():
    scores = evaluation.score([alert(100), alert(101), alert(102)], [span(100, 130)])
    assert (scores[SPIKE].found, scores[SPIKE].right, scores[SPIKE].alerts) == (1, 1, 3)
    assert scores[SPIKE].precision == pytest.approx(1 / 3)


def test_lead_lag_wrong_device_wrong_kind_and_wrong_quantity():
    spans = [span(100, 100)]
    assert evaluation.score([alert(109)], spans)[SPIKE].found == 1  # within the 10-minute lag
    assert evaluation.score([alert(111)], spans)[SPIKE].found == 0
    assert evaluation.score([alert(99.5)], spans)[SPIKE].found == 1  # within the 1-minute lead
    assert evaluation.score([alert(98)], spans)[SPIKE].found == 0  # 2 minutes early: not this span's alert
    assert evaluation.score([alert(100, device="e")], spans)[SPIKE].found == 0
    assert evaluation.score([alert(100, kind="drift")], spans)[SPIKE].found == 0
    assert evaluation.score([alert(100, quantity="humidity")], spans)[SPIKE].found == 0


def test_a_mean_over_seeds_has_a_95_percent_interval():
    found = evaluation.interval([0.8, 0.9, 1.0, 0.9, 0.9])
    assert found.mean == pytest.approx(0.9)
    assert (found.low, found.high) == pytest.approx((0.9 - 2.776 * 0.0707107 / 5 ** 0.5,
                                                     0.9 + 2.776 * 0.0707107 / 5 ** 0.5), abs=1e-4)


def test_classic_stuck_labels_are_a_span_per_quantity():
    stuck = [{"device_id": "d", "timestamp": timestamp_text(minute * MINUTE_MS), "label": "stuck", "detail": ""}
             for minute in range(20)]
    assert {(s.kind, s.quantity) for s in labels.labelled_spans(stuck)} == {("stuck", "temperature"),
                                                                             ("stuck", "humidity")}


def test_labels_become_one_span_per_episode():
    config = SimulationConfig(devices=5, interval_s=60, duration_s=12 * 3600, seed=3, anomaly_rate=0.01)
    sim = SensorSimulator(config)
    list(sim.records())
    spans = labels.labelled_spans(sim.labels)
    drift_labels = [label for label in sim.labels if label["label"] == "drift"]
    drifts = [s for s in spans if s.kind == "drift"]
    assert drifts and len(drift_labels) == 30 * len(drifts)  # 30 labelled readings per drift episode


def test_scores_on_an_unseen_seed_meet_the_targets_and_beat_the_baselines():
    """Tuned on seed 21; seed 22 was never looked at while tuning."""
    sim = SensorSimulator(SimulationConfig(devices=20, interval_s=60, duration_s=24 * 3600, seed=22,
                                           anomaly_rate=0.004, out_of_order_rate=0.01, late_rate=0.003,
                                           duplicate_rate=0.005, malformed_rate=0.005))
    lines = [record.value for record in sim.records()]
    spans = labels.labelled_spans(sim.labels)
    alerts = reference.detect(lines)
    scores = evaluation.score(alerts, spans)
    targets = {("spike", "temperature"): 0.9, ("stuck", "temperature"): 0.9, ("stuck", "humidity"): 0.9,
               ("offline", "all"): 0.9, ("out_of_range", "humidity"): 0.9, ("drift", "temperature"): 0.8}
    assert {pair: round(scores[pair].f1, 2) for pair in targets} == {
        pair: round(max(scores[pair].f1, target), 2) for pair, target in targets.items()}
    readings = [event for events in reference.device_events(lines).values() for _, _, event in events
                if isinstance(event, dict)]
    random_scores = evaluation.score(evaluation.random_alerts(readings, alerts), spans)
    assert all(random_scores[pair].f1 < 0.5 for pair in targets)


def test_point_adjusted_f1_credits_every_reading_of_a_span_and_can_keep_to_one_quantity():
    drift = [{"device_id": "d", "timestamp": timestamp_text(minute * MINUTE_MS), "label": "drift", "detail": ""}
             for minute in range(30)]
    lucky = [alert(29, kind="drift")]  # one alert in the last labelled minute
    assert evaluation.point_adjusted_f1(lucky, drift, "drift") == 1.0  # 30 readings credited for one alert
    assert evaluation.score(lucky, labels.labelled_spans(drift))[("drift", "temperature")].f1 == 1.0
    assert evaluation.point_adjusted_f1(lucky, drift, "drift", "humidity") == 0.0  # no humidity span, no credit
    assert evaluation.point_adjusted_f1([alert(29, kind="drift", quantity="humidity")], drift, "drift",
                                        "temperature") == 0.0


def test_an_interval_of_scores_stays_within_zero_and_one():
    found = evaluation.interval([1.0, 1.0, 0.6, 1.0, 1.0])
    assert found.high == 1.0 and 0.0 < found.low < found.mean < 1.0


# Faults in one quantity (the simulator's QuantityFaults: sizes in sigmas and minutes the detectors were not tuned
# on), at several reporting intervals, on seeds never looked at while tuning: the mean F1 over the seeds.
PER_QUANTITY_TARGETS = {(kind, quantity): 0.9 for kind in ("spike", "stuck")
                        for quantity in ("temperature", "humidity")}
FAULT_STREAMS = {10: ((201, 202), 12), 60: ((201, 202, 203, 204, 205), 24), 300: ((201, 202, 203), 24)}
NOT_YET_MET = {(60, "spike", "temperature"): 0.9, (60, "drift", "temperature"): 0.8}  # known limits (README)


@functools.lru_cache(maxsize=None)
def fault_stream_scores(interval_s: int) -> dict:
    from iotlab.sim.sensors import QuantityFaults

    seeds, hours = FAULT_STREAMS[interval_s]
    per_stream = []
    for seed in seeds:
        sim = SensorSimulator(SimulationConfig(devices=10, interval_s=interval_s, duration_s=hours * 3600,
                                               seed=seed, anomaly_rate=0.25 * interval_s / 3600,
                                               faults=QuantityFaults()))
        lines = [record.value for record in sim.records()]
        per_stream.append(evaluation.score(reference.detect(lines), labels.labelled_spans(sim.labels)))
    return evaluation.seed_scores(per_stream)


@pytest.mark.parametrize("interval_s", sorted(FAULT_STREAMS))
def test_spikes_and_stuck_probes_are_found_per_quantity_at_every_interval(interval_s):
    means = fault_stream_scores(interval_s)
    targets = {pair: target for pair, target in PER_QUANTITY_TARGETS.items() if (interval_s, *pair) not in NOT_YET_MET}
    assert {pair: round(means[pair].mean, 2) >= target for pair, target in targets.items()} == \
        dict.fromkeys(targets, True), {pair: means[pair].text() for pair in targets}


@pytest.mark.xfail(strict=True, reason="a known limit (README): at 1-minute intervals a temperature spike of 10 "
                                       "sigmas is missed now and then (mean F1 0.86) and a temperature drift as steep "
                                       "as the simulator's daily cycle is not found per device (0.79)")
def test_the_targets_not_yet_met_on_faults_in_one_quantity():
    met = {key: round(fault_stream_scores(key[0])[key[1:]].mean, 2) >= target for key, target in NOT_YET_MET.items()}
    assert met == dict.fromkeys(NOT_YET_MET, True), met
