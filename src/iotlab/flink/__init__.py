"""Flink from Python: environment factories with the course's configuration, SQL tables over Kafka,
record types and parsing for DataStream jobs, and the REST API of the lab's session cluster."""

from iotlab.flink import rest
from iotlab.flink.environments import (
    flink_configuration,
    stream_environment,
    stream_table_environment,
    table_environment,
)
from iotlab.flink.records import (
    BYTES,
    DEAD_LETTER,
    PARSED_READING_TYPE,
    RAW_RECORD_TYPE,
    READING_TYPE,
    SET_ASIDE_TYPE,
    EventTime,
    Validate,
    parse_reading,
)
from iotlab.flink.sources import bounded_kafka_source
from iotlab.flink.tables import (
    RAW_SOURCE_TABLE,
    json_sink_statement,
    kafka_options,
    raw_source_statement,
    readings_source_ddl,
    set_aside_sink_statement,
)

__all__ = [
    "BYTES", "DEAD_LETTER", "EventTime", "PARSED_READING_TYPE", "RAW_RECORD_TYPE", "RAW_SOURCE_TABLE", "READING_TYPE",
    "SET_ASIDE_TYPE", "Validate", "bounded_kafka_source", "flink_configuration", "json_sink_statement",
    "kafka_options", "parse_reading", "raw_source_statement", "readings_source_ddl", "rest", "set_aside_sink_statement",
    "stream_environment", "stream_table_environment", "table_environment",
]
