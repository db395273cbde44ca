"""The pipeline on Kafka and Cassandra: run it bounded in this process, or start it unbounded on the lab's
session cluster (optionally from a savepoint), and account for what it wrote.

Topic T in, and out:
- Cassandra, keyspace K: ``windows_by_device_day``, ``latest_reading_by_fleet``, ``alerts_by_day`` and
  ``alerts_by_device_day`` (``iotlab.cassandra``), written by ``cassandra_writer``;
- Kafka: ``T.alerts`` (JSON, key = device; **exactly-once**: written in Kafka transactions that commit with
  each checkpoint, so a consumer reading ``read_committed`` sees every alert once, even after a crash),
  ``T.dlq`` and ``T.late`` (original bytes and the reason in headers; at-least-once, like the window job).

The job: source (``window_aggregate.sql.source_statement``: event time, a watermark of bounded out-of-orderness per
partition, emitted every ``WATERMARK_INTERVAL_MS``) → ``graph.graph_statements`` → ``pipeline_outputs``, one stream
split by kind: offline candidates through ``silences`` (the end of an input is not a silence); the store rows to
Python's Cassandra writer; alerts (the detectors' and the confirmed silences), dead letters and late readings to
Kafka. Checkpoints are on (every ``checkpoint_interval_ms``): after a failure Flink restores the last one, the Kafka
source rewinds to its offsets, and the rows after it are computed and written again, identical.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pyflink.datastream import AsyncFunction, StreamExecutionEnvironment

from iotlab.cassandra import ALERTS_BY_DEVICE_TABLE, LATEST_READING_TABLE, WINDOWS_TABLE, closing_session
from iotlab.cassandra.schema import create_schema, empty_tables
from iotlab.core.offline import OFFLINE_GAP_MINUTES
from iotlab.core.paths import state_dir
from iotlab.core.settings import Settings, load_settings
from iotlab.core.topics import DLQ_REASON, DLQ_STORE_KIND, OutputTopics
from iotlab.core.windows import OUT_OF_ORDERNESS_MINUTES
from iotlab.flink.environments import stream_environment, stream_table_environment
from iotlab.flink.functions import function_statements
from iotlab.flink.tables import RAW_SOURCE_TABLE, kafka_options, set_aside_sink_statement, with_restored_watermark
from iotlab.jobs.anomalies.silences import confirm_silences
from iotlab.jobs.pipeline.cassandra_writer import write_to_cassandra
from iotlab.jobs.pipeline.graph import DEAD_LETTER, LATE, SILENCE, STORE_KINDS, graph_statements
from iotlab.jobs.window_aggregate.sql import FAST_AGGREGATION, ON_PERIODIC, source_statement
from iotlab.kafka import recreate_topic, topic_size

JOB_NAME_PREFIX = "iotlab pipeline"
KAFKA_TABLE = "kafka_readings"  # the source table; the graph reads it as raw_readings (RAW_SOURCE_TABLE)
# Python operators hand records back in bundles; a bundle also ends after this long, which bounds how long a
# closed window waits in Python before its write starts.
LOW_LATENCY = {"python.fn-execution.bundle.time": "50", "python.fn-execution.bundle.size": "1000"}
WATERMARK_INTERVAL_MS = 200  # how often the source emits its watermark (Flink's default; see `build`)
# An alert's columns for ``T.alerts``, read back from its store row (JSON in the data contract's shape).
ALERT_FROM_ROW = ("device_id, device_id, JSON_VALUE(`row`, '$.kind'), JSON_VALUE(`row`, '$.quantity'), "
                  "JSON_VALUE(`row`, '$.alert_at'), "
                  "JSON_VALUE(`row`, '$.start'), JSON_VALUE(`row`, '$.end'), "
                  "JSON_VALUE(`row`, '$.score' RETURNING DOUBLE), JSON_QUERY(`row`, '$.details')")
ALERT_COLUMNS_SQL = ("device_id STRING, kind STRING, quantity STRING, alert_at STRING, `start` STRING, `end` STRING, "
                     "score DOUBLE, details STRING")


def job_name(topic: str, keyspace: str) -> str:
    """The name the job carries in the Web UI, and by which ``iotlab pipeline status/stop`` find it."""
    return f"{JOB_NAME_PREFIX}: {topic} -> {keyspace}"


def consumer_group(topic: str) -> str:
    """The Kafka consumer group the job's source commits its offsets under (on each completed checkpoint)."""
    return f"iotlab-pipeline-{topic}"


def alert_sink_statement(topic: str, settings: Settings) -> str:
    """``T.alerts`` as an exactly-once sink: records go out in a Kafka transaction per checkpoint.

    The transaction timeout must stay below the broker's ``transaction.max.timeout.ms`` (15 minutes by
    default); the connector's own default, one hour, is refused by a default broker.
    """
    exactly_once = (", 'sink.delivery-guarantee' = 'exactly-once', "
                    f"'sink.transactional-id-prefix' = 'iotlab-pipeline-{topic}', "
                    "'properties.transaction.timeout.ms' = '600000', "
                    "'format' = 'json', 'key.format' = 'raw', 'key.fields' = 'device_key', "
                    "'value.fields-include' = 'EXCEPT_KEY'")
    return f"""CREATE TEMPORARY TABLE alert_sink (
  `device_key` STRING, {ALERT_COLUMNS_SQL}
) WITH ({kafka_options(OutputTopics(topic).alerts, settings, exactly_once)})"""


def build(env: StreamExecutionEnvironment, topic: str, keyspace: str, bounded: bool,
          out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES, gap_minutes: int = OFFLINE_GAP_MINUTES,
          settings: Optional[Settings] = None, writer: Optional[AsyncFunction] = None,
          object_reuse: bool = True) -> None:
    """Add the whole pipeline to ``env``; run it with ``env.execute`` (or ``execute_async``).

    ``writer`` replaces the Cassandra writer (an ``AsyncFunction`` taking store rows), e.g. with one a
    learner wrote. ``object_reuse=False`` turns Flink's copies between chained operators back on (notebook 12
    measures what they cost)."""
    settings = settings or load_settings()
    # Operators hand records on without copying them (Flink SQL's operators are written for that). This job runs
    # from the DataStream environment, which does not read the table config's "pipeline.object-reuse"
    # (FAST_AGGREGATION): without this line every record was copied at each fan-out of the graph (a profile
    # showed CopyingBroadcastingOutputCollector), a quarter of the run time.
    if object_reuse:
        env.get_config().enable_object_reuse()
    else:
        env.get_config().disable_object_reuse()
    # Watermarks every WATERMARK_INTERVAL_MS (the source's ON_PERIODIC), not after every record: each watermark
    # goes through every operator, and in the detectors' OVER aggregate it fires a timer for every device that
    # holds readings, which scans ALL the readings that device holds to find those the watermark passed (Flink's
    # AbstractRowTimeUnboundedPrecedingOver.onTimer). Every 200 ms (Flink's default) instead of 50 ms: warm bounded
    # runs of 1M readings, side by side in one process, 48-52k -> 56-61k readings/s (README). No reading is late
    # by chance as long as the stream's disorder stays within the bound (the course's streams: a rarer watermark is
    # never ahead of a frequent one); a window closes at most this much later.
    env.get_config().set_auto_watermark_interval(WATERMARK_INTERVAL_MS)
    tables = stream_table_environment(env)
    for key, value in {**FAST_AGGREGATION, **LOW_LATENCY, "pipeline.object-reuse": str(object_reuse).lower()}.items():
        tables.get_config().set(key, value)
    for statement in function_statements():
        tables.execute_sql(statement)
    tables.execute_sql(source_statement(topic, settings, bounded=bounded, group_id=consumer_group(topic),
                                        out_of_orderness_minutes=out_of_orderness_minutes, watermarks=ON_PERIODIC,
                                        table=KAFKA_TABLE))
    # The graph reads raw_readings: the Kafka table with its watermark kept across restores (late readings after a
    # restore go to T.late instead of being dropped by the restored window operator: see with_restored_watermark).
    with_restored_watermark(tables, KAFKA_TABLE, RAW_SOURCE_TABLE)
    outputs = OutputTopics(topic)
    tables.execute_sql(alert_sink_statement(topic, settings))
    tables.execute_sql(set_aside_sink_statement("dead_letter_sink", outputs.dead_letter, settings))
    tables.execute_sql(set_aside_sink_statement("late_sink", outputs.late, settings))
    tables.execute_sql(set_aside_sink_statement("sink_dead_letter_sink", outputs.sink_dead_letter, settings))
    tables.execute_sql("CREATE TEMPORARY TABLE written_sink (kind STRING) WITH ('connector' = 'blackhole')")
    for statement in graph_statements(topic, gap_minutes):
        tables.execute_sql(statement)

    # Plan the whole SQL graph ONCE: one conversion to a DataStream. Everything after it starts from that stream,
    # so the planner never goes back to the Kafka source (each conversion or statement set is planned on its own).
    outputs = tables.to_data_stream(tables.from_path("pipeline_outputs"))
    tables.create_temporary_view("planned_outputs", tables.from_data_stream(outputs))
    # Offline candidates wait in Python for the watermark that decides them (``silences``). They are taken from
    # the DataStream itself: a table made with ``from_data_stream`` (and no watermark in its schema) does not pass
    # the stream's watermarks on, and the candidates' timers would never fire.
    candidates = outputs.filter(lambda row: row.kind == SILENCE).name("offline candidates")
    tables.create_temporary_view("confirmed_silences", tables.from_data_stream(confirm_silences(candidates)))
    store_kinds = ", ".join(f"'{kind}'" for kind in STORE_KINDS)
    tables.create_temporary_view("stored_rows", tables.sql_query(
        f"SELECT kind, device_id, `row` FROM planned_outputs WHERE kind IN ({store_kinds}) "
        "UNION ALL SELECT kind, device_id, `row` FROM confirmed_silences"))
    written = write_to_cassandra(tables.to_data_stream(tables.from_path("stored_rows")), keyspace, writer)
    tables.create_temporary_view("outcomes", tables.from_data_stream(written))
    sinks = tables.create_statement_set()
    sinks.add_insert_sql("INSERT INTO written_sink SELECT kind FROM outcomes WHERE error IS NULL")
    # Rows Cassandra refused: the row as it was (contract JSON), keyed by device, the error and the kind in headers.
    sinks.add_insert_sql(f"INSERT INTO sink_dead_letter_sink SELECT CAST(device_id AS BYTES), CAST(`row` AS BYTES), "
                         f"MAP['{DLQ_REASON}', CAST(error AS BYTES), '{DLQ_STORE_KIND}', CAST(kind AS BYTES)] "
                         "FROM outcomes WHERE error IS NOT NULL")
    sinks.add_insert_sql(f"INSERT INTO alert_sink SELECT {ALERT_FROM_ROW} FROM stored_rows WHERE kind = 'alert'")
    for kind, sink in ((DEAD_LETTER, "dead_letter_sink"), (LATE, "late_sink")):
        sinks.add_insert_sql(f"INSERT INTO {sink} SELECT record_key, `raw`, headers FROM planned_outputs "
                             f"WHERE kind = '{kind}'")
    sinks.attach_as_datastream()


def prepare(topic: str, keyspace: str, settings: Optional[Settings] = None) -> None:
    """A fresh start: empty output topics (alerts on one partition, in order) and empty tables in ``keyspace``."""
    outputs = OutputTopics(topic)
    recreate_topic(outputs.alerts, partitions=1, settings=settings)
    for name in (outputs.dead_letter, outputs.late, outputs.sink_dead_letter):
        recreate_topic(name, partitions=3, settings=settings)
    with closing_session(settings) as session:
        empty_tables(session, keyspace)


@dataclass
class PipelineSummary:
    """What one run read and wrote: every reading is valid or dead-lettered, every valid one in a window or late."""

    readings_in: int
    dead_lettered: int
    late: int
    windows: int
    aggregated: int  # readings counted in the windows
    alerts: int
    devices: int  # rows of the latest-reading table
    seconds: float  # the whole call: preparing topics and tables, planning, the job, counting
    job_seconds: float = 0.0  # the job's own run time (bounded runs): from its start to its last row written
    refused_rows: int = 0  # store rows Cassandra refused, in T.sink-dlq

    @property
    def valid(self) -> int:
        return self.readings_in - self.dead_lettered

    def line(self) -> str:
        return (f"readings: {self.readings_in}, valid: {self.valid}, dead-lettered: {self.dead_lettered}, "
                f"late: {self.late}, windows: {self.windows}, alerts: {self.alerts}, "
                f"devices: {self.devices}, rows refused by Cassandra: {self.refused_rows} (in {self.seconds:.1f} s)")


def summarize(topic: str, keyspace: str, seconds: float, settings: Optional[Settings] = None) -> PipelineSummary:
    """Count what the pipeline wrote: Kafka's set-aside topics, and the rows in Cassandra."""
    outputs = OutputTopics(topic)
    with closing_session(settings) as session:
        windows = list(session.execute(f"SELECT readings FROM {keyspace}.{WINDOWS_TABLE}"))
        alerts = session.execute(f"SELECT COUNT(*) FROM {keyspace}.{ALERTS_BY_DEVICE_TABLE}").one()[0]
        devices = session.execute(f"SELECT COUNT(*) FROM {keyspace}.{LATEST_READING_TABLE}").one()[0]
    return PipelineSummary(readings_in=topic_size(topic, settings),
                           dead_lettered=topic_size(outputs.dead_letter, settings),
                           late=topic_size(outputs.late, settings), windows=len(windows),
                           aggregated=sum(row.readings for row in windows), alerts=alerts, devices=devices,
                           seconds=seconds, refused_rows=topic_size(outputs.sink_dead_letter, settings))


def run(topic: str, keyspace: str, out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES,
        gap_minutes: int = OFFLINE_GAP_MINUTES, settings: Optional[Settings] = None,
        writer: Optional[AsyncFunction] = None, parallelism: int = 1) -> PipelineSummary:
    """Run the pipeline bounded (``topic`` from its first offset to its current end), in this process, into
    fresh output topics and empty tables; return the summary.

    ``parallelism`` subtasks per operator: the source subtasks share the topic's partitions, and each writer
    subtask is a Python worker with its own Cassandra session."""
    started = time.monotonic()
    prepare(topic, keyspace, settings)
    # Checkpoints every 2 s: the alerts' Kafka transaction commits with the final checkpoint of the bounded run.
    env = stream_environment(settings=settings, checkpoint_interval_ms=2_000)
    env.set_parallelism(parallelism)
    build(env, topic, keyspace, bounded=True, out_of_orderness_minutes=out_of_orderness_minutes,
          gap_minutes=gap_minutes, settings=settings, writer=writer)
    result = env.execute(job_name(topic, keyspace))
    summary = summarize(topic, keyspace, time.monotonic() - started, settings)
    summary.job_seconds = result.get_net_runtime() / 1000
    return summary


# The unbounded pipeline is a service, restarted for as long as a failure lasts. After its TaskManager dies, the
# first restarts may find no slot yet (the replacement is still registering); while Cassandra is down, each
# restart fails again in the writer. So it backs off 1, 2, 4, 8, 16 s, then every 30 s, up to 30 restarts in a row
# (over ten minutes of outage); once it has run an hour without failing, the back-off starts again from 1 s.
# Checkpoints are retained when the job is cancelled (they always are when it fails): a job started again with
# ``--from-checkpoint latest`` resumes from the newest one, its Kafka offsets, its windows and its detectors' state.
SERVICE_RESTARTS = {
    "restart-strategy.type": "exponential-delay",
    "restart-strategy.exponential-delay.initial-backoff": "1 s",
    "restart-strategy.exponential-delay.backoff-multiplier": "2.0",
    "restart-strategy.exponential-delay.max-backoff": "30 s",
    "restart-strategy.exponential-delay.attempts-before-reset-backoff": "30",
    "restart-strategy.exponential-delay.reset-backoff-threshold": "1 h",
    "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
    "execution.checkpointing.num-retained": "2",
}


def _jobs_file() -> Path:
    """The ids of every pipeline job started from this project, by name (the session cluster forgets a finished
    job after an hour, and all of them when it restarts; the retained checkpoints stay)."""
    return state_dir() / "flink" / "pipeline-jobs.jsonl"


def _remember_job(name: str, job_id: str, topic: str, keyspace: str, out_of_orderness_minutes: int) -> None:
    path = _jobs_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as jobs:
        jobs.write(json.dumps({"name": name, "job_id": job_id, "topic": topic, "keyspace": keyspace,
                               "out_of_orderness_minutes": out_of_orderness_minutes}) + "\n")


def started_job(job_id: str) -> Optional[dict]:
    """How a pipeline job was started from this project (name, topic, keyspace, out_of_orderness_minutes), or
    None for a job this project did not start."""
    path = _jobs_file()
    if not path.exists():
        return None
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return next((entry for entry in reversed(entries) if entry["job_id"] == job_id and "topic" in entry), None)


def resume_from_latest_checkpoint(topic: str, keyspace: str,
                                  out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES) -> tuple[str, Path]:
    """Start the pipeline again from its newest retained checkpoint (offsets, windows, detector state; the tables
    and ``T.alerts`` as they are); return the new job id and the checkpoint. LookupError without one."""
    found = latest_checkpoint(topic, keyspace)
    if found is None:
        raise LookupError(f"no retained checkpoint of the pipeline {topic} -> {keyspace}")
    return submit(topic, keyspace, savepoint_path=str(found), out_of_orderness_minutes=out_of_orderness_minutes), found


def latest_checkpoint(topic: str, keyspace: str) -> Optional[Path]:
    """The newest completed, retained checkpoint of this pipeline (topic and keyspace), or None.

    Flink writes checkpoint N of job J to ``<checkpoints dir>/J/chk-N/``; its ``_metadata`` file is written last, so a
    folder with one is complete. Only jobs of this pipeline count (another pipeline's state would not fit)."""
    path = _jobs_file()
    if not path.exists():
        return None
    name = job_name(topic, keyspace)
    ids = {entry["job_id"] for entry in map(json.loads, path.read_text(encoding="utf-8").splitlines())
           if entry["name"] == name}
    folder = state_dir() / "flink" / "checkpoints"
    found = [metadata.parent for job_id in ids for metadata in (folder / job_id).glob("chk-*/_metadata")]
    return max(found, key=lambda chk: chk.stat().st_mtime, default=None)


def submit(topic: str, keyspace: str, savepoint_path: Optional[str] = None,
           out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES, gap_minutes: int = OFFLINE_GAP_MINUTES,
           checkpoint_interval_ms: int = 2_000, fresh: bool = True, settings: Optional[Settings] = None,
           writer: Optional[AsyncFunction] = None, options: Optional[dict[str, str]] = None,
           object_reuse: bool = True) -> str:
    """Start the pipeline unbounded on the lab's session cluster; return its job id.

    ``options``: Flink settings for this job only (``{"python.fn-execution.bundle.size": "100"}``), over the
    course's; ``object_reuse``: see ``build``.

    ``fresh`` empties the output topics and tables first; a resume from ``savepoint_path`` (a savepoint, or a
    retained checkpoint: ``latest_checkpoint``) keeps them: the tables then hold the earlier run's rows, which the
    resumed job continues, and ``T.alerts`` keeps the alerts already delivered."""
    if fresh and savepoint_path is None:
        prepare(topic, keyspace, settings)
    else:
        with closing_session(settings) as session:
            create_schema(session, keyspace)
    job_options = {**SERVICE_RESTARTS, **(options or {})}
    if savepoint_path:
        job_options["execution.savepoint.path"] = savepoint_path
    env = stream_environment(remote=True, settings=settings, checkpoint_interval_ms=checkpoint_interval_ms,
                             options=job_options)
    env.set_parallelism(1)
    build(env, topic, keyspace, bounded=False, out_of_orderness_minutes=out_of_orderness_minutes,
          gap_minutes=gap_minutes, settings=settings, writer=writer, object_reuse=object_reuse)
    client = env.execute_async(job_name(topic, keyspace))
    job_id = str(client.get_job_id())
    _remember_job(job_name(topic, keyspace), job_id, topic, keyspace, out_of_orderness_minutes)
    return job_id
