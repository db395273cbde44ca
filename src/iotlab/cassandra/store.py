"""The course's store: write window aggregates, alerts and latest readings into the tables of
``schema.cql``, and answer the five design queries from them.

One ``Store`` per session and keyspace; it prepares its statements once (after ``create_schema``). Writes
are idempotent upserts with deterministic primary keys, sent concurrently, and return a ``WriteSummary``
(failures counted, never swallowed). Reads return pandas DataFrames; a time range is read one day bucket
at a time, since each bucket is its own partition.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any, Iterable, Optional

import pandas as pd
from cassandra.cluster import Session
from cassandra.query import BatchStatement, BatchType, SimpleStatement

from iotlab.cassandra.buckets import all_buckets, device_bucket
from iotlab.cassandra.schema import (
    ALERTS_BY_DAY_TABLE,
    ALERTS_BY_DEVICE_TABLE,
    COURSE_KEYSPACE_PREFIX,
    LATEST_READING_TABLE,
    WINDOWS_TABLE,
    check_keyspace_name,
    schema_statements,
)
from iotlab.cassandra.writes import (
    DEFAULT_CONCURRENCY,
    WriteSummary,
    prepare_idempotent,
    ttl_from_event_time,
    write_concurrently,
    write_partition_batches,
    write_statements_concurrently,
)
from iotlab.core.timestamps import Moment, as_utc, epoch_micros, epoch_ms, utc_day, utc_days

FLEET = "fleet"  # the lab has one fleet; latest_reading_by_fleet splits it in device buckets
PAGE_SIZE = 1000  # rows per page when reading: the driver fetches the next page as the loop reaches it


def table_retention_s(table: str) -> Optional[int]:
    """A table's ``default_time_to_live`` in ``schema.cql`` (seconds), or None when its rows never expire.

    Read from the schema, so the retention has one definition: the table's own, which learners read in CQL.
    """
    for statement in schema_statements(COURSE_KEYSPACE_PREFIX):
        if re.search(rf"CREATE TABLE IF NOT EXISTS \w+\.{table} \(", statement):
            found = re.search(r"default_time_to_live\s*=\s*(\d+)", statement)
            return int(found.group(1)) if found else None
    raise ValueError(f"schema.cql has no table {table!r}")


WINDOW_RETENTION_S = table_retention_s(WINDOWS_TABLE)  # 90 days
ALERT_RETENTION_S = table_retention_s(ALERTS_BY_DAY_TABLE)  # 365 days, alerts_by_device_day's too


def window_ttl_s(window: dict, now_ms: Optional[int] = None, retention_s: int = WINDOW_RETENTION_S) -> int:
    """Seconds a window row should live: the windows' retention counted from the window's start (the moment that
    also picks its day bucket), not from the write (``ttl_from_event_time``)."""
    return ttl_from_event_time(epoch_ms(window["window_start"]), retention_s, now_ms)


def alert_ttl_s(alert: dict, now_ms: Optional[int] = None, retention_s: int = ALERT_RETENTION_S) -> int:
    """Seconds an alert row should live: the alerts' retention counted from ``alert_at`` (the moment that also
    picks its day bucket), not from the write (``ttl_from_event_time``)."""
    return ttl_from_event_time(epoch_ms(alert["alert_at"]), retention_s, now_ms)


WINDOW_COLUMNS = ["device_id", "day", "window_start", "window_end", "readings", "avg_temp", "min_temp", "max_temp",
                  "avg_humidity"]
ALERT_COLUMNS = ["device_id", "day", "alert_at", "kind", "quantity", "bucket", "started_at", "ended_at", "score",
                 "details"]  # both alert tables have these columns; only their primary keys differ


def window_values(window: dict, retention_s: int = WINDOW_RETENTION_S, now_ms: Optional[int] = None) -> tuple:
    """A window aggregate (the data contract's fields) as the values of a windows_by_device_day row, then its TTL
    (``USING TTL ?``): the retention counted from the window's start, not from the write (``window_ttl_s``)."""
    start = as_utc(window["window_start"])
    return (window["device_id"], utc_day(start), start, as_utc(window["window_end"]), int(window["count"]),
            float(window["avg_temp"]), float(window["min_temp"]), float(window["max_temp"]),
            float(window["avg_humidity"]), window_ttl_s(window, now_ms, retention_s))


def alert_values(alert: dict, retention_s: int = ALERT_RETENTION_S, now_ms: Optional[int] = None) -> tuple:
    """An alert (device_id, kind, alert_at, start, end, and optionally quantity, score and details) as the values
    of ``ALERT_COLUMNS``, for either alert table, then its TTL (``USING TTL ?``): the retention counted from
    ``alert_at``, not from the write (``alert_ttl_s``).

    An alert without a quantity (written before alerts had one) is about ``all``. ``details`` (the detector's
    parameters) is stored as JSON text with sorted keys, so the same alert always writes the same bytes.
    """
    alert_at = as_utc(alert["alert_at"])
    details = alert.get("details")
    return (alert["device_id"], utc_day(alert_at), alert_at, alert["kind"], alert.get("quantity") or "all",
            device_bucket(alert["device_id"]), as_utc(alert["start"]), as_utc(alert["end"]),
            None if alert.get("score") is None else float(alert["score"]),
            None if details is None else json.dumps(details, sort_keys=True), alert_ttl_s(alert, now_ms, retention_s))


def latest_reading_values(reading: dict) -> tuple:
    """A reading (the data contract) as the values of the fleet's latest-reading upsert, its event time in
    microseconds last (``USING TIMESTAMP``)."""
    at = as_utc(reading["timestamp"])
    return (FLEET, device_bucket(reading["device_id"]), reading["device_id"], at, float(reading["temperature"]),
            float(reading["humidity"]), reading.get("status"), epoch_micros(at))


def _plain(value: Any) -> Any:
    """numpy scalars (as pandas hands them out) as plain Python values, which the driver expects."""
    return value.item() if hasattr(value, "item") else value


class Store:
    """The course's tables in one keyspace, behind the writes and the queries the course needs.

    Its prepared statements (``insert_window``, ``insert_alert_by_day``, ``insert_alert_by_device``,
    ``upsert_latest``) are public: notebook 08 and the bench send them in other ways. An alert goes to both alert
    tables in one LOGGED batch (``alert_batch``).
    """

    def __init__(self, session: Session, keyspace: str, window_retention_s: int = WINDOW_RETENTION_S,
                 alert_retention_s: int = ALERT_RETENTION_S) -> None:
        self.session = session
        self.keyspace = check_keyspace_name(keyspace)
        # How long windows and alerts are kept, counted from their event time: each write's TTL (``USING TTL ?``,
        # the last value of window_values and alert_values) is what is left of it, so a replay of old data does not
        # live the whole retention again from the replay (the tables' default_time_to_live would count from it).
        self.window_retention_s = window_retention_s
        self.alert_retention_s = alert_retention_s
        ks = self.keyspace
        self.insert_window = prepare_idempotent(session, (
            f"INSERT INTO {ks}.{WINDOWS_TABLE} ({', '.join(WINDOW_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(WINDOW_COLUMNS))}) USING TTL ?"))
        self.insert_alert_by_day = prepare_idempotent(session, (
            f"INSERT INTO {ks}.{ALERTS_BY_DAY_TABLE} ({', '.join(ALERT_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(ALERT_COLUMNS))}) USING TTL ?"))
        self.insert_alert_by_device = prepare_idempotent(session, (
            f"INSERT INTO {ks}.{ALERTS_BY_DEVICE_TABLE} ({', '.join(ALERT_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(ALERT_COLUMNS))}) USING TTL ?"))
        # The reading's own time is the write's timestamp: of two writes for a device, the one with the later
        # event time wins, in whatever order they reach the node.
        self.upsert_latest = prepare_idempotent(session, (
            f"INSERT INTO {ks}.{LATEST_READING_TABLE} (fleet, bucket, device_id, reading_at, temperature, humidity, "
            "status) VALUES (?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?"))

    # ------------------------------------------------------------------ writes

    def write_windows(self, windows: Iterable[dict], concurrency: int = DEFAULT_CONCURRENCY) -> WriteSummary:
        """Upsert window aggregates (dicts in the data contract, e.g. ``iotlab aggregate``'s lines)."""
        rows = [tuple(_plain(v) for v in window_values(window, self.window_retention_s)) for window in windows]
        return write_concurrently(self.session, self.insert_window, rows, concurrency)

    def alert_batch(self, alert: dict) -> BatchStatement:
        """One alert's two upserts (by day, by device and day) in a LOGGED batch: the coordinator writes the batch
        to its batch log first, so if it fails half way the other half is replayed, and the two tables, which must
        agree, end up both written. It costs an extra write to the batch log: it buys atomicity, not speed."""
        values = alert_values(alert, self.alert_retention_s)
        batch = BatchStatement(batch_type=BatchType.LOGGED)
        batch.add(self.insert_alert_by_day, values)
        batch.add(self.insert_alert_by_device, values)
        batch.is_idempotent = True  # two idempotent upserts: safe to send again
        return batch

    def write_alerts(self, alerts: Iterable[dict], concurrency: int = DEFAULT_CONCURRENCY) -> WriteSummary:
        """Upsert alerts into both alert tables, one LOGGED batch per alert (``alert_batch``)."""
        return write_statements_concurrently(self.session, [self.alert_batch(alert) for alert in alerts],
                                             concurrency)

    def write_latest_readings(self, readings: Iterable[dict], concurrency: int = DEFAULT_CONCURRENCY) -> WriteSummary:
        """Upsert readings (the data contract) into each device's row of the fleet's latest readings; the newest
        event time wins, whatever the order of the writes. The rows of one device bucket share a partition, so
        they go in unlogged batches, one partition per batch."""
        rows = [latest_reading_values(reading) for reading in readings]
        return write_partition_batches(self.session, self.upsert_latest, rows,
                                       partition_of=lambda values: values[:2], concurrency=concurrency)

    # ------------------------------------------------------------------ reads

    def frame(self, cql: str, parameters: Optional[tuple] = None) -> pd.DataFrame:
        """Run a query, page by page, into a DataFrame (timestamps as aware UTC pandas times)."""
        result = self.session.execute(SimpleStatement(cql, fetch_size=PAGE_SIZE), parameters)
        frame = pd.DataFrame(list(result), columns=result.column_names)
        for column in frame.columns:
            if column in ("window_start", "window_end", "alert_at", "started_at", "ended_at", "reading_at"):
                frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def device_windows(self, device_id: str, start: Moment, end: Moment) -> pd.DataFrame:
        """Q2: a device's windows with start in [start, end), oldest first: one query per day bucket."""
        begin, finish = as_utc(start), as_utc(end)
        frames = [self.frame(f"SELECT * FROM {self.keyspace}.{WINDOWS_TABLE} WHERE device_id = %s AND day = %s "
                             "AND window_start >= %s AND window_start < %s", (device_id, day, begin, finish))
                  for day in utc_days(begin, finish)]
        return _concat_sorted(frames, "window_start")

    def latest_windows(self, device_id: str, count: int, until: Moment, max_days: int = 31) -> pd.DataFrame:
        """Q1: a device's ``count`` newest windows starting before ``until``, newest first, walking back one day
        bucket at a time (at most ``max_days``)."""
        limit = as_utc(until)
        found: list[pd.DataFrame] = []
        day = utc_day(limit - timedelta(microseconds=1))
        for _ in range(max_days):
            missing = count - sum(len(frame) for frame in found)
            if missing <= 0:
                break
            found.append(self.frame(
                f"SELECT * FROM {self.keyspace}.{WINDOWS_TABLE} WHERE device_id = %s AND day = %s "
                f"AND window_start < %s LIMIT {int(missing)}", (device_id, day, limit)))
            day -= timedelta(days=1)
        return _concat_sorted(found, "window_start", newest_first=True).head(count)

    def fleet_alerts(self, day: date, kind: Optional[str] = None) -> pd.DataFrame:
        """Q3: the fleet's alerts of a UTC day, newest first; of one kind only with ``kind`` (the SAI index).
        One query per device bucket (each its own partition), merged."""
        cql = f"SELECT * FROM {self.keyspace}.{ALERTS_BY_DAY_TABLE} WHERE day = %s AND bucket = %s"
        frames = [self.frame(cql, (day, bucket)) if kind is None else self.frame(cql + " AND kind = %s",
                                                                                (day, bucket, kind))
                  for bucket in all_buckets()]
        found = _concat_sorted(frames, "alert_at", newest_first=True)
        if found.empty:
            return found
        return found.sort_values(["alert_at", "device_id", "kind", "quantity"], ascending=[False, True, True, True],
                                 kind="stable").reset_index(drop=True)  # the table's clustering order

    def device_alerts(self, device_id: str, start: Moment, end: Moment) -> pd.DataFrame:
        """Q4: a device's alerts raised in [start, end), newest first."""
        begin, finish = as_utc(start), as_utc(end)
        frames = [self.frame(f"SELECT * FROM {self.keyspace}.{ALERTS_BY_DEVICE_TABLE} WHERE device_id = %s "
                             "AND day = %s AND alert_at >= %s AND alert_at < %s", (device_id, day, begin, finish))
                  for day in utc_days(begin, finish)]
        return _concat_sorted(frames, "alert_at", newest_first=True)

    def latest_readings(self) -> pd.DataFrame:
        """Q5: the latest reading of every device (one partition per device bucket), by device."""
        cql = f"SELECT * FROM {self.keyspace}.{LATEST_READING_TABLE} WHERE fleet = %s AND bucket = %s"
        frames = [self.frame(cql, (FLEET, bucket)) for bucket in all_buckets()]
        return _concat_sorted(frames, "device_id")


def _concat_sorted(frames: list[pd.DataFrame], column: str, newest_first: bool = False) -> pd.DataFrame:
    """Frames from several day buckets as one, sorted by ``column``, with a fresh index."""
    non_empty = [frame for frame in frames if not frame.empty]
    if not non_empty:
        return frames[0] if frames else pd.DataFrame()
    return pd.concat(non_empty).sort_values(column, ascending=not newest_first).reset_index(drop=True)
