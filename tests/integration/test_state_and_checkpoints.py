"""Notebook 06 against the real lab: the silence detector equals its plain-Python reference (bounded, and
on the session cluster across a stop with savepoint), and the Flink-backed checks fail wrong answers."""

from __future__ import annotations

import uuid

import pytest
from pyflink.common import Row, Types
from pyflink.datastream.functions import KeyedProcessFunction
from pyflink.datastream.state import ValueStateDescriptor

from iotlab.core import END_OF_INPUT, OFFLINE_GAP_MS
from iotlab.core.contract import validate_reading
from iotlab.course.exercises import nb06
from iotlab.flink import rest as flink_rest
from iotlab.jobs import silence_alerts
from iotlab.kafka import producer, read_topic, recreate_topic
from iotlab.sim.sensors import SensorSimulator, SimulationConfig

pytestmark = pytest.mark.integration
GAP_MS = OFFLINE_GAP_MS


def simulated_lines(seed: int) -> list[bytes]:
    """Six hours of 6 devices with offline periods, out-of-order and malformed records."""
    config = SimulationConfig(devices=6, interval_s=60, duration_s=6 * 3600, seed=seed, anomaly_rate=0.01,
                              out_of_order_rate=0.02, malformed_rate=0.01)
    return [record.value for record in SensorSimulator(config).records()]


def send(topic: str, lines: list[bytes]) -> None:
    writer = producer()
    for line in lines:
        reading, _ = validate_reading(line)
        writer.produce(topic, key=reading["device_id"].encode() if reading else None, value=line)
    writer.flush(30)


def test_bounded_run_equals_reference_and_dead_letters_every_bad_record(lab_settings):
    lines = simulated_lines(seed=606)
    topic = f"test.silence.{uuid.uuid4().hex[:8]}"
    recreate_topic(topic, partitions=1)
    send(topic, lines)
    alerts = silence_alerts.run(topic)
    arrivals = silence_alerts.valid_arrivals(lines)
    expected = silence_alerts.silences(arrivals, GAP_MS, END_OF_INPUT)
    assert silence_alerts.alert_tuples(alerts) == expected
    assert expected, "offline periods during the six hours; the end of the input is none"
    assert len(read_topic(f"{topic}.dlq")) == len(lines) - len(arrivals) > 0
    assert read_topic(f"{topic}.late") == []


def test_stop_with_savepoint_and_resume_loses_and_repeats_nothing(lab_settings):
    lines = simulated_lines(seed=607)
    topic = f"test.silence.live.{uuid.uuid4().hex[:8]}"
    recreate_topic(topic, partitions=1)
    silence_alerts.prepare_topics(topic)
    half = len(lines) // 2

    def due(seen_lines):
        arrivals = silence_alerts.valid_arrivals(seen_lines)
        return silence_alerts.silences(arrivals, GAP_MS, max(t for _, t in arrivals) - 30 * 60_000 - 1)

    send(topic, lines[:half])
    job_id = silence_alerts.submit(topic)
    try:
        flink_rest.wait_for_running(job_id)
        flink_rest.wait_until(lambda: len(silence_alerts.read_alerts(topic)) >= len(due(lines[:half])), 180,
                              "first alerts")
        savepoint = nb06.stop_with_savepoint(lab_settings.flink_rest_url, job_id)
    finally:
        flink_rest.cancel(job_id)
    assert silence_alerts.alert_tuples(silence_alerts.read_alerts(topic)) == due(lines[:half])
    send(topic, lines[half:])
    resumed = silence_alerts.submit(topic, savepoint_path=savepoint)
    try:
        flink_rest.wait_for_running(resumed)
        flink_rest.wait_until(lambda: len(silence_alerts.read_alerts(topic)) >= len(due(lines)), 180, "all alerts")
        nb06.stop_with_savepoint(lab_settings.flink_rest_url, resumed)
    finally:
        flink_rest.cancel(resumed)
    assert silence_alerts.alert_tuples(silence_alerts.read_alerts(topic)) == due(lines)
    assert len(read_topic(f"{topic}.dlq")) == len(lines) - len(silence_alerts.valid_arrivals(lines))


# ----------------------------------------------------------------------------- 06.1 RunningCount


class StubCount(KeyedProcessFunction):
    def open(self, runtime_context):
        raise NotImplementedError()

    def process_element(self, reading, ctx):
        raise NotImplementedError()


class PythonAttributeCount(KeyedProcessFunction):
    """Counts in a Python attribute: shared by every key of the subtask."""

    def open(self, runtime_context):
        self.count = 0

    def process_element(self, reading, ctx):
        self.count += 1
        yield Row(device_id=reading.device_id, event_ms=reading.event_ms, count=self.count)


class StartsAtZero(KeyedProcessFunction):
    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, reading, ctx):
        count = self.count.value() or 0
        self.count.update(count + 1)
        yield Row(device_id=reading.device_id, event_ms=reading.event_ms, count=count)


class NeverUpdates(KeyedProcessFunction):
    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, reading, ctx):
        yield Row(device_id=reading.device_id, event_ms=reading.event_ms, count=(self.count.value() or 0) + 1)


def test_running_count_reference_passes_and_stub_is_skipped(lab_settings):
    assert nb06.check_running_count(nb06.RunningCount).passed
    result = nb06.check_running_count(StubCount)
    assert result.skipped and not result.passed


@pytest.mark.parametrize("wrong", [PythonAttributeCount, StartsAtZero, NeverUpdates])
def test_running_count_wrong_answers_fail(lab_settings, wrong):
    result = nb06.check_running_count(wrong)
    assert not result.passed and not result.skipped


# ----------------------------------------------------------------------------- 06.3 stop_with_savepoint


def stub(*_args):
    raise NotImplementedError()


def savepoint_without_stopping(rest_url, job_id):
    """Takes a savepoint but leaves the job running."""
    import time

    import requests
    request_id = requests.post(f"{rest_url}/jobs/{job_id}/savepoints", json={"cancel-job": False},
                               timeout=10).json()["request-id"]
    while True:
        status = requests.get(f"{rest_url}/jobs/{job_id}/savepoints/{request_id}", timeout=10).json()
        if status["status"]["id"] == "COMPLETED":
            return status["operation"]["location"]
        time.sleep(0.5)


def returns_request_id(rest_url, job_id):
    import requests
    return requests.post(f"{rest_url}/jobs/{job_id}/stop", json={"drain": False}, timeout=10).json()["request-id"]


def test_stop_with_savepoint_reference_passes_and_stub_is_skipped(lab_settings):
    assert nb06.check_stop_with_savepoint(nb06.stop_with_savepoint).passed
    assert nb06.check_stop_with_savepoint(stub).skipped


@pytest.mark.parametrize("wrong", [savepoint_without_stopping, returns_request_id])
def test_stop_with_savepoint_wrong_answers_fail(lab_settings, wrong):
    result = nb06.check_stop_with_savepoint(wrong)
    assert not result.passed and not result.skipped


# ----------------------------------------------------------------------------- 06.3 SilenceTimer


class StubTimer(KeyedProcessFunction):
    def __init__(self, gap_ms):
        self.gap_ms = gap_ms

    def open(self, runtime_context):
        raise NotImplementedError()

    def process_element(self, reading, ctx):
        raise NotImplementedError()


class DictTimer(nb06.SilenceTimer):
    """Right algorithm, but the per-device data lives in plain dicts keyed by device: the check must say so."""

    def open(self, runtime_context):
        self.pending, self.last_seen = {}, {}

    def process_element(self, reading, ctx):
        times = self.pending.setdefault(reading.device_id, {})
        times[reading.event_ms] = times.get(reading.event_ms, 0) + 1
        ctx.timer_service().register_event_time_timer(reading.event_ms)
        ctx.timer_service().register_event_time_timer(reading.event_ms + self.gap_ms)
        return iter(())

    def on_timer(self, timestamp, ctx):
        device = ctx.get_current_key()
        if self.pending.get(device, {}).pop(timestamp, None) is not None:
            self.last_seen[device] = timestamp
        if device in self.last_seen and self.last_seen[device] + self.gap_ms == timestamp:
            yield Row(device_id=device, silent_since_ms=self.last_seen[device], alert_at_ms=timestamp)


class NewestOnArrival(nb06.SilenceTimer):
    """Keeps the newest event time on arrival: a reading that arrives early hides the silence before it."""

    def process_element(self, reading, ctx):
        newest = self.last_seen.value()
        self.last_seen.update(reading.event_ms if newest is None else max(newest, reading.event_ms))
        ctx.timer_service().register_event_time_timer(reading.event_ms + self.gap_ms)
        return iter(())

    def on_timer(self, timestamp, ctx):
        if self.last_seen.value() + self.gap_ms == timestamp:
            yield Row(device_id=ctx.get_current_key(), silent_since_ms=self.last_seen.value(), alert_at_ms=timestamp)


class ProcessingTimeTimers(nb06.SilenceTimer):
    """Registers processing-time timers: they fire on the wall clock, not when the data says time has passed."""

    def process_element(self, reading, ctx):
        already = self.pending.get(reading.event_ms) if self.pending.contains(reading.event_ms) else 0
        self.pending.put(reading.event_ms, already + 1)
        ctx.timer_service().register_processing_time_timer(reading.event_ms)
        ctx.timer_service().register_processing_time_timer(reading.event_ms + self.gap_ms)
        return iter(())


def test_silence_timer_reference_passes_and_stub_is_skipped(lab_settings):
    assert nb06.check_silence_timer(nb06.SilenceTimer).passed
    result = nb06.check_silence_timer(StubTimer)
    assert result.skipped and not result.passed


def test_silence_timer_check_names_a_plain_attribute(lab_settings):
    result = nb06.check_silence_timer(DictTimer)
    assert not result.passed and not result.skipped
    assert "self.pending changed" in result.message and "keyed state" in result.message


@pytest.mark.parametrize("wrong", [NewestOnArrival, ProcessingTimeTimers])
def test_silence_timer_wrong_answers_fail(lab_settings, wrong):
    result = nb06.check_silence_timer(wrong)
    assert not result.passed and not result.skipped


def test_silence_timer_cases_have_no_late_reading():
    newest, worst = None, 0
    for reading in nb06._timer_cases():
        newest = reading.event_ms if newest is None else max(newest, reading.event_ms)
        worst = max(worst, newest - reading.event_ms)
    assert worst < nb06.TIMER_OUT_OF_ORDERNESS_MS
