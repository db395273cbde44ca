"""Notebook 10's checks pass the references and fail wrong answers; the two detector checks run real in-process
Flink jobs (no lab)."""

from __future__ import annotations

import re

import pytest
from pyflink.common import Row, Types
from pyflink.datastream.state import ValueStateDescriptor

from iotlab.core.timestamps import MINUTE_MS, timestamp_ms
from iotlab.course.exercises import nb10
from iotlab.jobs.anomalies.detectors import Ewma

# ----------------------------------------------------------------------------- 10.1


def test_zscore_reference_passes():
    assert nb10.check_zscore_spikes(nb10.ZScoreSpikes).passed


class StubSpikes(nb10.ZScoreSpikes):
    def open(self, runtime_context):
        raise NotImplementedError()


def test_zscore_stub_is_skipped():
    result = nb10.check_zscore_spikes(StubSpikes)
    assert result.skipped and not result.passed


class LearnsFromOutliers(nb10.ZScoreSpikes):
    """Updates the baseline with every reading, outliers included."""

    def process_element(self, reading, ctx):
        baseline = self.baseline.value() or Ewma(nb10.HALF_LIFE_MINUTES * MINUTE_MS)
        z = nb10.is_outlier(baseline, reading.event_ms, reading.temperature)
        if z is not None:
            yield Row(device_id=reading.device_id, event_ms=reading.event_ms, z=z)
        baseline.update(reading.event_ms, reading.temperature)
        self.baseline.update(baseline)


class NoWarmUp(nb10.ZScoreSpikes):
    """Judges from the second reading on."""

    def process_element(self, reading, ctx):
        baseline = self.baseline.value() or Ewma(nb10.HALF_LIFE_MINUTES * MINUTE_MS)
        if baseline.mean is not None and baseline.z(reading.temperature, nb10.MIN_STD) > nb10.THRESHOLD:
            yield Row(device_id=reading.device_id, event_ms=reading.event_ms,
                      z=baseline.z(reading.temperature, nb10.MIN_STD))
            return
        baseline.update(reading.event_ms, reading.temperature)
        self.baseline.update(baseline)


class AttributeBaselines(nb10.ZScoreSpikes):
    """Keeps the baselines in a plain dict attribute: shared by the subtask's keys, lost on a restart."""

    def open(self, runtime_context):
        self.baselines = {}

    def process_element(self, reading, ctx):
        baseline = self.baselines.setdefault(reading.device_id, Ewma(nb10.HALF_LIFE_MINUTES * MINUTE_MS))
        z = nb10.is_outlier(baseline, reading.event_ms, reading.temperature)
        if z is not None:
            yield Row(device_id=reading.device_id, event_ms=reading.event_ms, z=z)
            return
        baseline.update(reading.event_ms, reading.temperature)


@pytest.mark.parametrize("wrong", [LearnsFromOutliers, NoWarmUp, AttributeBaselines], ids=lambda c: c.__name__)
def test_zscore_wrong_answers_fail(wrong):
    result = nb10.check_zscore_spikes(wrong)
    assert not result.passed and not result.skipped, result.message


# ----------------------------------------------------------------------------- 10.2


def test_stuck_reference_passes():
    assert nb10.check_stuck_sensor(nb10.StuckSensor).passed


class StuckBase(nb10.StuckSensor):
    def open(self, runtime_context):
        self.run = runtime_context.get_state(ValueStateDescriptor("run", Types.PICKLED_BYTE_ARRAY()))


class RaisesEveryReading(StuckBase):
    """Raises for every reading of a run once it has lasted long enough."""

    def process_element(self, reading, ctx):
        values = (reading.temperature, reading.humidity)
        run = self.run.value()
        if run is None or run[0] != values:
            self.run.update((values, reading.event_ms, False))
            return
        if reading.event_ms - run[1] >= nb10.STUCK_MINUTES * MINUTE_MS:
            yield Row(device_id=reading.device_id, run_start_ms=run[1], alert_ms=reading.event_ms)


class StrictlyLonger(StuckBase):
    """Needs more than STUCK_MINUTES (> instead of >=)."""

    def process_element(self, reading, ctx):
        values = (reading.temperature, reading.humidity)
        run = self.run.value()
        if run is None or run[0] != values:
            self.run.update((values, reading.event_ms, False))
            return
        if not run[2] and reading.event_ms - run[1] > nb10.STUCK_MINUTES * MINUTE_MS:
            self.run.update((values, run[1], True))
            yield Row(device_id=reading.device_id, run_start_ms=run[1], alert_ms=reading.event_ms)


class CountsReadings(StuckBase):
    """Ten identical readings, whatever their spacing."""

    def process_element(self, reading, ctx):
        values = (reading.temperature, reading.humidity)
        run = self.run.value()
        if run is None or run[0] != values:
            self.run.update((values, reading.event_ms, 1))
            return
        count = run[2] + 1
        self.run.update((values, run[1], count))
        if count == nb10.STUCK_MINUTES + 1:
            yield Row(device_id=reading.device_id, run_start_ms=run[1], alert_ms=reading.event_ms)


class TemperatureOnly(StuckBase):
    """Ignores humidity."""

    def process_element(self, reading, ctx):
        run = self.run.value()
        if run is None or run[0] != reading.temperature:
            self.run.update((reading.temperature, reading.event_ms, False))
            return
        if not run[2] and reading.event_ms - run[1] >= nb10.STUCK_MINUTES * MINUTE_MS:
            self.run.update((reading.temperature, run[1], True))
            yield Row(device_id=reading.device_id, run_start_ms=run[1], alert_ms=reading.event_ms)


@pytest.mark.parametrize("wrong, rule", [(RaisesEveryReading, "one alert per run"),
                                         (StrictlyLonger, "exactly STUCK_MINUTES is stuck"),
                                         (CountsReadings, "in minutes, not readings"),
                                         (TemperatureOnly, "temperature AND humidity")],
                         ids=lambda case: getattr(case, "__name__", ""))
def test_stuck_wrong_answers_fail_with_the_rule_they_broke_and_times_in_utc(wrong, rule):
    result = nb10.check_stuck_sensor(wrong)
    assert not result.passed and not result.skipped, result.message
    assert rule in result.message
    assert "2025-11-05T" in result.message and not re.search(r"\d{13}", result.message), "times as UTC ISO 8601"


def test_zscore_wrong_answer_names_times_in_utc():
    result = nb10.check_zscore_spikes(LearnsFromOutliers)
    assert not result.passed and "T" in result.message and not re.search(r"\d{13}", result.message)


# ----------------------------------------------------------------------------- 10.3


def test_event_scores_reference_passes():
    assert nb10.check_event_scores(nb10.event_scores).passed


def per_alert_recall(alerts, spans, tolerance_ms):
    """Counts a span once per alert that hits it (recall above 1 with several alerts in one span)."""
    scores = nb10.event_scores(alerts, spans, tolerance_ms)
    hits = sum(1 for alert in alerts for span in spans
               if nb10.event_scores([alert], [span], tolerance_ms)["recall"] == 1)
    return {**scores, "recall": hits / len(spans) if spans else float("nan")}


def no_tolerance(alerts, spans, tolerance_ms):
    return nb10.event_scores(alerts, spans, 0)


def any_device(alerts, spans, tolerance_ms):
    renamed = [{**alert, "device_id": spans[0].device_id} for alert in alerts] if spans else alerts
    return nb10.event_scores(renamed, spans, tolerance_ms)


def alert_at_only(alerts, spans, tolerance_ms):
    return nb10.event_scores([{**a, "start": a["alert_at"], "end": a["alert_at"]} for a in alerts], spans,
                             tolerance_ms)


def zero_for_nothing(alerts, spans, tolerance_ms):
    scores = nb10.event_scores(alerts, spans, tolerance_ms)
    return {key: 0.0 if value != value else value for key, value in scores.items()}


@pytest.mark.parametrize("wrong", [per_alert_recall, no_tolerance, any_device, alert_at_only, zero_for_nothing])
def test_event_scores_wrong_answers_fail(wrong):
    result = nb10.check_event_scores(wrong)
    assert not result.passed and not result.skipped, result.message


def test_the_stuck_cases_cover_every_rule():
    expected = nb10.expected_stuck(nb10.stuck_cases())
    assert "nine-minutes" not in expected and "humidity-moves" not in expected
    assert len(expected["long-run"]) == 2 and len(expected["ten-minutes"]) == 1 and len(expected["slow-device"]) == 1
    assert timestamp_ms("2025-11-05T12:10:00Z") == expected["ten-minutes"][0][1]
