"""Checks that need the broker: the reference passes, wrong answers fail, a stub is skipped."""

import uuid

import pytest

from iotlab.course.exercises import nb01

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


def ignores_failed_deliveries(producer, topic, readings):
    delivered = {}

    def on_delivery(error, message):
        if error is None:
            delivered[message.partition()] = delivered.get(message.partition(), 0) + 1

    for reading in readings:
        producer.produce(topic, key=reading["device_id"].encode(), value=nb01.serialize_reading(reading),
                         on_delivery=on_delivery)
    producer.flush(30)
    return delivered


@pytest.mark.parametrize("wrong", [forgets_to_flush, no_keys, counts_sent_not_delivered, ignores_failed_deliveries])
def test_produce_readings_check_fails_wrong_answers(lab_settings, wrong):
    result = nb01.check_produce_readings(wrong)
    assert not result.passed and not result.skipped
    if wrong is ignores_failed_deliveries:
        assert "refused one delivery" in result.message


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


# ----------------------------------------------------------------------------- notebook 02

from iotlab.course.exercises import nb02  # noqa: E402


def off_by_one_range(topic, partition, start, end):
    return nb02.messages_between(topic, partition, start, end + 1)


def ignores_the_partition(topic, partition, start, end):
    return nb02.messages_between(topic, 0, start, end)


def hangs_past_the_end(topic, partition, start, end):
    values = nb02.messages_between(topic, partition, start, end)
    return values + [b""] * (max(end - start, 0) - len(values))


@pytest.mark.parametrize("wrong", [off_by_one_range, ignores_the_partition, hangs_past_the_end])
def test_messages_between_check_fails_wrong_answers(lab_settings, wrong):
    assert not nb02.check_messages_between(wrong).passed


def test_messages_between_check_passes_the_reference_and_skips_a_stub(lab_settings):
    assert nb02.check_messages_between(nb02.messages_between).passed
    assert nb02.check_messages_between(stub).skipped


@pytest.mark.parametrize("wrong", [
    lambda topic, partition, ts: nb02.offset_at_time(topic, partition, ts) + 1,
    lambda topic, partition, ts: max(nb02.offset_at_time(topic, partition, ts), 0),
    lambda topic, partition, ts: nb02.offset_at_time(topic, 0, ts),
])
def test_offset_at_time_check_fails_wrong_answers(lab_settings, wrong):
    assert not nb02.check_offset_at_time(wrong).passed


def test_offset_at_time_check_passes_the_reference_and_skips_a_stub(lab_settings):
    assert nb02.check_offset_at_time(nb02.offset_at_time).passed
    assert nb02.check_offset_at_time(stub).skipped


def lag_from_zero_always(topic, group):
    return {p: lag for p, lag in nb02.consumer_lag(topic, f"{group}-other").items()}


def lag_without_uncommitted_partitions(topic, group):
    return {p: lag for p, lag in nb02.consumer_lag(topic, group).items() if lag != 25}


def committed_offsets_instead_of_lag(topic, group):
    return {p: 25 - lag for p, lag in nb02.consumer_lag(topic, group).items()}


def uncommitted_counts_from_zero(topic, group):
    """high - max(committed, 0): right while no record was ever deleted."""
    from confluent_kafka import TopicPartition

    from iotlab.kafka import consumer

    client = consumer(group, {"enable.auto.commit": False})
    try:
        partitions = client.list_topics(topic, timeout=10).topics[topic].partitions
        lag = {}
        for position in client.committed([TopicPartition(topic, p) for p in partitions], timeout=10):
            _, high = client.get_watermark_offsets(TopicPartition(topic, position.partition), timeout=10)
            lag[position.partition] = high - max(position.offset, 0)
        return lag
    finally:
        client.close()


@pytest.mark.parametrize("wrong", [lag_from_zero_always, lag_without_uncommitted_partitions,
                                   committed_offsets_instead_of_lag, uncommitted_counts_from_zero])
def test_consumer_lag_check_fails_wrong_answers(lab_settings, wrong):
    assert not nb02.check_consumer_lag(wrong).passed


def test_consumer_lag_check_passes_the_reference_and_skips_a_stub(lab_settings):
    assert nb02.check_consumer_lag(nb02.consumer_lag).passed
    assert nb02.check_consumer_lag(stub).skipped


# ----------------------------------------------------------------------------- notebook 03

from iotlab.course.exercises import nb03  # noqa: E402


@pytest.mark.parametrize("wrong", [
    lambda: {"cleanup.policy": "compact,delete", "delete.retention.ms": "86400000"},
    lambda: {"cleanup.policy": "delete"},
    lambda: {"cleanup.policy": "compact", "delete.retention.ms": "1000"},
    lambda: {"cleanup.policy": "compacted"},
])
def test_registry_topic_config_check_fails_wrong_answers(lab_settings, wrong):
    result = nb03.check_registry_topic_config(wrong)
    assert not result.passed and not result.skipped


def test_registry_topic_config_check_passes_the_reference_and_skips_a_stub(lab_settings):
    assert nb03.check_registry_topic_config(nb03.registry_topic_config).passed
    assert nb03.check_registry_topic_config(stub).skipped


# ----------------------------------------------------------------------------- notebook 04

from iotlab.course.exercises import nb04  # noqa: E402


@pytest.mark.parametrize("wrong", [
    lambda table, threshold: nb04.hot_devices_sql(table, threshold).replace("DESC", "ASC"),
    lambda table, threshold: nb04.hot_devices_sql(table, threshold).replace("HAVING MAX(temperature) >",
                                                                              "HAVING AVG(temperature) >"),
    lambda table, threshold: nb04.hot_devices_sql(table, threshold).replace("AS readings", "AS n"),
    lambda table, threshold: f"SELECT device_id FROM {table}",
    lambda table, threshold: "SELECT nonsense",
])
def test_hot_devices_sql_check_fails_wrong_answers(lab_settings, wrong):
    result = nb04.check_hot_devices_sql(wrong)
    assert not result.passed and not result.skipped


def test_hot_devices_sql_check_tells_above_from_at_least(lab_settings):
    """The same rows at 25 and 27.5 degrees; only the threshold equal to a device's hottest reading differs."""
    def at_least(table, threshold):
        return nb04.hot_devices_sql(table, threshold).replace("MAX(temperature) >", "MAX(temperature) >=")

    result = nb04.check_hot_devices_sql(at_least)
    assert not result.passed and not result.skipped
    assert "equal to the threshold, which is not above it" in result.message, result.message


def test_hot_devices_sql_check_passes_the_reference_and_skips_a_stub(lab_settings):
    assert nb04.check_hot_devices_sql(nb04.hot_devices_sql).passed
    assert nb04.check_hot_devices_sql(stub).skipped


@pytest.mark.parametrize("wrong", [
    lambda rest: {state: list(reversed(names)) + ["extra"] for state, names in nb04.job_names_by_state(rest).items()}
    or {"FINISHED": ["nothing"]},
    lambda rest: {"RUNNING": [], **{k.lower(): v for k, v in nb04.job_names_by_state(rest).items()}},
    lambda rest: [],
])
def test_job_names_by_state_check_fails_wrong_answers(lab_settings, wrong):
    from iotlab.jobs.device_averages import device_averages
    from iotlab.kafka import recreate_topic

    topic = f"test.nb04.{uuid.uuid4().hex[:6]}"
    recreate_topic(topic, partitions=1)
    device_averages(topic, remote=True)  # at least one finished job on the cluster
    result = nb04.check_job_names_by_state(wrong)
    assert not result.passed and not result.skipped


def test_job_names_by_state_check_passes_the_reference_and_skips_a_stub(lab_settings):
    assert nb04.check_job_names_by_state(nb04.job_names_by_state).passed
    assert nb04.check_job_names_by_state(stub).skipped


# ----------------------------------------------------------------------------- 04.3 write_device_summary


def _summary_sink(tables, source_table, topic, key_options="'key.format' = 'raw', 'key.fields' = 'device_id',",
                  select="COUNT(*) AS readings, AVG(temperature) AS avg_temp"):
    from iotlab.core import load_settings

    tables.execute_sql(f"""
CREATE TEMPORARY TABLE device_summary (device_id STRING, readings BIGINT, avg_temp DOUBLE) WITH (
  'connector' = 'kafka', 'topic' = '{topic}',
  'properties.bootstrap.servers' = '{load_settings().kafka_bootstrap_for_jobs}', {key_options}
  'value.format' = 'json')""")
    tables.execute_sql(f"INSERT INTO device_summary SELECT device_id, {select} FROM {source_table} "
                       "GROUP BY device_id").wait()


@pytest.mark.parametrize("wrong", [
    lambda tables, source, topic: _summary_sink(tables, source, topic, key_options=""),
    lambda tables, source, topic: _summary_sink(tables, source, topic, select="COUNT(*) AS readings, "
                                                                              "AVG(humidity) AS avg_temp"),
    lambda tables, source, topic: _summary_sink(tables, source, topic, select="COUNT(DISTINCT `timestamp`) - 1 AS "
                                                                              "readings, AVG(temperature) AS avg_temp"),
])
def test_write_device_summary_check_fails_wrong_answers(lab_settings, wrong):
    result = nb04.check_write_device_summary(wrong)
    assert not result.passed and not result.skipped


def test_write_device_summary_check_passes_the_reference_and_skips_a_stub(lab_settings):
    assert nb04.check_write_device_summary(nb04.write_device_summary).passed
    assert nb04.check_write_device_summary(_summary_sink).passed
    assert nb04.check_write_device_summary(stub).skipped
