"""Consumer lag of every consumer group, per partition, from the admin API alone (no group is joined).

A group's lag on a partition is the partition's end offset (its high watermark) minus the offset the group
last committed there. Flink's Kafka source does not join its group: it assigns itself partitions and commits
its offsets only when a checkpoint completes, so a Flink job's lag grows between two checkpoints and drops at
each one; it is what the job would read again after a failure, not what it has not read yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from iotlab.core.settings import Settings
from iotlab.kafka.clients import admin_client


@dataclass(frozen=True)
class PartitionLag:
    """One group's position on one partition."""

    group: str
    topic: str
    partition: int
    committed: int  # the next offset the group will read after a restart
    end: int  # the partition's high watermark: the offset the next record written there will get

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


def consumer_group_lags(admin: Optional[AdminClient] = None, settings: Optional[Settings] = None,
                        timeout_s: float = 5.0) -> list[PartitionLag]:
    """Every group's committed offset and lag on every partition it has committed to, sorted by group, topic and
    partition. A partition the group never committed to is not listed (Kafka keeps no position for it)."""
    admin = admin or admin_client(settings)
    listing = admin.list_consumer_groups(request_timeout=timeout_s).result()
    committed: dict[tuple[str, TopicPartition], int] = {}
    for group in sorted(listing.valid, key=lambda group: group.group_id):
        request = [ConsumerGroupTopicPartitions(group.group_id)]
        for future in admin.list_consumer_group_offsets(request, request_timeout=timeout_s).values():
            for position in future.result().topic_partitions or []:
                if position.error is None and position.offset >= 0:
                    partition = TopicPartition(position.topic, position.partition)
                    committed[(group.group_id, partition)] = position.offset
    if not committed:
        return []
    partitions = {partition for _, partition in committed}
    ends = {}
    for partition, future in admin.list_offsets({partition: OffsetSpec.latest() for partition in partitions},
                                                request_timeout=timeout_s).items():
        try:
            ends[partition] = future.result().offset
        except KafkaException:  # the topic was deleted since: its groups' offsets outlive it
            continue
    lags = [PartitionLag(group, partition.topic, partition.partition, offset, ends[partition])
            for (group, partition), offset in committed.items() if partition in ends]
    return sorted(lags, key=lambda row: (row.group, row.topic, row.partition))
