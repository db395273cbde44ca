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
    "CONSUMER_DEFAULTS", "DeliveryReport", "PRODUCER_DEFAULTS", "Pacer", "RoutingSummary", "SendSummary",
    "StoredMessage", "admin_client", "consumer", "group_lag", "partitions_of_keys", "produce_accounted", "producer",
    "producer_limits_for", "poll_until", "read_topic", "recreate_topic", "route_topic", "send_records",
    "topic_max_message_bytes", "topic_size",
]
