"""Flink SQL tables over Kafka topics holding readings in the data contract."""

from __future__ import annotations

from typing import Optional

from iotlab.config import Settings, load_settings


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
  'properties.bootstrap.servers' = '{settings.kafka_bootstrap_for_jobs}',
  'properties.group.id' = '{group_id}',
  'scan.startup.mode' = 'earliest-offset',{bounded_option}
  'format' = 'json'
)"""
