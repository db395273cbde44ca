"""Exports: the store's tables as JSON lines in the data contract's shapes (``iotlab store export``).

Each line is one record with its keys sorted, and the records come in a fixed order, so two exports of the
same rows are the same bytes and can be compared with ``diff``:

- ``windows`` (windows_by_device_day): ``device_id, window_start, window_end, count, avg_temp, min_temp,
  max_temp, avg_humidity``, by window_start then device_id;
- ``alerts`` (alerts_by_device_day, which holds each alert once): ``device_id, kind, quantity, alert_at, start,
  end, score, details``, by alert_at, device_id, kind, quantity;
- ``latest`` (latest_reading_by_fleet): ``device_id, timestamp, temperature, humidity, status``, by device_id.

These are exactly the dicts ``Store.write_windows``, ``write_alerts`` and ``write_latest_readings`` take, so
an export written into another keyspace exports to the same bytes again. Times are UTC ISO 8601 with a ``Z``
(``iotlab.core.timestamps.format_timestamp``): to the second, as in the contract, or to the millisecond (the
precision of a Cassandra timestamp) when the stored time has a fraction. ``details`` is stored as JSON text
and exported as the JSON value it holds (text that is not JSON is exported as a string).

Reading a whole table: the windows and the alerts are read with one full-table SELECT, paged
(``fetch_size``): the driver fetches the next page as the loop reaches it. That walks every partition of the
node, which no query of the course should do, but an export wants every row once, and paging keeps memory to
one page of the driver plus the records. The latest readings are a few partitions (the fleet's device buckets),
read with their partition keys.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable, Union

from cassandra.cluster import Session
from cassandra.query import SimpleStatement

from iotlab.cassandra.buckets import all_buckets
from iotlab.cassandra.schema import (
    ALERTS_BY_DEVICE_TABLE,
    LATEST_READING_TABLE,
    WINDOWS_TABLE,
    check_keyspace_name,
    course_keyspaces,
)
from iotlab.cassandra.store import FLEET, PAGE_SIZE
from iotlab.core.errors import OptionError
from iotlab.core.timestamps import as_utc, timestamp_text

EXPORT_KINDS = ("windows", "alerts", "latest")  # what `iotlab store export` accepts
EXPORT_TABLES = {"windows": WINDOWS_TABLE, "alerts": ALERTS_BY_DEVICE_TABLE, "latest": LATEST_READING_TABLE}


def window_record(row: Any) -> dict:
    """A windows_by_device_day row (the driver's named tuple) as a window aggregate of the data contract."""
    return {"device_id": row.device_id, "window_start": timestamp_text(row.window_start),
            "window_end": timestamp_text(row.window_end), "count": row.readings, "avg_temp": row.avg_temp,
            "min_temp": row.min_temp, "max_temp": row.max_temp, "avg_humidity": row.avg_humidity}


def _details(text: Any) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:  # not written by Store.write_alerts: keep the text
        return text


def alert_record(row: Any) -> dict:
    """An alerts_by_device_day (or alerts_by_day) row as the alert dict ``Store.write_alerts`` takes."""
    return {"device_id": row.device_id, "kind": row.kind, "quantity": row.quantity,
            "alert_at": timestamp_text(row.alert_at),
            "start": timestamp_text(row.started_at), "end": timestamp_text(row.ended_at), "score": row.score,
            "details": _details(row.details)}


def latest_record(row: Any) -> dict:
    """A latest_reading_by_fleet row as a reading of the data contract."""
    return {"device_id": row.device_id, "timestamp": timestamp_text(row.reading_at),
            "temperature": row.temperature, "humidity": row.humidity, "status": row.status}


# Sorted on the stored values (times as datetimes: their text would put 12:00:00.5Z before 12:00:00Z).
def window_records(rows: Iterable[Any]) -> list[dict]:
    """Window records, by window_start then device_id."""
    return [window_record(row) for row in sorted(rows, key=lambda r: (as_utc(r.window_start), r.device_id))]


def alert_records(rows: Iterable[Any]) -> list[dict]:
    """Alert records, by alert_at, device_id, kind, quantity."""
    return [alert_record(row) for row in sorted(rows, key=lambda r: (as_utc(r.alert_at), r.device_id, r.kind,
                                                                     r.quantity))]


def latest_records(rows: Iterable[Any]) -> list[dict]:
    """Latest-reading records, by device_id."""
    return [latest_record(row) for row in sorted(rows, key=lambda r: r.device_id)]


def record_line(record: dict) -> str:
    """One record as a JSON line (keys sorted, no newline)."""
    return json.dumps(record, sort_keys=True)


def check_export_table(session: Session, keyspace: str, kind: str) -> str:
    """The qualified table an export of ``kind`` reads; OptionError (with the fix) when the keyspace or the
    table is missing."""
    if kind not in EXPORT_TABLES:
        raise OptionError(f"cannot export {kind!r}", f"choose one of {', '.join(EXPORT_KINDS)}")
    check_keyspace_name(keyspace)
    table = EXPORT_TABLES[kind]
    create = f"`iotlab store create --keyspace {keyspace}`"
    tables = {row.table_name for row in session.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (keyspace,))}
    if table in tables:
        return f"{keyspace}.{table}"
    if tables or session.execute("SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = %s",
                                 (keyspace,)).one() is not None:
        raise OptionError(f"keyspace {keyspace} has no table {table}", f"create the store's tables with {create}")
    existing = course_keyspaces(session)
    choose = f"; the course's keyspaces here: {', '.join(existing)}" if existing else ""
    raise OptionError(f"keyspace {keyspace} does not exist", f"check --keyspace, or create it with {create}{choose}")


def _select(session: Session, cql: str, parameters: tuple = ()) -> Iterable[Any]:
    return session.execute(SimpleStatement(cql, fetch_size=PAGE_SIZE), parameters or None)


def export_windows(session: Session, keyspace: str) -> list[dict]:
    """Every window of the keyspace as contract records, sorted (a full-table SELECT, paged)."""
    table = check_export_table(session, keyspace, "windows")
    return window_records(_select(session, "SELECT device_id, window_start, window_end, readings, avg_temp, "
                                           f"min_temp, max_temp, avg_humidity FROM {table}"))


def export_alerts(session: Session, keyspace: str) -> list[dict]:
    """Every alert of the keyspace (from alerts_by_device_day: one row per alert), sorted (full-table, paged)."""
    table = check_export_table(session, keyspace, "alerts")
    return alert_records(_select(session, "SELECT device_id, kind, quantity, alert_at, started_at, ended_at, score, "
                                          f"details FROM {table}"))


def export_latest(session: Session, keyspace: str) -> list[dict]:
    """The latest reading of every device (the fleet's device buckets, one partition each), by device."""
    table = check_export_table(session, keyspace, "latest")
    return latest_records(row for bucket in all_buckets() for row in _select(
        session, f"SELECT device_id, reading_at, temperature, humidity, status FROM {table} "
                 "WHERE fleet = %s AND bucket = %s", (FLEET, bucket)))


EXPORTERS: dict[str, Callable[[Session, str], list[dict]]] = {
    "windows": export_windows, "alerts": export_alerts, "latest": export_latest}


def write_export(session: Session, keyspace: str, kind: str, path: Union[str, Path]) -> int:
    """Export ``kind`` (windows, alerts or latest) of ``keyspace`` to ``path`` as JSON lines; return the count.

    Every row is read before the file is opened, so a keyspace that cannot be read leaves the file as it was.
    """
    if kind not in EXPORTERS:
        raise OptionError(f"cannot export {kind!r}", f"choose one of {', '.join(EXPORT_KINDS)}")
    records = EXPORTERS[kind](session, keyspace)
    with open(path, "w", encoding="utf-8", newline="\n") as file:
        file.writelines(record_line(record) + "\n" for record in records)
    return len(records)
