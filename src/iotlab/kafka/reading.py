"""Bounded reads: every message of a topic from its first offset to the end it has now.

A notebook cell must finish, so the course reads topics up to the high watermarks taken at the start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

from iotlab.core.errors import ServiceTimeout
from iotlab.core.settings import Settings
from iotlab.kafka.clients import consumer


@dataclass(frozen=True)
class StoredMessage:
    """A message read back from a topic: where it is, and its exact key and value bytes."""

    partition: int
    offset: int
    key: Optional[bytes]
    value: Optional[bytes]
    timestamp_ms: int
    headers: tuple = ()  # (name, bytes) pairs


# What a broker answers for a moment after a topic is created or a partition's leader moves.
NOT_READY_YET = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART}


def watermark_offsets(reader, partition: TopicPartition, attempts: int = 10) -> tuple[int, int]:
    """(low, high) of one partition, asked again while the broker says it is not ready to answer: right after a
    topic is created (or a leader moves) a broker may answer NOT_LEADER_FOR_PARTITION or LEADER_NOT_AVAILABLE for
    a moment, until the metadata settles."""
    for attempt in range(1, attempts + 1):
        try:
            return reader.get_watermark_offsets(partition, timeout=10)
        except KafkaException as error:
            if error.args[0].code() not in NOT_READY_YET or attempt == attempts:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def read_topic(topic: str, settings: Optional[Settings] = None, timeout_s: float = 60.0) -> list[StoredMessage]:
    """Every message in ``topic`` from the first offset to the end it has now (a bounded read).

    Reads each partition up to its high watermark taken at the start, without joining a consumer
    group (``assign``, no commits), and returns partition by partition, in offset order. Only committed
    messages of a transactional topic are returned (librdkafka's default ``isolation.level`` is
    ``read_committed``).
    """
    reader = consumer(f"iotlab-read-{topic}", {"enable.auto.commit": False}, settings)
    messages: list[StoredMessage] = []
    try:
        metadata = reader.list_topics(topic, timeout=10).topics[topic]
        if metadata.error is not None:
            raise KafkaException(metadata.error)
        ends = {}
        for partition in metadata.partitions:
            low, high = watermark_offsets(reader, TopicPartition(topic, partition))
            if high > low:
                ends[partition] = high
        reader.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in ends])
        deadline = time.monotonic() + timeout_s
        remaining = dict(ends)
        while remaining:
            if time.monotonic() > deadline:
                raise ServiceTimeout(f"reading {topic} did not reach its end within {timeout_s:.0f} s",
                                     "check the broker with `iotlab lab status`")
            message = reader.poll(0.5)
            if message is None:
                # A transactional topic ends with a commit marker, a control record no consumer returns:
                # the read position passes it, the last message's offset never reaches it.
                for position in reader.position([TopicPartition(topic, p) for p in remaining]):
                    if position.offset >= remaining[position.partition]:
                        remaining.pop(position.partition)
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


def poll_until(client, expected: int, timeout_s: float = 30.0) -> list:
    """Poll ``client`` (a subscribed or assigned Consumer) until ``expected`` messages have arrived or
    ``timeout_s`` has passed; error events (such as reaching a partition's end) are skipped.

    For lessons that consume by hand: a bare ``poll`` loop either stops at the first empty poll (too early,
    while the group is still being assigned its partitions) or never stops."""
    received, deadline = [], time.monotonic() + timeout_s
    while len(received) < expected and time.monotonic() < deadline:
        message = client.poll(0.5)
        if message is not None and not message.error():
            received.append(message)
    return received
