"""Kafka, the course's log: client factories, topic administration, bounded reads, the one send loop,
and dead-letter routing (confluent-kafka)."""

from iotlab.kafka.admin import group_lag, producer_limits_for, recreate_topic, topic_max_message_bytes, topic_size
from iotlab.kafka.clients import CONSUMER_DEFAULTS, PRODUCER_DEFAULTS, admin_client, consumer, producer
from iotlab.kafka.dead_letter import RoutingSummary, route_topic
from iotlab.kafka.reading import StoredMessage, poll_until, read_topic
from iotlab.kafka.sending import (
    DeliveryReport,
    Pacer,
    SendSummary,
    partitions_of_keys,
    produce_accounted,
    send_records,
)

__all__ = [
    # admin
    "group_lag", "producer_limits_for", "recreate_topic", "topic_max_message_bytes", "topic_size",
    # clients
    "CONSUMER_DEFAULTS", "PRODUCER_DEFAULTS", "admin_client", "consumer", "producer",
    # dead letters
    "RoutingSummary", "route_topic",
    # reading
    "StoredMessage", "poll_until", "read_topic",
    # sending
    "DeliveryReport", "Pacer", "SendSummary", "partitions_of_keys", "produce_accounted", "send_records",
]
