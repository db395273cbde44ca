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
    """The reference's state (a run per quantity in a MapState); each wrong answer changes one rule in ``step``."""

    def process_element(self, reading, ctx):
        for quantity in ("temperature", "humidity"):
            value = getattr(reading, quantity)
            run = self.runs.get(quantity) if self.runs.contains(quantity) else None
            if run is None or run[0] != value:
                self.runs.put(quantity, (value, reading.event_ms, 0))
                continue
            yield from self.step(reading, quantity, value, run)

    def step(self, reading, quantity, value, run):
        raise NotImplementedError

    @staticmethod
    def alert(reading, quantity, start_ms):
        return Row(device_id=reading.device_id, quantity=quantity, run_start_ms=start_ms, alert_ms=reading.event_ms)


class RaisesEveryReading(StuckBase):
    """Raises for every reading of a run once it has lasted long enough."""

    def step(self, reading, quantity, value, run):
        if reading.event_ms - run[1] >= nb10.STUCK_MINUTES * MINUTE_MS:
            yield self.alert(reading, quantity, run[1])


class StrictlyLonger(StuckBase):
    """Needs more than STUCK_MINUTES (> instead of >=)."""

    def step(self, reading, quantity, value, run):
        if not run[2] and reading.event_ms - run[1] > nb10.STUCK_MINUTES * MINUTE_MS:
            self.runs.put(quantity, (value, run[1], 1))
            yield self.alert(reading, quantity, run[1])


class CountsReadings(StuckBase):
    """Ten identical readings, whatever their spacing."""

    def step(self, reading, quantity, value, run):
        count = run[2] + 1
        self.runs.put(quantity, (value, run[1], count))
        if count == nb10.STUCK_MINUTES:
            yield self.alert(reading, quantity, run[1])


class TemperatureOnly(nb10.StuckSensor):
    """Watches the temperature alone."""

    def process_element(self, reading, ctx):
        yield from (row for row in super().process_element(reading, ctx) if row.quantity == "temperature")


class BothValuesTogether(nb10.StuckSensor):
    """The old rule: stuck only while temperature AND humidity both repeat."""

    def open(self, runtime_context):
        self.run = runtime_context.get_state(ValueStateDescriptor("run", Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, reading, ctx):
        values = (reading.temperature, reading.humidity)
        run = self.run.value()
        if run is None or run[0] != values:
            self.run.update((values, reading.event_ms, False))
            return
        if not run[2] and reading.event_ms - run[1] >= nb10.STUCK_MINUTES * MINUTE_MS:
            self.run.update((values, run[1], True))
            for quantity in ("temperature", "humidity"):
                yield Row(device_id=reading.device_id, quantity=quantity, run_start_ms=run[1],
                          alert_ms=reading.event_ms)


@pytest.mark.parametrize("wrong, rule", [(RaisesEveryReading, "one alert per run"),
                                         (StrictlyLonger, "exactly STUCK_MINUTES is stuck"),
                                         (CountsReadings, "in minutes, not readings"),
                                         (TemperatureOnly, "the humidity is stuck though the temperature moves"),
                                         (BothValuesTogether, "the temperature is stuck though the humidity moves")],
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
    assert "nine-minutes" not in expected
    assert [quantity for quantity, _, _ in expected["humidity-moves"]] == ["temperature"]
    assert [quantity for quantity, _, _ in expected["temperature-moves"]] == ["humidity"]
    assert len(expected["long-run"]) == 2 and len(expected["ten-minutes"]) == 1 and len(expected["slow-device"]) == 1
    assert timestamp_ms("2025-11-05T12:10:00Z") == expected["ten-minutes"][0][2]
