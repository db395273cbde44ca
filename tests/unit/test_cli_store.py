"""`iotlab store`: bad arguments are refused in one line, before any connection is tried, Cassandra down is one
line with the fix, and the export's row-to-record conversion (pure: rows as the driver hands them out)."""

from __future__ import annotations

import importlib
import json
import time
from collections import namedtuple
from datetime import datetime

import pytest
from click.testing import CliRunner

import iotlab.cassandra
from iotlab.cassandra.exports import (
    alert_record,
    alert_records,
    latest_record,
    latest_records,
    record_line,
    window_record,
    window_records,
)
from iotlab.cli import main
from iotlab.core.settings import Settings
from iotlab.core.timestamps import timestamp_text

# The columns of the driver's named-tuple rows, as the exports select them.
WindowRow = namedtuple("WindowRow", ["device_id", "window_start", "window_end", "readings", "avg_temp", "min_temp",
                                     "max_temp", "avg_humidity"])
AlertRow = namedtuple("AlertRow", "device_id kind quantity alert_at started_at ended_at score details")
LatestRow = namedtuple("LatestRow", "device_id reading_at temperature humidity status")

NOON = datetime(2025, 11, 5, 12, 0)  # naive, as the driver returns a timestamp: UTC


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_bad_keyspace_name_gets_one_line_and_exit_1():
    result = invoke("store", "create", "--keyspace", "Bad-Name")
    assert result.exit_code == 1
    assert "not a keyspace name" in result.output and "pick a name like" in result.output


# ------------------------------------------------------------------ store export: arguments


def test_export_help_names_the_kinds_and_options():
    result = invoke("store", "export", "--help")
    assert result.exit_code == 0
    assert "{windows|alerts|latest}" in result.output
    assert "--keyspace" in result.output and "--out" in result.output


def test_the_cli_offers_the_kinds_the_exports_know():
    store_cli = importlib.import_module("iotlab.cli.store")  # the module: `iotlab.cli.store` is also the group
    assert store_cli.EXPORT_KINDS == iotlab.cassandra.EXPORT_KINDS
    assert set(store_cli.EXPORT_NOUNS) == set(iotlab.cassandra.EXPORT_KINDS)


@pytest.mark.parametrize("args, words", [
    (["store", "export"], ["Missing argument"]),
    (["store", "export", "readings", "--out", "x.jsonl"], ["'readings' is not one of"]),
    (["store", "export", "windows"], ["Missing option", "--out"]),
])
def test_export_usage_errors_exit_2(args, words):
    result = invoke(*args)
    assert result.exit_code == 2
    assert all(word in result.output for word in words), result.output


def test_export_refuses_a_bad_keyspace_name_before_connecting(tmp_path, monkeypatch):
    monkeypatch.setattr(iotlab.cassandra, "closing_session", lambda *a, **k: pytest.fail("connected"))
    result = invoke("store", "export", "windows", "--keyspace", "Bad-Name", "--out", str(tmp_path / "w.jsonl"))
    assert result.exit_code == 1
    assert "--keyspace" in result.output and "not a keyspace name" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_export_refuses_an_out_file_in_a_missing_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(iotlab.cassandra, "closing_session", lambda *a, **k: pytest.fail("connected"))
    result = invoke("store", "export", "alerts", "--out", str(tmp_path / "nowhere" / "a.jsonl"))
    assert result.exit_code == 1
    assert "--out" in result.output and "does not exist" in result.output


def test_export_refuses_a_folder_as_out(tmp_path):
    result = invoke("store", "export", "latest", "--out", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.output


def test_export_with_cassandra_down_is_one_line_with_the_fix(tmp_path, monkeypatch):
    real = iotlab.cassandra.closing_session
    nowhere = Settings(cassandra_hosts=("127.0.0.1",), cassandra_port=1)  # nothing listens on port 1
    monkeypatch.setattr(iotlab.cassandra, "closing_session", lambda: real(nowhere, wait_s=0))
    out = tmp_path / "w.jsonl"
    result = invoke("store", "export", "windows", "--keyspace", "iotlab_export_x", "--out", str(out))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Cassandra at 127.0.0.1:1 did not answer")
    assert "iotlab lab up" in lines[0]
    assert not out.exists()


# ------------------------------------------------------------------ store export: rows to records


def window_row(device: str, minute: int, **changes) -> WindowRow:
    start = NOON.replace(minute=minute)
    row = WindowRow(device, start, start.replace(minute=minute + 5), 30, 21.5, 20.0, 23.25, 40.125)
    return row._replace(**changes)


def test_a_window_row_becomes_the_contract_record():
    assert window_record(window_row("device-01", 0)) == {
        "device_id": "device-01", "window_start": "2025-11-05T12:00:00Z", "window_end": "2025-11-05T12:05:00Z",
        "count": 30, "avg_temp": 21.5, "min_temp": 20.0, "max_temp": 23.25, "avg_humidity": 40.125}


def test_an_alert_row_becomes_what_write_alerts_takes():
    row = AlertRow("device-02", "spike", "humidity", NOON.replace(minute=7), NOON.replace(minute=5),
                   NOON.replace(minute=6), 6.5, '{"threshold": 3.0, "window": [1, 2]}')
    assert alert_record(row) == {
        "device_id": "device-02", "kind": "spike", "quantity": "humidity", "alert_at": "2025-11-05T12:07:00Z",
        "start": "2025-11-05T12:05:00Z", "end": "2025-11-05T12:06:00Z", "score": 6.5,
        "details": {"threshold": 3.0, "window": [1, 2]}}


def test_an_alert_without_score_or_details_keeps_them_as_null():
    record = alert_record(AlertRow("device-01", "stuck", "temperature", NOON, NOON, NOON, None, None))
    assert record["score"] is None and record["details"] is None
    assert record_line(record).startswith('{"alert_at": "2025-11-05T12:00:00Z", "details": null, ')


def test_details_that_are_not_json_are_kept_as_text():
    row = AlertRow("d", "drift", "temperature", NOON, NOON, NOON, 1.0, "slow drift")
    assert alert_record(row)["details"] == "slow drift"


def test_a_latest_row_becomes_a_contract_reading_with_its_milliseconds():
    row = LatestRow("device-03", NOON.replace(second=9, microsecond=250_000), 27.5, 40.2, "OK")
    assert latest_record(row) == {"device_id": "device-03", "timestamp": "2025-11-05T12:00:09.250Z",
                                  "temperature": 27.5, "humidity": 40.2, "status": "OK"}


@pytest.mark.parametrize("stored, text", [
    (datetime(2025, 11, 5, 23, 59, 59), "2025-11-05T23:59:59Z"),
    (datetime(2025, 11, 6, 0, 0, 0, 1000), "2025-11-06T00:00:00.001Z"),
    ("2025-11-05T07:00:00-05:00", "2025-11-05T12:00:00Z"),
    (0, "1970-01-01T00:00:00Z"),
])
def test_times_are_utc_with_a_z_to_the_second_or_millisecond(stored, text):
    assert timestamp_text(stored) == text


@pytest.fixture
def new_york(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_drivers_naive_times_are_utc_whatever_the_machines_zone(new_york):
    assert timestamp_text(NOON) == "2025-11-05T12:00:00Z"
    assert window_record(window_row("device-01", 0))["window_start"] == "2025-11-05T12:00:00Z"


def test_records_come_in_a_fixed_order_whatever_the_table_order():
    windows = [window_row("device-02", 0), window_row("device-01", 5), window_row("device-01", 0)]
    assert [(w["window_start"][11:16], w["device_id"]) for w in window_records(windows)] == [
        ("12:00", "device-01"), ("12:00", "device-02"), ("12:05", "device-01")]
    late = NOON.replace(microsecond=500_000)  # its text sorts before "...:00Z": the order is by time, not text
    keys = [("b", "spike", late), ("b", "drift", NOON), ("a", "stuck", NOON), ("a", "drift", NOON)]
    alerts = [AlertRow(device, kind, "temperature", at, NOON, NOON, None, None) for device, kind, at in keys]
    assert [(a["device_id"], a["kind"]) for a in alert_records(alerts)] == [
        ("a", "drift"), ("a", "stuck"), ("b", "drift"), ("b", "spike")]
    readings = [LatestRow(device, NOON, 1.0, 2.0, "OK") for device in ("device-10", "device-02", "device-01")]
    assert [r["device_id"] for r in latest_records(readings)] == ["device-01", "device-02", "device-10"]


def test_a_line_has_sorted_keys_and_round_trips():
    record = window_record(window_row("device-01", 0))
    line = record_line(record)
    assert list(json.loads(line)) == sorted(record) and "\n" not in line
    assert json.loads(line) == record
