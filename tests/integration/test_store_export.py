"""`iotlab store export` against the lab's Cassandra node: known rows written with ``Store`` come out as exactly
the expected JSON lines (contract shapes, sorted keys, fixed order), and an export loaded into a second keyspace
exports to the same bytes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from iotlab.cassandra import Store, cassandra_session, create_schema, ensure_keyspace
from iotlab.cli import main

KEYSPACE = "iotlab_export_test"
COPY_KEYSPACE = "iotlab_export_test2"
EMPTY_KEYSPACE = "iotlab_export_test_empty"
MISSING_KEYSPACE = "iotlab_export_test_missing"
MIDNIGHT = datetime(2025, 11, 6, tzinfo=timezone.utc)


def window(device: str, start: datetime, count: int, avg: float) -> dict:
    return {"device_id": device, "window_start": start, "window_end": start + timedelta(minutes=5), "count": count,
            "avg_temp": avg, "min_temp": avg - 1.5, "max_temp": avg + 2.25, "avg_humidity": 40.2}


# Written in no particular order: across midnight (two day buckets), two devices at one window_start, an
# average with all of a double's digits.
WINDOWS = [
    window("device-01", MIDNIGHT, 29, 21.0),
    window("device-02", MIDNIGHT - timedelta(minutes=5), 30, 22.5),
    window("device-01", MIDNIGHT - timedelta(hours=12), 30, 21.333333333333332),
    window("device-01", MIDNIGHT - timedelta(minutes=5), 28, 20.75),
]
ONE = MIDNIGHT + timedelta(hours=1)
ALERTS = [
    {"device_id": "device-02", "kind": "spike", "quantity": "temperature", "alert_at": ONE,
     "start": ONE - timedelta(minutes=2), "end": ONE - timedelta(minutes=2), "score": 6.5},  # no details
    {"device_id": "device-01", "kind": "spike", "quantity": "temperature", "alert_at": ONE,
     "start": ONE - timedelta(minutes=1), "end": ONE - timedelta(minutes=1), "score": 4.0,
     "details": {"threshold": 3.0}},
    {"device_id": "device-01", "kind": "spike", "quantity": "humidity", "alert_at": ONE,  # same moment, other quantity
     "start": ONE - timedelta(minutes=1), "end": ONE - timedelta(minutes=1), "score": 9.0,
     "details": {"threshold": 3.0}},
    {"device_id": "device-01", "kind": "offline", "quantity": "all", "alert_at": ONE,
     "start": ONE - timedelta(minutes=10), "end": ONE, "details": {"gap_minutes": 10}},  # no score
    {"device_id": "device-03", "kind": "out_of_range", "quantity": "humidity", "alert_at": "2025-11-05T23:59:59.500Z",
     "start": "2025-11-05T23:59:59.500Z", "end": "2025-11-05T23:59:59.500Z", "score": 1.25,
     "details": {"value": 91.5, "limits": {"min": -40.0, "max": 80.0}, "readings": [1, 2]}},
]
NEWER = {"device_id": "device-01", "timestamp": "2025-11-05T12:01:00Z", "temperature": 21.0, "humidity": 40.0,
         "status": "OK"}
READINGS = [
    {"device_id": "device-10", "timestamp": "2025-11-05T12:00:00Z", "temperature": -3.5, "humidity": 88.0,
     "status": None},
    NEWER,
    {**NEWER, "timestamp": "2025-11-05T12:00:00Z", "temperature": 99.0},  # written later, but older: never wins
    {"device_id": "device-02", "timestamp": "2025-11-05T07:00:09.25-05:00", "temperature": 27.5, "humidity": 40.2,
     "status": "ERROR"},
]

EXPECTED = {
    "windows": [
        '{"avg_humidity": 40.2, "avg_temp": 21.333333333333332, "count": 30, "device_id": "device-01", '
        '"max_temp": 23.583333333333332, "min_temp": 19.833333333333332, "window_end": "2025-11-05T12:05:00Z", '
        '"window_start": "2025-11-05T12:00:00Z"}',
        '{"avg_humidity": 40.2, "avg_temp": 20.75, "count": 28, "device_id": "device-01", "max_temp": 23.0, '
        '"min_temp": 19.25, "window_end": "2025-11-06T00:00:00Z", "window_start": "2025-11-05T23:55:00Z"}',
        '{"avg_humidity": 40.2, "avg_temp": 22.5, "count": 30, "device_id": "device-02", "max_temp": 24.75, '
        '"min_temp": 21.0, "window_end": "2025-11-06T00:00:00Z", "window_start": "2025-11-05T23:55:00Z"}',
        '{"avg_humidity": 40.2, "avg_temp": 21.0, "count": 29, "device_id": "device-01", "max_temp": 23.25, '
        '"min_temp": 19.5, "window_end": "2025-11-06T00:05:00Z", "window_start": "2025-11-06T00:00:00Z"}',
    ],
    "alerts": [
        '{"alert_at": "2025-11-05T23:59:59.500Z", "details": {"limits": {"max": 80.0, "min": -40.0}, '
        '"readings": [1, 2], "value": 91.5}, "device_id": "device-03", "end": "2025-11-05T23:59:59.500Z", '
        '"kind": "out_of_range", "quantity": "humidity", "score": 1.25, "start": "2025-11-05T23:59:59.500Z"}',
        '{"alert_at": "2025-11-06T01:00:00Z", "details": {"gap_minutes": 10}, "device_id": "device-01", '
        '"end": "2025-11-06T01:00:00Z", "kind": "offline", "quantity": "all", "score": null, '
        '"start": "2025-11-06T00:50:00Z"}',
        '{"alert_at": "2025-11-06T01:00:00Z", "details": {"threshold": 3.0}, "device_id": "device-01", '
        '"end": "2025-11-06T00:59:00Z", "kind": "spike", "quantity": "humidity", "score": 9.0, '
        '"start": "2025-11-06T00:59:00Z"}',
        '{"alert_at": "2025-11-06T01:00:00Z", "details": {"threshold": 3.0}, "device_id": "device-01", '
        '"end": "2025-11-06T00:59:00Z", "kind": "spike", "quantity": "temperature", "score": 4.0, '
        '"start": "2025-11-06T00:59:00Z"}',
        '{"alert_at": "2025-11-06T01:00:00Z", "details": null, "device_id": "device-02", '
        '"end": "2025-11-06T00:58:00Z", "kind": "spike", "quantity": "temperature", "score": 6.5, '
        '"start": "2025-11-06T00:58:00Z"}',
    ],
    "latest": [
        '{"device_id": "device-01", "humidity": 40.0, "status": "OK", "temperature": 21.0, '
        '"timestamp": "2025-11-05T12:01:00Z"}',
        '{"device_id": "device-02", "humidity": 40.2, "status": "ERROR", "temperature": 27.5, '
        '"timestamp": "2025-11-05T12:00:09.250Z"}',
        '{"device_id": "device-10", "humidity": 88.0, "status": null, "temperature": -3.5, '
        '"timestamp": "2025-11-05T12:00:00Z"}',
    ],
}
NOUNS = {"windows": "windows", "alerts": "alerts", "latest": "latest readings"}


def drop(session, keyspace: str) -> None:
    session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)


@pytest.fixture(scope="module")
def session(lab_settings):
    session = cassandra_session(lab_settings)
    for keyspace in (KEYSPACE, COPY_KEYSPACE, EMPTY_KEYSPACE, MISSING_KEYSPACE):
        drop(session, keyspace)
    create_schema(session, KEYSPACE)
    create_schema(session, COPY_KEYSPACE)
    store = Store(session, KEYSPACE)
    store.write_windows(WINDOWS).raise_for_failures()
    store.write_alerts(ALERTS).raise_for_failures()
    for reading in READINGS:  # one at a time: the older reading of device-01 arrives after the newer one
        store.write_latest_readings([reading]).raise_for_failures()
    yield session
    for keyspace in (KEYSPACE, COPY_KEYSPACE, EMPTY_KEYSPACE):
        drop(session, keyspace)
    session.cluster.shutdown()


def export(kind: str, keyspace: str, out) -> bytes:
    """Run `iotlab store export` and return the file's bytes."""
    result = CliRunner().invoke(main, ["store", "export", kind, "--keyspace", keyspace, "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().decode().splitlines()
    assert result.output.strip().splitlines()[-1] == f"exported {len(lines)} {NOUNS[kind]} to {out}"
    return out.read_bytes()


@pytest.mark.parametrize("kind", ["windows", "alerts", "latest"])
def test_an_export_is_exactly_the_expected_lines(session, tmp_path, kind):
    exported = export(kind, KEYSPACE, tmp_path / f"{kind}.jsonl")
    assert exported.decode().splitlines() == EXPECTED[kind]
    assert exported == "".join(line + "\n" for line in EXPECTED[kind]).encode()


@pytest.mark.parametrize("kind", ["windows", "alerts", "latest"])
def test_an_export_loaded_into_another_keyspace_exports_the_same_bytes(session, tmp_path, kind):
    first = export(kind, KEYSPACE, tmp_path / "first.jsonl")
    records = [json.loads(line) for line in first.decode().splitlines()]
    copy = Store(session, COPY_KEYSPACE)
    write = {"windows": copy.write_windows, "alerts": copy.write_alerts, "latest": copy.write_latest_readings}[kind]
    assert write(records).raise_for_failures().written == len(EXPECTED[kind])
    assert export(kind, COPY_KEYSPACE, tmp_path / "second.jsonl") == first
    assert export(kind, KEYSPACE, tmp_path / "again.jsonl") == first  # and a second run of the same: diff-able


def test_a_missing_keyspace_or_table_is_one_line_with_the_fix(session, tmp_path):
    out = tmp_path / "w.jsonl"
    runner = CliRunner()
    result = runner.invoke(main, ["store", "export", "windows", "--keyspace", MISSING_KEYSPACE, "--out", str(out)])
    assert result.exit_code == 1 and not out.exists()
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: keyspace {MISSING_KEYSPACE} does not exist: check --keyspace, or create it with "
        f"`iotlab store create --keyspace {MISSING_KEYSPACE}`; the course's keyspaces here: ")
    assert KEYSPACE in lines[0].rsplit(": ", 1)[1].split(", ")
    ensure_keyspace(session, EMPTY_KEYSPACE)  # a keyspace without the store's tables
    result = runner.invoke(main, ["store", "export", "alerts", "--keyspace", EMPTY_KEYSPACE, "--out", str(out)])
    assert result.exit_code == 1 and not out.exists()
    assert result.output.strip() == (f"error: keyspace {EMPTY_KEYSPACE} has no table alerts_by_device_day: create "
                                     f"the store's tables with `iotlab store create --keyspace {EMPTY_KEYSPACE}`")


def test_empty_tables_export_an_empty_file(session, tmp_path):
    create_schema(session, EMPTY_KEYSPACE)
    for kind in ("windows", "alerts", "latest"):
        assert export(kind, EMPTY_KEYSPACE, tmp_path / f"{kind}.jsonl") == b""
