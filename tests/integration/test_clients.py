"""Client factories and helpers against the real broker, node and cluster."""

import uuid
from datetime import datetime, timezone

import pytest

from iotlab.cassandra import cassandra_session, ensure_keyspace, insert_rows, query_frame
from iotlab.kafka import admin_client, consumer, producer, recreate_topic

pytestmark = pytest.mark.integration


def _consume_all(topic, expected, timeout_s=20.0):
    import time

    client = consumer(f"test-{uuid.uuid4().hex}")
    client.subscribe([topic])
    values, deadline = [], time.monotonic() + timeout_s
    try:
        while len(values) < expected and time.monotonic() < deadline:
            message = client.poll(0.5)
            if message is not None and not message.error():
                values.append(message.value())
    finally:
        client.close()
    return values


def test_recreate_topic_gives_an_empty_topic_with_the_asked_partitions(lab_settings):
    topic = f"test.recreate.{uuid.uuid4().hex[:8]}"
    recreate_topic(topic, partitions=2)
    kafka_producer = producer()
    for n in range(10):
        kafka_producer.produce(topic, key=str(n), value=f"v{n}")
    assert kafka_producer.flush(10) == 0
    assert len(_consume_all(topic, 10)) == 10

    recreate_topic(topic, partitions=4)
    metadata = admin_client().list_topics(topic, timeout=10).topics[topic]
    assert len(metadata.partitions) == 4
    assert _consume_all(topic, 1, timeout_s=3) == []
    admin = admin_client()  # keep the client alive until the deletion is confirmed
    admin.delete_topics([topic])[topic].result()


def test_cassandra_upserts_are_idempotent(lab_settings):
    session = cassandra_session()
    try:
        ensure_keyspace(session, "iotlab_test")
        session.execute("DROP TABLE IF EXISTS iotlab_test.upserts")
        session.execute("CREATE TABLE iotlab_test.upserts (device_id text PRIMARY KEY, avg_temp double)")
        rows = [{"device_id": "device-01", "avg_temp": 21.5}, {"device_id": "device-02", "avg_temp": 19.0}]
        insert_rows(session, "iotlab_test.upserts", rows)
        insert_rows(session, "iotlab_test.upserts", rows)
        frame = query_frame(session, "SELECT * FROM iotlab_test.upserts").sort_values("device_id")
        assert frame.to_dict("records") == rows
        session.execute("DROP TABLE IF EXISTS iotlab_test.moments")
        session.execute("CREATE TABLE iotlab_test.moments (device_id text PRIMARY KEY, at timestamp)")
        at = datetime(2025, 11, 5, 23, 59, 59, 999000, tzinfo=timezone.utc)
        insert_rows(session, "iotlab_test.moments", [{"device_id": "device-01", "at": at}])
        moments = query_frame(session, "SELECT * FROM iotlab_test.moments")
        assert str(moments["at"].dt.tz) == "UTC" and moments["at"][0] == at, "UTC-aware, the same instant"
    finally:
        session.cluster.shutdown()
