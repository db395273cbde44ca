"""Checks that need the broker: the reference passes, wrong answers fail, a stub is skipped."""

import pytest

from iotlab.exercises import nb01

pytestmark = pytest.mark.integration


def stub(*_args):
    raise NotImplementedError()


# ----------------------------------------------------------------------------- 01.2 produce_readings

def forgets_to_flush(producer, topic, readings):
    for reading in readings:
        producer.produce(topic, key=reading["device_id"].encode(), value=nb01.serialize_reading(reading))
    return {}


def no_keys(producer, topic, readings):
    for reading in readings:
        producer.produce(topic, value=nb01.serialize_reading(reading))
    producer.flush(30)
    return {}


def counts_sent_not_delivered(producer, topic, readings):
    nb01.produce_readings(producer, topic, readings)
    return {0: len(readings)}


@pytest.mark.parametrize("wrong", [forgets_to_flush, no_keys, counts_sent_not_delivered])
def test_produce_readings_check_fails_wrong_answers(lab_settings, wrong):
    result = nb01.check_produce_readings(wrong)
    assert not result.passed and not result.skipped


def test_produce_readings_check_passes_the_reference_and_skips_a_stub(lab_settings):
    assert nb01.check_produce_readings(nb01.produce_readings).passed
    assert nb01.check_produce_readings(stub).skipped


# ----------------------------------------------------------------------------- 01.3 producer_settings

@pytest.mark.parametrize("wrong", [
    lambda goal: {"acks": "1", "enable.idempotence": True, "linger.ms": 20, "compression.type": "lz4"},
    lambda goal: {"acks": "all", "linger.ms": 20, "compression.type": "lz4"},
    lambda goal: {"acks": "all", "enable.idempotence": True} if goal == "durable" else {"linger.ms": 0,
                                                                                          "compression.type": "lz4"},
    lambda goal: {"acks": "all", "enable.idempotence": True} if goal == "durable" else {"linger.ms": 50},
    lambda goal: {"acks": "all", "enable.idempotence": True} if goal == "durable" else {
        "linger.ms": 50, "compression.type": "lz4", "batch.size": "huge"},
])
def test_producer_settings_check_fails_wrong_answers(lab_settings, wrong):
    result = nb01.check_producer_settings(wrong)
    assert not result.passed and not result.skipped


def test_producer_settings_check_passes_the_reference_and_skips_a_stub(lab_settings):
    assert nb01.check_producer_settings(nb01.producer_settings).passed
    assert nb01.check_producer_settings(stub).skipped
