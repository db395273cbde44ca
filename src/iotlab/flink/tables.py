"""Flink SQL tables over Kafka topics: the DDL every course job and notebook uses.

- ``readings_source_ddl``: a topic of readings in the data contract as typed columns (JSON format);
- ``raw_source_statement``: a topic's records as original bytes, with key, partition and offset, for
  jobs that validate every record themselves and must keep bad ones byte for byte;
- ``set_aside_sink_statement`` and ``json_sink_statement``: sinks for records set aside (dead letters,
  late readings) and for results as JSON.

Options follow the Kafka SQL connector's reference:
https://nightlies.apache.org/flink/flink-docs-stable/docs/connectors/table/kafka/
"""

from __future__ import annotations

from typing import Optional

from iotlab.core.settings import Settings, load_settings

# The raw table's key column holds the record's key bytes; the value columns exclude it.
RAW_KEY_AND_VALUE = "'key.format' = 'raw', 'key.fields' = 'record_key', 'value.fields-include' = 'EXCEPT_KEY'"
RAW_SOURCE_TABLE = "raw_readings"


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal (a quote inside is doubled)."""
    return "'" + text.replace("'", "''") + "'"


def kafka_client_options(settings: Settings) -> str:
    """The Kafka client properties of a Kafka table (``'properties.bootstrap.servers' = '...'``, and SASL in the
    cloud: ``Settings.flink_kafka_properties``), as SQL options."""
    return ", ".join(f"'properties.{key}' = {sql_string(value)}"
                     for key, value in settings.flink_kafka_properties().items())


def kafka_options(topic: str, settings: Settings, extra: str = "") -> str:
    """The connector, topic and client options of a Kafka table (as the task managers reach Kafka)."""
    return f"'connector' = 'kafka', 'topic' = '{topic}', {kafka_client_options(settings)}{extra}"



def readings_source_ddl(
    table: str, topic: str, bounded: bool = True, settings: Optional[Settings] = None, group_id: str = "iotlab-flink"
) -> str:
    """``CREATE TABLE`` for a topic of JSON readings, read from the earliest offset.

    ``bounded=True`` stops at the offsets that are the topic's end when the job starts, so a notebook
    cell finishes. The ``timestamp`` string is also parsed into ``event_time`` (TIMESTAMP_LTZ(3)).
    """
    settings = settings or load_settings()
    bounded_option = "\n  'scan.bounded.mode' = 'latest-offset'," if bounded else ""
    return f"""
CREATE TEMPORARY TABLE {table} (
  device_id STRING,
  `timestamp` STRING,
  temperature DOUBLE,
  humidity DOUBLE,
  status STRING,
  event_time AS TO_TIMESTAMP_LTZ(UNIX_TIMESTAMP(`timestamp`, 'yyyy-MM-dd''T''HH:mm:ss''Z''') * 1000, 3)
) WITH (
  'connector' = 'kafka',
  'topic' = '{topic}',
  {kafka_client_options(settings)},
  'properties.group.id' = '{group_id}',
  'scan.startup.mode' = 'earliest-offset',{bounded_option}
  'format' = 'json'
)"""


def raw_source_statement(
    topic: str, settings: Settings, bounded: bool = True, group_id: str = "iotlab-aggregate"
) -> str:
    """The source table: each record's original bytes, key, partition and offset (shared by both APIs).

    Read from the earliest offset; ``bounded`` stops at the topic's end when the job starts, otherwise the
    job keeps reading what arrives (a streaming job, stopped by cancelling it or with a savepoint).
    """
    options = (", 'scan.startup.mode' = 'earliest-offset', "
               + ("'scan.bounded.mode' = 'latest-offset', " if bounded else "")
               + f"'properties.group.id' = '{group_id}', 'format' = 'raw', " + RAW_KEY_AND_VALUE)
    return f"""CREATE TEMPORARY TABLE {RAW_SOURCE_TABLE} (
  `record_key` BYTES,
  `raw` BYTES,
  `partition` INT METADATA VIRTUAL,
  `offset` BIGINT METADATA VIRTUAL
) WITH ({kafka_options(topic, settings, options)})"""


def set_aside_sink_statement(table: str, topic: str, settings: Settings) -> str:
    """A sink table for records set aside (dead letters, late readings): original key and bytes, plus headers."""
    return f"""CREATE TEMPORARY TABLE {table} (
  `record_key` BYTES, `raw` BYTES, `headers` MAP<STRING, BYTES> METADATA
) WITH ({kafka_options(topic, settings)}, 'format' = 'raw', {RAW_KEY_AND_VALUE})"""


def json_sink_statement(table: str, columns: str, topic: str, settings: Settings) -> str:
    """A sink table writing JSON values, keyed by its first column ``device_key`` (which is not in the value)."""
    return f"""CREATE TEMPORARY TABLE {table} (
  `device_key` STRING, {columns}
) WITH ({kafka_options(topic, settings)}, 'format' = 'json', 'key.format' = 'raw', 'key.fields' = 'device_key',
        'value.fields-include' = 'EXCEPT_KEY')"""


def with_restored_watermark(tables, table_name: str, view_name: str) -> None:
    """Register ``view_name``: the rows of ``table_name`` (with an event-time column ``event_time``), through
    the course's ``RestoredWatermark`` operator (Java, ``iotlab.flink.functions``' jar), keeping its watermarks.

    After a restore, a Kafka source has no watermark until it has read records again, while Flink SQL's window
    operator remembers its own. The operator replays the watermark of the checkpoint ahead of the first record, so
    ``CURRENT_WATERMARK`` after it is never behind the window operator's, and a reading the window would drop is
    called late (read its Java source for the whole story). The rows stay in the JVM: no Python worker.
    """
    from pyflink.datastream import DataStream
    from pyflink.java_gateway import get_gateway
    from pyflink.table import Schema

    stream = tables.to_data_stream(tables.from_path(table_name))
    operator = get_gateway().jvm.org.iotlab.flink.RestoredWatermark()
    java_stream = stream._j_data_stream.transform("restored watermark", stream._j_data_stream.getType(), operator)
    kept = DataStream(java_stream).uid("restored-watermark")
    schema = Schema.new_builder().watermark("event_time", "SOURCE_WATERMARK()").build()
    tables.create_temporary_view(view_name, tables.from_data_stream(kept, schema))
