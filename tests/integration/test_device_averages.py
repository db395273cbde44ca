"""The first Flink job on real Kafka equals an independent pandas computation (in-process and on the
lab's session cluster)."""

import math
import uuid

import pandas as pd
import pytest

from iotlab.jobs.device_averages import device_averages
from iotlab.kafka import producer, recreate_topic
from iotlab.sim.sensors import generate_readings, to_json_bytes

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def readings_topic(lab_settings):
    topic = f"test.averages.{uuid.uuid4().hex[:8]}"
    recreate_topic(topic, partitions=3)
    readings = list(generate_readings(240, devices=6, seed=11))
    kafka_producer = producer()
    for reading in readings:
        kafka_producer.produce(topic, key=reading["device_id"], value=to_json_bytes(reading))
    assert kafka_producer.flush(30) == 0
    return topic, pd.DataFrame(readings)


def _expected(frame: pd.DataFrame) -> pd.DataFrame:
    grouped = frame.groupby("device_id")
    return pd.DataFrame({
        "readings": grouped.size(), "avg_temp": grouped.temperature.mean(),
        "min_temp": grouped.temperature.min(), "max_temp": grouped.temperature.max(),
        "avg_humidity": grouped.humidity.mean(),
    }).reset_index()


@pytest.mark.parametrize("remote", [False, True], ids=["in-process", "session-cluster"])
def test_flink_averages_equal_pandas(readings_topic, remote):
    topic, frame = readings_topic
    actual = device_averages(topic, remote=remote)
    expected = _expected(frame)
    assert list(actual.device_id) == list(expected.device_id)
    assert list(actual.readings) == list(expected.readings)
    for column in ("avg_temp", "min_temp", "max_temp", "avg_humidity"):
        for got, want in zip(actual[column], expected[column]):
            assert math.isclose(got, want, rel_tol=0, abs_tol=1e-9), column
