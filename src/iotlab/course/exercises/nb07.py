"""Notebook 07 (Cassandra data modeling): sizing a partition, a table designed for a query, and a query an
SAI index serves. The checks run against the lab's real node, in the scratch keyspace ``iotlab_check_nb07``."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Callable

import pandas as pd
from cassandra import InvalidRequest

from iotlab.course.checks import (
    CheckResult,
    allows_filtering,
    check_cases,
    error_reason,
    failed,
    is_skipped,
    passed,
    skipped,
)

CHECK_KEYSPACE = "iotlab_check_nb07"

# ----------------------------------------------------------------------------- 07.1 partition sizing

BUCKETS_HOURS = {"hour": 1, "day": 24, "week": 24 * 7, "month": 24 * 30, "year": 24 * 365}


def largest_bucket(interval_s: int, row_bytes: int, limit_bytes: int) -> str:
    """Reference for 07.1: the longest time bucket whose partition (one row per ``interval_s``) stays within
    ``limit_bytes``; "none" when even an hour is too much."""
    best = "none"
    for bucket, hours in BUCKETS_HOURS.items():  # shortest first
        if (hours * 3600 // interval_s) * row_bytes <= limit_bytes:
            best = bucket
    return best


SIZING_CASES = [
    ("5-minute windows, 100 B rows, 10 MB", (300, 100, 10_000_000)),
    ("one reading a second, 60 B rows, 10 MB", (1, 60, 10_000_000)),
    ("one reading a minute, 60 B rows, 10 MB", (60, 60, 10_000_000)),
    ("exactly at the limit: a day of 1 KB rows each minute is 1,440,000 B", (60, 1000, 1_440_000)),
    ("a byte over the limit", (60, 1000, 1_439_999)),
    ("too much even for an hour", (1, 10_000, 1_000_000)),
]


def check_largest_bucket(function: Callable[[int, int, int], str]) -> CheckResult:
    return check_cases(
        "largest_bucket", function, largest_bucket, SIZING_CASES,
        hint="for each bucket from the shortest: rows = hours * 3600 // interval_s; bytes = rows * row_bytes; keep "
             "the last bucket with bytes <= limit_bytes (a partition exactly at the limit is fine); 'none' if even "
             "an hour is over",
        probe_args=(60, 1, 1),
    )


# ----------------------------------------------------------------------------- 07.2 a table for a query

READINGS_TABLE = "readings_by_device_day"
READINGS_QUERY = (f"SELECT reading_at, temperature FROM {CHECK_KEYSPACE}.{READINGS_TABLE} "
                  "WHERE device_id = %s AND day = %s AND reading_at >= %s AND reading_at < %s")


def readings_table_cql(table: str) -> str:
    """Reference for 07.2: readings of a device, one partition per device and UTC day, newest first."""
    return f"""
CREATE TABLE {table} (
    device_id   text,
    day         date,
    reading_at  timestamp,
    temperature double,
    humidity    double,
    PRIMARY KEY ((device_id, day), reading_at)
) WITH CLUSTERING ORDER BY (reading_at DESC)"""


def _check_readings() -> pd.DataFrame:
    """Two days (across midnight UTC) of readings of three devices, every 2 minutes, in random order."""
    start = datetime(2025, 11, 5, 22, 0, tzinfo=timezone.utc)
    rows = [{"device_id": f"device-{device}", "reading_at": start + timedelta(minutes=2 * step),
             "temperature": round(20 + device + step / 100, 2), "humidity": 40.0}
            for device in range(1, 4) for step in range(0, 3 * 30)]  # 22:00 to 00:58
    random.Random(7).shuffle(rows)
    frame = pd.DataFrame(rows)
    frame["day"] = [moment.date() for moment in frame.reading_at]
    return frame


def _key_columns(session, table: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(partition key columns, [(clustering column, order)]) of a table, from the schema tables."""
    rows = list(session.execute("SELECT column_name, kind, position, clustering_order FROM system_schema.columns "
                                "WHERE keyspace_name = %s AND table_name = %s", (CHECK_KEYSPACE, table)))
    partition = [row.column_name for row in sorted(rows, key=lambda r: r.position) if row.kind == "partition_key"]
    clustering = [(row.column_name, row.clustering_order) for row in sorted(rows, key=lambda r: r.position)
                  if row.kind == "clustering"]
    return partition, clustering


def _create_learners_table(session, name: str, function: Callable[[str], str], table: str):
    """Create the learner's table afresh in the scratch keyspace: (a failed result or None, the partition key
    columns, the clustering columns with their order)."""
    from iotlab.cassandra import ensure_keyspace

    ensure_keyspace(session, CHECK_KEYSPACE)
    session.execute(f"DROP TABLE IF EXISTS {CHECK_KEYSPACE}.{table}", timeout=60)
    try:
        session.execute(function(f"{CHECK_KEYSPACE}.{table}"), timeout=60)
    except Exception as error:
        return failed(name, f"Cassandra refused the CREATE TABLE: {error_reason(error)}"), [], []
    return (None, *_key_columns(session, table))


def check_readings_table(function: Callable[[str], str]) -> CheckResult:
    """Check 07.2: create the learner's table in a scratch keyspace, load readings, run the query."""
    from iotlab.cassandra import closing_session, prepare_idempotent, write_concurrently

    name = "readings_table_cql"
    table = f"{CHECK_KEYSPACE}.{READINGS_TABLE}"
    if is_skipped(function, (table,)):
        return skipped(name)
    with closing_session() as session:
        refused, partition, clustering = _create_learners_table(session, name, function, READINGS_TABLE)
        if refused:
            return refused
        if partition == ["device_id"]:
            return failed(name, "the partition key is device_id alone: every reading a device ever sends lands in one "
                                "partition that grows forever. Hint: add the day to the partition key, "
                                "PRIMARY KEY ((device_id, day), ...)")
        if sorted(partition) != ["day", "device_id"]:
            return failed(name, f"the partition key is ({', '.join(partition)}): the query names one device and one "
                                "day, so that is one partition, PRIMARY KEY ((device_id, day), ...). (day alone would "
                                "put the whole fleet's day in one partition)")
        readings = _check_readings()
        try:
            insert = prepare_idempotent(session, f"INSERT INTO {table} (device_id, day, reading_at, temperature, "
                                                 "humidity) VALUES (?, ?, ?, ?, ?)")
        except Exception as error:
            return failed(name, f"cannot insert a reading: {error_reason(error)}. Hint: the columns are device_id "
                                "text, day date, reading_at timestamp, temperature double, humidity double")
        rows = readings[["device_id", "day", "reading_at", "temperature", "humidity"]].itertuples(index=False)
        loaded = write_concurrently(session, insert, [tuple(row) for row in rows])
        if loaded.failures:
            return failed(name, f"{loaded.failed} of {loaded.attempted} readings could not be written "
                                f"({loaded.failures[0][1]}). Hint: the columns are device_id text, day date, "
                                "reading_at timestamp, temperature double, humidity double")
        queries = [("device-2", "2025-11-05", "22:30", "23:30"), ("device-2", "2025-11-06", "00:00", "01:00"),
                   ("device-3", "2025-11-05", "22:00", "22:07")]
        for device, day, begin, end in queries:
            start = datetime.fromisoformat(f"{day}T{begin}:00+00:00")
            finish = datetime.fromisoformat(f"{day}T{end}:00+00:00")
            try:
                result = list(session.execute(READINGS_QUERY, (device, start.date(), start, finish)))
            except InvalidRequest as error:
                return failed(name, f"Cassandra cannot answer the query with this table: {error_reason(error)}. "
                                    f"Hint: the query names device_id and day (the partition key) and a range of "
                                    f"reading_at (a clustering column)")
            mine = readings[(readings.device_id == device) & (readings.reading_at >= start)
                            & (readings.reading_at < finish)].sort_values("reading_at", ascending=False)
            expected = list(zip(mine.reading_at, mine.temperature))
            actual = [(row.reading_at.replace(tzinfo=timezone.utc), row.temperature) for row in result]
            if sorted(actual) != sorted(expected):
                return failed(name, f"{device} {day} {begin}-{end}: {len(actual)} readings, expected {len(expected)}")
            if actual != expected:
                return failed(name, f"{device} {day} {begin}-{end}: the right readings, oldest first. Hint: "
                                    "WITH CLUSTERING ORDER BY (reading_at DESC) stores them newest first")
        return passed(name, f"partition key ({', '.join(partition)}), clustering {clustering}: {len(queries)} "
                            "range queries answered from one partition each, newest first")


# ----------------------------------------------------------------------------- 07.3 a query the SAI index serves


def alerts_of_kind_cql(table: str) -> str:
    """Reference for 07.3: the alerts of one UTC day, device bucket and kind, newest first (day, bucket and kind
    as %s)."""
    return f"SELECT alert_at, device_id, kind FROM {table} WHERE day = %s AND bucket = %s AND kind = %s"


def _refused_query_hint(cql: str) -> str:
    """What to change in a 07.3 query the server refused: its message says why; the hint says what to do."""
    if "ORDER BY" in cql.upper():
        return ("read the server's reason above, then drop the ORDER BY: a partition's rows come back in the "
                "table's clustering order, alert_at DESC, so they are already newest first")
    return "three %s placeholders, day, bucket, then kind: WHERE day = %s AND bucket = %s AND kind = %s"


def check_alerts_of_kind(function: Callable[[str], str]) -> CheckResult:
    """Check 07.3: run the learner's query on the store's alerts_by_day (SAI on kind) in a scratch keyspace."""
    from iotlab.cassandra import (
        ALERTS_BY_DAY_TABLE,
        TABLES,
        Store,
        all_buckets,
        closing_session,
        create_schema,
        device_bucket,
    )

    name = "alerts_of_kind_cql"
    table = f"{CHECK_KEYSPACE}.{ALERTS_BY_DAY_TABLE}"
    if is_skipped(function, (table,)):
        return skipped(name)
    cql = function(table)
    if allows_filtering(cql):
        return failed(name, "the query asks for ALLOW FILTERING: with the partition key (day, bucket) and the indexed "
                            "column (kind) Cassandra needs no filtering. Hint: WHERE day = %s AND bucket = %s AND "
                            "kind = %s")
    with closing_session() as session:
        create_schema(session, CHECK_KEYSPACE)
        for existing in TABLES:
            session.execute(f"TRUNCATE {CHECK_KEYSPACE}.{existing}", timeout=60)
        store = Store(session, CHECK_KEYSPACE)
        start = datetime(2025, 11, 5, 23, 0, tzinfo=timezone.utc)
        kinds = ["spike", "stuck", "silence", "drift"]
        alerts = [{"device_id": f"device-{n % 5:02d}", "kind": kinds[n % 4],
                   "alert_at": start + timedelta(minutes=7 * n), "start": start + timedelta(minutes=7 * n - 5),
                   "end": start + timedelta(minutes=7 * n)}
                  for n in range(40)]  # 23:00 to 03:33: two days
        store.write_alerts(alerts).raise_for_failures()
        for day, kind in [(start.date(), "spike"), ((start + timedelta(days=1)).date(), "stuck"),
                          (start.date(), "unknown")]:
            for bucket in all_buckets():
                try:
                    rows = list(session.execute(cql, (day, bucket, kind)))
                except Exception as error:
                    return failed(name, f"Cassandra refused the query: {error_reason(error)}. Hint: "
                                        f"{_refused_query_hint(cql)}")
                expected = sorted(((alert["alert_at"], alert["device_id"]) for alert in alerts
                                   if alert["alert_at"].date() == day and alert["kind"] == kind
                                   and device_bucket(alert["device_id"]) == bucket), reverse=True)
                actual = [(row.alert_at.replace(tzinfo=timezone.utc), row.device_id) for row in rows]
                if actual != expected:
                    return failed(name, f"{day}, bucket {bucket}, {kind}: got {len(actual)} alerts, expected "
                                        f"{len(expected)} (newest first). Hint: SELECT alert_at, device_id, kind FROM "
                                        "the table WHERE day = %s AND bucket = %s AND kind = %s")
        return passed(name, f"three (day, kind) queries, {len(all_buckets())} buckets each, answered from one "
                            "partition each, the index picking the kind")


# ----------------------------------------------------------------------------- 07.4 the alerts table for a query

MY_ALERTS_TABLE = "my_alerts_by_day"
ALERT_COLUMNS_CQL = ("day date, bucket int, alert_at timestamp, device_id text, kind text, quantity text, "
                     "score double")


def alerts_table_cql(table: str) -> str:
    """Reference for 07.4: the fleet's alerts of a day, split by device bucket, newest first, one row per alert."""
    return f"""
CREATE TABLE {table} (
    day       date,
    bucket    int,
    alert_at  timestamp,
    device_id text,
    kind      text,
    quantity  text,
    score     double,
    PRIMARY KEY ((day, bucket), alert_at, device_id, kind, quantity)
) WITH CLUSTERING ORDER BY (alert_at DESC, device_id ASC, kind ASC, quantity ASC)"""


def _check_alerts() -> list[dict]:
    """Alerts across midnight UTC: several at the same minute (other devices, kinds and quantities of one device),
    which a key of (alert_at) or (alert_at, device_id) alone would overwrite; device-03 and device-08 share a bucket,
    so a partition holds two devices' alerts and only time-first clustering reads them newest first."""
    from iotlab.cassandra import device_bucket

    start = datetime(2025, 11, 5, 23, 50, tzinfo=timezone.utc)
    pairs = [("spike", "temperature"), ("stuck", "temperature"), ("stuck", "humidity")]
    devices = [1, 3, 8, 4, 5]
    alerts = []
    for step in range(8):  # 23:50 to 00:25, every 5 minutes
        at = start + timedelta(minutes=5 * step)
        for device in devices[step % 3:step % 3 + 3]:
            for kind, quantity in pairs[:1 + step % 3]:
                device_id = f"device-{device:02d}"
                alerts.append({"day": at.date(), "bucket": device_bucket(device_id), "alert_at": at,
                               "device_id": device_id, "kind": kind, "quantity": quantity,
                               "score": round(5 + step + device / 10, 2)})
    random.Random(11).shuffle(alerts)
    return alerts


def check_alerts_table(function: Callable[[str], str]) -> CheckResult:
    """Check 07.4: create the learner's table in a scratch keyspace, write alerts (several at the same minute),
    and read each (day, bucket) partition back, newest first; the partition key must not hold the whole fleet."""
    from iotlab.cassandra import all_buckets, closing_session, prepare_idempotent, write_concurrently

    name = "alerts_table_cql"
    table = f"{CHECK_KEYSPACE}.{MY_ALERTS_TABLE}"
    if is_skipped(function, (table,)):
        return skipped(name)
    columns_hint = f"the columns are {ALERT_COLUMNS_CQL}"
    with closing_session() as session:
        refused, partition, clustering = _create_learners_table(session, name, function, MY_ALERTS_TABLE)
        if refused:
            return refused
        if partition == ["day"]:
            return failed(name, "the partition key is the day alone: the whole fleet's alerts of a day in one "
                                "partition, on one replica set, growing with the fleet. Hint: split the day by the "
                                "device's bucket, PRIMARY KEY ((day, bucket), ...)")
        if sorted(partition) != ["bucket", "day"]:
            return failed(name, f"the partition key is ({', '.join(partition)}): the query names a day and a bucket, "
                                "so that is one partition, PRIMARY KEY ((day, bucket), ...)")
        alerts = _check_alerts()
        try:
            insert = prepare_idempotent(session, f"INSERT INTO {table} (day, bucket, alert_at, device_id, kind, "
                                                 "quantity, score) VALUES (?, ?, ?, ?, ?, ?, ?)")
        except Exception as error:
            return failed(name, f"cannot insert an alert: {error_reason(error)}. Hint: {columns_hint}")
        order = ("day", "bucket", "alert_at", "device_id", "kind", "quantity", "score")
        # Every alert twice: first with a score the detector later corrects, then (a replay) with the final one.
        first_run = [tuple(alert[column] - 1 if column == "score" else alert[column] for column in order)
                     for alert in alerts]
        replay = [tuple(alert[column] for column in order) for alert in alerts]
        for rows in (first_run, replay):
            loaded = write_concurrently(session, insert, rows)
            if loaded.failures:
                return failed(name, f"{loaded.failed} of {loaded.attempted} alerts could not be written "
                                    f"({loaded.failures[0][1]}). Hint: {columns_hint}")
        query = f"SELECT alert_at, device_id, kind, quantity, score FROM {table} WHERE day = %s AND bucket = %s"
        partitions = 0
        for day in sorted({alert["day"] for alert in alerts}):
            for bucket in all_buckets():
                try:
                    rows = list(session.execute(query, (day, bucket)))
                except InvalidRequest as error:
                    return failed(name, f"Cassandra cannot answer 'the alerts of a day and bucket': "
                                        f"{error_reason(error)}")
                mine = [alert for alert in alerts if alert["day"] == day and alert["bucket"] == bucket]
                partitions += bool(mine)
                expected = [(a["alert_at"], a["device_id"], a["kind"], a["quantity"], a["score"])
                            for a in sorted(mine, key=lambda a: (a["device_id"], a["kind"], a["quantity"]))]
                expected.sort(key=lambda alert: alert[0], reverse=True)  # newest first, ties in key order
                actual = [(row.alert_at.replace(tzinfo=timezone.utc), row.device_id, row.kind, row.quantity,
                           row.score) for row in rows]
                if len(actual) < len(expected):
                    return failed(name, f"{day}, bucket {bucket}: {len(actual)} alerts read back, {len(expected)} "
                                        "written: alerts at the same moment overwrote each other. Hint: the primary "
                                        "key must tell apart two alerts of one moment (other devices, other kinds, "
                                        "other quantities)")
                if len(actual) > len(expected):
                    return failed(name, f"{day}, bucket {bucket}: {len(actual)} rows for {len(expected)} alerts: an "
                                        "alert written again with a corrected score became a second row. Hint: the "
                                        "primary key says WHICH alert (moment, device, kind, quantity); the score is "
                                        "a value of it, not part of the key")
                if sorted(actual) != sorted(expected):
                    return failed(name, f"{day}, bucket {bucket}: not the alerts written ({len(actual)} rows)")
                if [row[0] for row in actual] != [row[0] for row in expected]:
                    return failed(name, f"{day}, bucket {bucket}: the right alerts, not newest first. Hint: a "
                                        "partition holds several devices' alerts, so cluster by alert_at first, "
                                        "WITH CLUSTERING ORDER BY (alert_at DESC, ...)")
        return passed(name, f"partition key ({', '.join(partition)}), clustering {clustering}: {len(alerts)} alerts "
                            f"in {partitions} partitions, none overwritten, each partition newest first")
