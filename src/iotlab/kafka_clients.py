"""Kafka client factories and small admin helpers (confluent-kafka).

Every client gets its configuration as one explicit dict built from the settings; pass ``extra`` to
add or override librdkafka properties. Reference:
https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from iotlab.config import Settings, load_settings


def admin_client(settings: Optional[Settings] = None) -> AdminClient:
    """An AdminClient for creating, listing and deleting topics."""
    return AdminClient((settings or load_settings()).kafka_client_config())


def producer(settings: Optional[Settings] = None, **extra: str) -> Producer:
    """A producer; idempotent by default so a retry never writes a reading twice."""
    config = {**(settings or load_settings()).kafka_client_config(), "enable.idempotence": True}
    config.update({key.replace("_", "."): value for key, value in extra.items()})
    return Producer(config)


def consumer(group_id: str, settings: Optional[Settings] = None, **extra: str) -> Consumer:
    """A consumer in ``group_id`` that starts from the earliest offset when the group has none."""
    config = {
        **(settings or load_settings()).kafka_client_config(),
        "group.id": group_id,
        "auto.offset.reset": "earliest",
    }
    config.update({key.replace("_", "."): value for key, value in extra.items()})
    return Consumer(config)


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
            for future in admin.create_topics([NewTopic(name, partitions, 1, config=config or {})]).values():
                future.result()
            break
        except KafkaException as error:
            # Deletion is asynchronous on the broker: creation can race it for a moment.
            if "TOPIC_ALREADY_EXISTS" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    _wait_until(lambda: name in admin.list_topics(timeout=10).topics, timeout_s, f"create {name}")


def _wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Kafka did not {what} within {timeout_s:.0f} s")
        time.sleep(0.2)


def topic_max_message_bytes(topic: str, settings: Optional[Settings] = None) -> Optional[int]:
    """The topic's ``max.message.bytes`` (the largest record batch the broker accepts), or None if unknown."""
    from confluent_kafka.admin import ConfigResource

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


@dataclass(frozen=True)
class StoredMessage:
    """A message read back from a topic: where it is, and its exact key and value bytes."""

    partition: int
    offset: int
    key: Optional[bytes]
    value: Optional[bytes]
    timestamp_ms: int
    headers: tuple = ()  # (name, bytes) pairs


def read_topic(topic: str, settings: Optional[Settings] = None, timeout_s: float = 60.0) -> list[StoredMessage]:
    """Every message in ``topic`` from the first offset to the end it has now (a bounded read).

    Reads each partition up to its high watermark taken at the start, without joining a consumer
    group (``assign``, no commits), and returns partition by partition, in offset order.
    """
    from confluent_kafka import TopicPartition

    reader = consumer(f"iotlab-read-{topic}", settings, enable_auto_commit="false")
    messages: list[StoredMessage] = []
    try:
        metadata = reader.list_topics(topic, timeout=10).topics[topic]
        if metadata.error is not None:
            raise KafkaException(metadata.error)
        ends = {}
        for partition in metadata.partitions:
            low, high = reader.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > low:
                ends[partition] = high
        reader.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in ends])
        deadline = time.monotonic() + timeout_s
        remaining = dict(ends)
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} did not reach its end within {timeout_s:.0f} s")
            message = reader.poll(0.5)
            if message is None:
                continue
            if message.error():
                raise KafkaException(message.error())
            messages.append(StoredMessage(message.partition(), message.offset(), message.key(), message.value(),
                                          message.timestamp()[1], tuple(message.headers() or ())))
            if message.offset() >= remaining.get(message.partition(), 0) - 1:
                remaining.pop(message.partition(), None)
    finally:
        reader.close()
    return sorted(messages, key=lambda m: (m.partition, m.offset))
