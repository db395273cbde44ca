"""Cassandra, the course's store: sessions, the query-first schema, writes and reads (cassandra-driver).

``schema.cql`` holds the tables (notebook 07 designs them); ``Store`` writes and queries them (notebook 08,
and the pipeline of notebook 09); ``writes`` holds the three ways to send rows, each counting failures.
"""

from iotlab.cassandra.buckets import DEVICE_BUCKETS, all_buckets, device_bucket
from iotlab.cassandra.dashboard import DASHBOARD_FILE, load_dashboard, render_query
from iotlab.cassandra.exports import (
    EXPORT_KINDS,
    alert_record,
    export_alerts,
    export_latest,
    export_windows,
    latest_record,
    window_record,
    write_export,
)
from iotlab.cassandra.reads import naive_time_columns, query_frame
from iotlab.cassandra.schema import (
    ALERTS_BY_DAY_TABLE,
    ALERTS_BY_DEVICE_TABLE,
    LATEST_READING_TABLE,
    SCHEMA_FILE,
    TABLES,
    WINDOWS_TABLE,
    course_keyspaces,
    create_schema,
    reset_course_keyspaces,
    schema_statements,
)
from iotlab.cassandra.session import (
    build_cluster,
    cassandra_session,
    closing_session,
    ensure_keyspace,
    session_on_node,
)
from iotlab.cassandra.store import (
    FLEET,
    Store,
    alert_ttl_s,
    alert_values,
    latest_reading_values,
    window_ttl_s,
    window_values,
)
from iotlab.cassandra.writes import (
    REFUSED_ERRORS,
    RETRYABLE_ERRORS,
    TTL_FLOOR_S,
    WriteFailed,
    WriteSummary,
    can_succeed_later,
    insert_rows,
    is_refused,
    prepare_idempotent,
    ttl_from_event_time,
    write_async,
    write_concurrently,
    write_one_by_one,
    write_partition_batches,
    write_statements_concurrently,
)

__all__ = [
    "REFUSED_ERRORS", "RETRYABLE_ERRORS", "can_succeed_later", "is_refused",
    "DEVICE_BUCKETS", "all_buckets", "device_bucket", "write_statements_concurrently",
    "TTL_FLOOR_S", "alert_ttl_s", "ttl_from_event_time", "window_ttl_s",
    "ALERTS_BY_DAY_TABLE", "ALERTS_BY_DEVICE_TABLE", "DASHBOARD_FILE", "EXPORT_KINDS", "FLEET", "LATEST_READING_TABLE",
    "SCHEMA_FILE", "Store", "TABLES", "WINDOWS_TABLE", "WriteFailed", "WriteSummary", "alert_record", "alert_values",
    "build_cluster", "cassandra_session", "closing_session", "course_keyspaces", "create_schema", "ensure_keyspace",
    "session_on_node",
    "export_alerts", "export_latest", "export_windows", "insert_rows", "latest_reading_values", "latest_record",
    "load_dashboard", "naive_time_columns", "prepare_idempotent", "query_frame", "render_query",
    "reset_course_keyspaces",
    "schema_statements", "window_record", "window_values", "write_async", "write_concurrently", "write_export",
    "write_one_by_one", "write_partition_batches",
]
