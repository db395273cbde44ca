"""Kafka client factories (confluent-kafka), each with its configuration as one explicit dict.

Every client starts from the settings' connection properties (the address, plus SASL/TLS in the cloud)
and the course's defaults written out below; ``config`` adds or overrides librdkafka properties under
their real names, e.g. ``consumer("g", {"enable.auto.commit": False})``. Their log goes through
``iotlab.kafka.logs`` (routine lines left out). The reference for every name:
https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md
"""

from __future__ import annotations

from typing import Any, Optional

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from iotlab.core.settings import Settings, load_settings
from iotlab.kafka.logs import librdkafka_logger

# An idempotent producer: a retry never writes a reading twice, and order is kept per partition.
# Keys are hashed with murmur2, as Kafka's Java clients (and Flink's Kafka sink) do: librdkafka's own default,
# CRC32 (``consistent_random``), would put the same key on a different partition than a Java client does.
PRODUCER_DEFAULTS: dict[str, Any] = {"enable.idempotence": True, "partitioner": "murmur2_random"}

# A consumer group with no committed offset starts from the oldest record still in the topic.
CONSUMER_DEFAULTS: dict[str, Any] = {"auto.offset.reset": "earliest"}


def admin_client(settings: Optional[Settings] = None) -> AdminClient:
    """An AdminClient for creating, describing and deleting topics."""
    return AdminClient({**(settings or load_settings()).kafka_client_config(), "logger": librdkafka_logger()})


def producer(config: Optional[dict[str, Any]] = None, settings: Optional[Settings] = None) -> Producer:
    """A producer with the course's defaults (``PRODUCER_DEFAULTS``), then ``config``."""
    return Producer({**(settings or load_settings()).kafka_client_config(), "logger": librdkafka_logger(),
                     **PRODUCER_DEFAULTS, **(config or {})})


def consumer(
    group_id: str, config: Optional[dict[str, Any]] = None, settings: Optional[Settings] = None
) -> Consumer:
    """A consumer in ``group_id`` with the course's defaults (``CONSUMER_DEFAULTS``), then ``config``."""
    base = {**(settings or load_settings()).kafka_client_config(), "logger": librdkafka_logger(), "group.id": group_id,
            **CONSUMER_DEFAULTS}
    return Consumer({**base, **(config or {})})
