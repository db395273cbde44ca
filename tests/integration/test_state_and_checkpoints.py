"""Notebook 06 against the real lab: the silence detector equals its plain-Python reference (bounded, and
on the session cluster across a stop with savepoint), and the Flink-backed checks fail wrong answers."""

from __future__ import annotations

import uuid

import pytest
from pyflink.common import Row, Types
from pyflink.datastream.functions import KeyedProcessFunction
from pyflink.datastream.state import ValueStateDescriptor

from iotlab.core.contract import validate_reading
from iotlab.course.exercises import nb06
from iotlab.flink import rest as flink_rest
from iotlab.jobs import silence_alerts
from iotlab.kafka import producer, read_topic, recreate_topic
from iotlab.sim.sensors import SensorSimulator, SimulationConfig

pytestmark = pytest.mark.integration
GAP_MS = silence_alerts.GAP_MINUTES * 60_000


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
    expected = silence_alerts.silences(arrivals, GAP_MS, 2**63 - 1)
    assert silence_alerts.alert_tuples(alerts) == expected
    assert len(expected) > len({device for device, _ in arrivals}), "some silences before the end"
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
