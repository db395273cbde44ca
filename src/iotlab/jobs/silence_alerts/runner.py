"""The silence-alert job on Kafka: run it bounded in this process, or submit it unbounded to the lab's
session cluster (optionally from a savepoint), and read its alerts back.

It reads topic T and writes ``T.alerts`` (JSON, key = device), ``T.dlq`` and ``T.late`` (original bytes
and headers saying why).
"""

from __future__ import annotations

import json
from typing import Optional

import pandas as pd
from pyflink.datastream import StreamExecutionEnvironment

from iotlab.core.offline import OFFLINE_GAP_MINUTES
from iotlab.core.settings import Settings, load_settings
from iotlab.core.topics import OutputTopics
from iotlab.flink.environments import stream_environment, stream_table_environment
from iotlab.flink.tables import RAW_SOURCE_TABLE, json_sink_statement, raw_source_statement, set_aside_sink_statement
from iotlab.jobs.silence_alerts import SILENCE_OUT_OF_ORDERNESS_MINUTES, build_graph
from iotlab.kafka import read_topic, recreate_topic


def output_topics(topic: str) -> list[str]:
    """Where the job writes: alerts, dead letters and late readings."""
    out = OutputTopics(topic)
    return [out.alerts, out.dead_letter, out.late]


def build(
    env: StreamExecutionEnvironment, topic: str, bounded: bool, gap_minutes: int = OFFLINE_GAP_MINUTES,
    out_of_orderness_minutes: int = SILENCE_OUT_OF_ORDERNESS_MINUTES, settings: Optional[Settings] = None,
) -> None:
    """Add the job (source, validation, detector, three sinks) to ``env``; run it with ``env.execute``."""
    settings = settings or load_settings()
    tables = stream_table_environment(env)
    tables.execute_sql(raw_source_statement(topic, settings, bounded=bounded, group_id="iotlab-silence"))
    alerts_out, dead_letters_out, late_out = output_topics(topic)
    tables.execute_sql(json_sink_statement("alert_sink", "device_id STRING, silent_since STRING, alert_at STRING",
                                           alerts_out, settings))
    tables.execute_sql(set_aside_sink_statement("dead_letter_sink", dead_letters_out, settings))
    tables.execute_sql(set_aside_sink_statement("late_sink", late_out, settings))

    outputs = build_graph(tables.to_data_stream(tables.from_path(RAW_SOURCE_TABLE)), topic, gap_minutes,
                          out_of_orderness_minutes)

    sinks = tables.create_statement_set()
    sinks.add_insert("alert_sink", tables.from_data_stream(outputs.alerts))
    sinks.add_insert("dead_letter_sink", tables.from_data_stream(outputs.dead_letters))
    sinks.add_insert("late_sink", tables.from_data_stream(outputs.late))
    sinks.attach_as_datastream()


def prepare_topics(topic: str, settings: Optional[Settings] = None) -> None:
    """Empty output topics for a fresh run (one partition each: alerts keep their order)."""
    for name in output_topics(topic):
        recreate_topic(name, partitions=1, settings=settings)


def run(topic: str, gap_minutes: int = OFFLINE_GAP_MINUTES,
        out_of_orderness_minutes: int = SILENCE_OUT_OF_ORDERNESS_MINUTES,
        settings: Optional[Settings] = None) -> pd.DataFrame:
    """Run the job bounded, in this process, on fresh output topics; return the alerts."""
    prepare_topics(topic, settings)
    env = stream_environment(settings=settings)
    env.set_parallelism(1)
    build(env, topic, bounded=True, gap_minutes=gap_minutes, out_of_orderness_minutes=out_of_orderness_minutes,
          settings=settings)
    env.execute(f"silence alerts: {topic}")
    return read_alerts(topic, settings)


def submit(topic: str, savepoint_path: Optional[str] = None, gap_minutes: int = OFFLINE_GAP_MINUTES,
           out_of_orderness_minutes: int = SILENCE_OUT_OF_ORDERNESS_MINUTES, checkpoint_interval_ms: int = 2_000,
           settings: Optional[Settings] = None) -> str:
    """Start the job unbounded on the lab's session cluster (from a savepoint if given); return its job id."""
    options = {"execution.savepoint.path": savepoint_path} if savepoint_path else {}
    env = stream_environment(remote=True, settings=settings, checkpoint_interval_ms=checkpoint_interval_ms,
                             options=options)
    env.set_parallelism(1)
    build(env, topic, bounded=False, gap_minutes=gap_minutes, out_of_orderness_minutes=out_of_orderness_minutes,
          settings=settings)
    client = env.execute_async(f"silence alerts: {topic}")
    return str(client.get_job_id())


def read_alerts(topic: str, settings: Optional[Settings] = None) -> pd.DataFrame:
    """The alerts written so far, in the order written: device_id, silent_since, alert_at."""
    columns = ["device_id", "silent_since", "alert_at"]
    rows = [json.loads(message.value) for message in read_topic(OutputTopics(topic).alerts, settings)]
    return pd.DataFrame(rows, columns=columns)
