"""The DataStream API's Kafka source, bounded, as the course's lessons and jobs read a topic.

Notebook 04 builds this source step by step; later notebooks and jobs take it from here.
"""

from __future__ import annotations

from typing import Optional

from pyflink.common.serialization import SimpleStringSchema
from pyflink.datastream.connectors.kafka import KafkaOffsetsInitializer, KafkaSource

from iotlab.core.settings import Settings, load_settings


def bounded_kafka_source(topic: str, group_id: str, settings: Optional[Settings] = None,
                         stopping_offsets: Optional[KafkaOffsetsInitializer] = None) -> KafkaSource:
    """Read ``topic``'s values as text, from its first offset to the end it has when the job starts (or to
    ``stopping_offsets``). Kafka is reached at the address the task managers use."""
    settings = settings or load_settings()
    builder = KafkaSource.builder().set_bootstrap_servers(settings.kafka_bootstrap_for_jobs)
    for key, value in settings.flink_kafka_properties().items():  # SASL in the cloud
        builder = builder.set_property(key, value)
    return (builder
            .set_topics(topic)
            .set_group_id(group_id)
            .set_starting_offsets(KafkaOffsetsInitializer.earliest())
            .set_bounded(stopping_offsets or KafkaOffsetsInitializer.latest())
            .set_value_only_deserializer(SimpleStringSchema())
            .build())
