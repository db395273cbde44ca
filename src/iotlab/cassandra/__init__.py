"""Cassandra, the course's store: sessions, the query-first schema, writes and reads (cassandra-driver).

``schema.cql`` holds the tables (notebook 07 designs them); ``Store`` writes and queries them (notebook 08,
and the pipeline of notebook 09); ``writes`` holds the three ways to send rows, each counting failures.
"""

from iotlab.cassandra.reads import query_frame
from iotlab.cassandra.schema import (
    ALERTS_BY_DAY_TABLE,
    ALERTS_BY_DEVICE_TABLE,
    LATEST_READING_TABLE,
    TABLES,
    WINDOWS_TABLE,
    course_keyspaces,
    create_schema,
    reset_course_keyspaces,
    schema_statements,
)
from iotlab.cassandra.session import build_cluster, cassandra_session, ensure_keyspace
from iotlab.cassandra.store import (
    FLEET,
    Store,
    alert_values,
    event_micros,
    latest_reading_values,
    moment,
    window_values,
)
from iotlab.cassandra.writes import (
    WriteFailed,
    WriteSummary,
    insert_rows,
    prepare_idempotent,
    write_async,
    write_concurrently,
    write_one_by_one,
    write_partition_batches,
)

__all__ = [
    "ALERTS_BY_DAY_TABLE", "ALERTS_BY_DEVICE_TABLE", "FLEET", "LATEST_READING_TABLE", "Store", "TABLES",
    "WINDOWS_TABLE", "WriteFailed", "WriteSummary", "alert_values", "build_cluster", "cassandra_session",
    "course_keyspaces", "create_schema", "ensure_keyspace", "event_micros", "insert_rows", "latest_reading_values",
    "moment",
    "prepare_idempotent", "query_frame", "reset_course_keyspaces", "schema_statements", "window_values",
    "write_async", "write_concurrently", "write_one_by_one", "write_partition_batches",
]
