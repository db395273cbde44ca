"""Topic administration: create a topic afresh, read its limits, count its records."""

from __future__ import annotations

import time
from typing import Optional

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import ConfigResource, NewTopic

from iotlab.core.errors import ServiceTimeout, TopicNotFound
from iotlab.core.settings import Settings
from iotlab.core.topology import lab_replication_factor
from iotlab.kafka.clients import admin_client, consumer
from iotlab.kafka.reading import watermark_offsets


def recreate_topic(
    name: str, partitions: int = 3, settings: Optional[Settings] = None, timeout_s: float = 30.0,
    config: Optional[dict[str, str]] = None,
) -> None:
    """Delete ``name`` if it exists and create it empty: how a notebook makes itself re-runnable.

    ``config`` holds topic properties, e.g. ``{"cleanup.policy": "compact"}``.
    """
    admin = admin_client(settings)
    if name in admin.list_topics(timeout=10).topics:
        for future in admin.delete_topics([name], operation_timeout=timeout_s).values():
            future.result()
        _wait_until(lambda: name not in admin.list_topics(timeout=10).topics, timeout_s, f"delete {name}")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            # One replica per broker of the lab, up to three (its brokers set min.insync.replicas to match).
            topic = NewTopic(name, partitions, lab_replication_factor(), config=config or {})
            for future in admin.create_topics([topic]).values():
                future.result()
            break
        except KafkaException as error:
            # Deletion is asynchronous on the broker: creation can race it for a moment.
            if "TOPIC_ALREADY_EXISTS" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    _wait_until(lambda: _has_leaders(admin, name, partitions), timeout_s, f"create {name}")


def _has_leaders(admin, name: str, partitions: int) -> bool:
    """True once the metadata lists every partition of ``name`` with a leader: a topic is created on the
    controller first and reaches the brokers' metadata a moment later, partition by partition."""
    topic = admin.list_topics(name, timeout=10).topics.get(name)
    if topic is None or topic.error is not None or len(topic.partitions) < partitions:
        return False
    return all(partition.leader >= 0 for partition in topic.partitions.values())


def _wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise ServiceTimeout(f"Kafka did not {what} within {timeout_s:.0f} s",
                                 "check the broker with `iotlab lab status` and `iotlab lab logs kafka`")
        time.sleep(0.2)


def topic_max_message_bytes(topic: str, settings: Optional[Settings] = None) -> Optional[int]:
    """The topic's ``max.message.bytes`` (the largest record batch the broker accepts), or None if unknown."""
    admin = admin_client(settings)
    if topic not in admin.list_topics(timeout=10).topics:
        return None
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    try:
        configs = admin.describe_configs([resource])[resource].result(timeout=10)
    except KafkaException:
        return None
    entry = configs.get("max.message.bytes")
    return int(entry.value) if entry is not None and entry.value else None


def producer_limits_for(topic: str, settings: Optional[Settings] = None) -> dict[str, str]:
    """Producer settings that keep every batch within what the topic accepts.

    The broker refuses a whole batch when it is larger than the topic's ``max.message.bytes``; capping
    the client's batch and message size at that limit means one oversized record fails on its own
    (with a clear reason) instead of taking the records batched with it down too.
    """
    limit = topic_max_message_bytes(topic, settings)
    if limit is None:
        return {}
    limit = max(limit, 1000)  # librdkafka's minimum
    return {"message.max.bytes": str(limit), "batch.size": str(limit)}


def topic_size(topic: str, settings: Optional[Settings] = None) -> int:
    """Messages in the topic now (sum over partitions of high - low watermark)."""
    reader = consumer("iotlab-size", {"enable.auto.commit": False}, settings)
    try:
        metadata = reader.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise TopicNotFound(f"topic {topic!r} does not exist",
                                f"produce to it first (e.g. `iotlab replay FILE --topic {topic}`)")
        total = 0
        for partition in metadata.partitions:
            low, high = watermark_offsets(reader, TopicPartition(topic, partition))
            total += high - low
        return total
    finally:
        reader.close()


def group_lag(group_id: str, topic: str, settings: Optional[Settings] = None) -> int:
    """How many messages of ``topic`` the consumer group ``group_id`` has not committed yet (sum over
    partitions of high watermark - committed offset; a partition without a commit counts from its start).

    Flink's Kafka source commits its offsets when a checkpoint completes, so for a Flink job this is what
    the job has not yet read *and checkpointed*."""
    reader = consumer(group_id, {"enable.auto.commit": False}, settings)
    try:
        metadata = reader.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise TopicNotFound(f"topic {topic!r} does not exist",
                                f"produce to it first (e.g. `iotlab replay FILE --topic {topic}`)")
        partitions = [TopicPartition(topic, partition) for partition in metadata.partitions]
        lag = 0
        for committed in reader.committed(partitions, timeout=10):
            low, high = reader.get_watermark_offsets(committed, timeout=10)
            lag += high - (committed.offset if committed.offset >= 0 else low)
        return lag
    finally:
        reader.close()
