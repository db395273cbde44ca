"""Each job's graph, fed from a Python collection in a local Flink environment (no lab, no Kafka), against
the job's own reference implementation.

The records are the same for every job: a small simulated stream with out-of-order and late readings and
malformed records, plus a few hand-made bad ones, in arrival order (one partition, offsets 0, 1, 2...).
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from pyflink.common import Duration, Row, Types, WatermarkStrategy
from pyflink.table import DataTypes

import iotlab.jobs.anomalies.sql  # noqa: F401 (anomalies.sql)
from iotlab.core import END_OF_INPUT, MINUTE_MS, OFFLINE_GAP_MINUTES, timestamp_ms, validate_reading
from iotlab.core.paths import project_root
from iotlab.flink import RAW_RECORD_TYPE, RAW_SOURCE_TABLE, stream_environment, table_environment
from iotlab.jobs import anomalies, device_averages, pipeline, silence_alerts, window_aggregate
from iotlab.jobs.anomalies.detectors import alert_order
from iotlab.sim import SensorSimulator, SimulationConfig

TOPIC = "unit.readings"
HAND_MADE_BAD = [b"not json", b'{"device_id": "device-01"}', b'{"device_id": "device-02", '
                 b'"timestamp": "2025-11-05T12:00:00Z", "temperature": 99.5, "humidity": 40, "status": "OK"}']


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    config = SimulationConfig(devices=4, interval_s=60, duration_s=3 * 3600, seed=11, anomaly_rate=0.01,
                              out_of_order_rate=0.05, late_rate=0.02, malformed_rate=0.02)
    simulated = [record.value for record in SensorSimulator(config).records()]
    # device-01 goes quiet for half an hour: a silence in the middle of the stream, not only at its end
    simulated = [line for line in simulated if not in_hole(line)]
    return simulated[:100] + HAND_MADE_BAD + simulated[100:]


def in_hole(line: bytes) -> bool:
    reading, _ = validate_reading(line)
    return (reading is not None and reading["device_id"] == "device-01"
            and "2025-11-05T13:00:00Z" <= reading["timestamp"] < "2025-11-05T13:30:00Z")


def raw_rows(lines: list[bytes]) -> list[Row]:
    """The records as the raw Kafka table would hold them: key = device_id when there is one."""
    rows = []
    for offset, line in enumerate(lines):
        reading, _ = validate_reading(line)
        key = reading["device_id"].encode() if reading else None
        rows.append(Row(record_key=key, raw=line, partition=0, offset=offset))
    return rows


def assert_windows_equal(actual: list[dict], expected: pd.DataFrame) -> None:
    expected_rows = expected.to_dict("records")
    keys = ("device_id", "window_start", "window_end", "count")
    assert [tuple(w[k] for k in keys) for w in actual] == [tuple(w[k] for k in keys) for w in expected_rows]
    for got, want in zip(actual, expected_rows):
        for field in ("avg_temp", "min_temp", "max_temp", "avg_humidity"):
            assert math.isclose(got[field], want[field], rel_tol=0, abs_tol=1e-9), (got, field)


def sorted_windows(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda w: (w["window_start"], w["device_id"]))


def test_the_stream_exercises_every_path(lines):
    reference = window_aggregate.aggregate_lines(lines)
    assert reference.dead_lettered and reference.late and len(reference.windows) > 50


def test_device_averages_graph_equals_pandas(lines):
    readings = [r for r in (validate_reading(line)[0] for line in lines) if r is not None]
    env = table_environment(batch=True, kafka=False)
    schema = DataTypes.ROW([DataTypes.FIELD("device_id", DataTypes.STRING()),
                            DataTypes.FIELD("temperature", DataTypes.DOUBLE()),
                            DataTypes.FIELD("humidity", DataTypes.DOUBLE())])
    table = env.from_elements([(r["device_id"], float(r["temperature"]), float(r["humidity"])) for r in readings],
                              schema)
    env.create_temporary_view("readings", table)
    actual = device_averages.to_frame(device_averages.build_graph(env))
    expected = device_averages.device_averages_of(readings)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, atol=1e-9, rtol=0)


def test_the_stream_has_late_readings_under_the_default_bound(lines):
    """So the bound the graph tests use (larger than the disorder: nothing late) is a choice, not luck."""
    assert window_aggregate.aggregate_lines(lines).late
    assert not window_aggregate.aggregate_lines(lines, window_aggregate.disorder_minutes(lines) + 5).late


def file_source_environment(lines: list[bytes], bound: int, tmp_path):
    """A streaming Table environment whose raw source table reads ``lines`` from a file, with the course's
    event time and a watermark ``bound`` minutes behind (the SQL jobs' graphs read that table)."""
    path = tmp_path / "records.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    env = table_environment(batch=False, kafka=False)
    for statement in window_aggregate.sql.function_statements():
        env.execute_sql(statement)
    # The file source has no key, partition or offset: constants stand in for them.
    env.execute_sql(f"""CREATE TEMPORARY TABLE {RAW_SOURCE_TABLE} (
  `raw` BYTES,
  `record_key` AS CAST(NULL AS BYTES),
  `partition` AS 0,
  `offset` AS CAST(-1 AS BIGINT),
{window_aggregate.sql.source_columns(bound)}
) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'raw')""")
    return env


def test_window_aggregate_sql_graph_equals_reference(lines, tmp_path):
    bound = window_aggregate.disorder_minutes(lines) + 5  # nothing is late whatever moment a watermark is emitted
    env = file_source_environment(lines, bound, tmp_path)
    for statement in window_aggregate.sql.graph_statements(TOPIC):
        env.execute_sql(statement)
    expected = window_aggregate.aggregate_lines(lines, bound)

    windows = env.from_path("window_rows").to_pandas().drop(columns=["device_key"]).to_dict("records")
    assert_windows_equal(sorted_windows(windows), expected.windows)
    dead = env.from_path("dead_letter_rows").to_pandas()
    assert sorted(bytes(raw) for raw in dead["raw"]) == sorted(expected.dead_lettered)
    reasons = {bytes(row.raw): bytes(dict(row.headers)["dlq.reason"]).decode() for row in dead.itertuples()}
    assert reasons[b"not json"] == "invalid_json"
    assert reasons[HAND_MADE_BAD[1]] == "missing_field: timestamp"
    assert reasons[HAND_MADE_BAD[2]].startswith("impossible_value: temperature")
    assert env.from_path("late_rows").to_pandas().empty


def collect_outputs(env, tagged_streams) -> list[list]:
    """Run one job whose results are the union of ``tagged_streams`` (as JSON lists), and collect them."""
    union = tagged_streams[0].union(*tagged_streams[1:])
    return [json.loads(text) for text in union.execute_and_collect()]


def test_window_aggregate_datastream_graph_equals_reference(lines):
    bound = window_aggregate.disorder_minutes(lines) + 5
    env = stream_environment(kafka=False)
    env.set_parallelism(1)
    strategy = (WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_minutes(bound))
                .with_timestamp_assigner(window_aggregate.datastream.SourceEventTime()))
    raw = env.from_collection(raw_rows(lines), type_info=RAW_RECORD_TYPE).assign_timestamps_and_watermarks(strategy)
    outputs = window_aggregate.datastream.build_graph(raw, TOPIC, allowed_lateness_minutes=0)
    results = collect_outputs(env, [
        outputs.windows.map(lambda w: json.dumps(["window", w.as_dict()]), output_type=Types.STRING()),
        outputs.dead_letters.map(lambda r: json.dumps(["dead", r.raw.hex(), r.headers["dlq.reason"].decode()]),
                                 output_type=Types.STRING()),
        outputs.late.map(lambda r: json.dumps(["late", r.raw.hex()]), output_type=Types.STRING()),
    ])
    expected = window_aggregate.aggregate_lines(lines, bound)

    assert_windows_equal(sorted_windows([row for kind, row, *_ in results if kind == "window"]), expected.windows)
    dead = {bytes.fromhex(raw): reason for kind, raw, *rest in results if kind == "dead" for reason in rest}
    assert sorted(dead) == sorted(expected.dead_lettered)
    assert dead[b"not json"].startswith("invalid_json")
    assert not [row for row in results if row[0] == "late"]


def test_silence_alerts_graph_equals_reference(lines):
    env = stream_environment(kafka=False)
    env.set_parallelism(1)
    raw = env.from_collection(raw_rows(lines), type_info=RAW_RECORD_TYPE)
    outputs = silence_alerts.build_graph(raw, TOPIC, gap_minutes=10, out_of_orderness_minutes=30)
    results = collect_outputs(env, [
        outputs.alerts.map(lambda a: json.dumps(["alert", a.device_id, a.silent_since, a.alert_at]),
                           output_type=Types.STRING()),
        outputs.dead_letters.map(lambda r: json.dumps(["dead", r.raw.hex()]), output_type=Types.STRING()),
        outputs.late.map(lambda r: json.dumps(["late", r.raw.hex()]), output_type=Types.STRING()),
    ])
    alerts = pd.DataFrame([row[1:] for row in results if row[0] == "alert"],
                          columns=["device_id", "silent_since", "alert_at"])
    arrivals = silence_alerts.valid_arrivals(lines)
    expected = silence_alerts.silences(arrivals, 10 * MINUTE_MS, END_OF_INPUT)
    assert silence_alerts.alert_tuples(alerts) == expected
    hole_starts = timestamp_ms("2025-11-05T13:00:00Z")
    assert [alert for alert in expected if alert[0] == "device-01" and hole_starts - 10 * MINUTE_MS <= alert[1]
            < hole_starts], "device-01's half hour of silence"
    last = {device: max(t for d, t in arrivals if d == device) for device, _ in arrivals}
    assert not [alert for alert in expected if alert[1] == last[alert[0]]], "the end of the input is no silence"
    assert sum(1 for row in results if row[0] == "dead") == len(lines) - len(arrivals)
    assert not [row for row in results if row[0] == "late"], "30 minutes of out-of-orderness: nothing is late"


def pipeline_store_rows(lines: list[bytes], bound: int, tmp_path) -> pd.DataFrame:
    """The pipeline graph's ``store_rows`` (kind, device_id, row) from a file of the records, without the lab."""
    env = file_source_environment(lines, bound, tmp_path)
    for statement in pipeline.graph_statements(TOPIC):
        env.execute_sql(statement)
    return env.from_path("store_rows").to_pandas()


def test_pipeline_graph_equals_batch_recomputation(lines, tmp_path):
    """Windows, the newest reading per device, the detectors' alerts and the offline candidates (device-01's
    half-hour hole, and every device at the end of the input) equal the batch recomputation."""
    from iotlab.core.timestamps import timestamp_text
    from iotlab.jobs.pipeline import reference

    bound = window_aggregate.disorder_minutes(lines) + 5
    rows = pipeline_store_rows(lines, bound, tmp_path)
    by_kind = {kind: [json.loads(row) for row in group["row"]] for kind, group in rows.groupby("kind")}

    assert_windows_equal(sorted_windows(by_kind["window"]), window_aggregate.aggregate_lines(lines, bound).windows)

    newest: dict[str, dict] = {}
    for reading in by_kind["latest"]:  # one per device and window; the table keeps the newest
        if reading["device_id"] not in newest or reading["timestamp"] > newest[reading["device_id"]]["timestamp"]:
            newest[reading["device_id"]] = reading
    latest = [{**r, "timestamp": timestamp_text(r["timestamp"])} for _, r in sorted(newest.items())]
    assert reference.differences(latest, reference.expected_latest(lines)) == []

    def stored(found: list[dict]) -> list[dict]:  # as the store exports them
        return sorted(({**a, **{k: timestamp_text(a[k]) for k in ("alert_at", "start", "end")}} for a in found),
                      key=alert_order)

    expected = reference.expected_alerts(lines)
    assert reference.differences(stored(by_kind["alert"]), [a for a in expected if a["kind"] != "offline"]) == []
    offline = [a for a in expected if a["kind"] == "offline"]
    hole = [a for a in offline if a["device_id"] == "device-01" and a["start"] < "2025-11-05T13:30:00Z"]
    assert len(hole) == 1
    # The session windows' candidates: every real silence, and each device's last session, which only the end
    # of the input closed (``silences.ConfirmSilences`` drops those; the integration tests run it).
    last = {}
    for reading in reference.valid_readings(lines):
        last[reading["device_id"]] = max(last.get(reading["device_id"], 0), timestamp_ms(reading["timestamp"]))
    gap_ms = OFFLINE_GAP_MINUTES * MINUTE_MS
    at_the_end = [{"device_id": device, "kind": "offline", "quantity": "all", "alert_at": at + gap_ms, "start": at,
                   "end": at + gap_ms, "score": float(OFFLINE_GAP_MINUTES),
                   "details": {"gap_minutes": OFFLINE_GAP_MINUTES}}
                  for device, at in last.items()]
    assert reference.differences(stored(by_kind["silence"]), stored(offline + at_the_end)) == []


def test_anomaly_detector_graph_equals_reference(lines):
    """Keyed state and event-time timers give the batch reference's alerts, whatever the arrival order (the bound
    exceeds the stream's disorder), and the end of the input raises no silence."""
    from iotlab.jobs.anomalies import job, reference

    env = stream_environment(kafka=False)
    env.set_parallelism(1)
    raw = env.from_collection(raw_rows(lines), type_info=RAW_RECORD_TYPE)
    outputs = job.build_graph(raw, window_aggregate.disorder_minutes(lines) + 5)
    actual = sorted(outputs.alerts.execute_and_collect())
    expected = sorted(json.dumps(alert, sort_keys=True) for alert in reference.detect(lines))
    assert actual == expected and expected
    offline = [a for a in map(json.loads, expected) if a["kind"] == "offline"]
    assert [a["device_id"] for a in offline] == ["device-01"]  # the hole in the middle, not the end


def sql_detector_alerts(lines: list[bytes], bound: int, tmp_path) -> list[dict]:
    """The SQL detectors' alerts (``anomalies.sql``) over a file of the records, without the lab."""
    env = file_source_environment(lines, bound, tmp_path)
    for statement in window_aggregate.sql.graph_statements(TOPIC) + anomalies.sql.detector_statements():
        env.execute_sql(statement)
    return [json.loads(alert) for alert in env.from_path("detector_alerts").to_pandas()["alert"]]


def alert_keys(alerts: list[dict]) -> list[tuple]:
    return sorted((a["device_id"], a["kind"], a["alert_at"], a["start"], a["end"], a["score"],
                   json.dumps(a["details"], sort_keys=True)) for a in alerts)


@pytest.mark.parametrize("stream", ["seed 22", "anomaly day"])
def test_sql_detectors_raise_the_python_detectors_alerts(stream, tmp_path):
    """The Java OVER aggregates run the Python detectors' rules with the same arithmetic: the same alerts,
    scores included, for every kind but offline (the pipeline's session windows raise that)."""
    if stream == "seed 22":
        config = SimulationConfig(devices=20, interval_s=60, duration_s=24 * 3600, seed=22, anomaly_rate=0.004,
                                  out_of_order_rate=0.01, late_rate=0.003, duplicate_rate=0.005,
                                  malformed_rate=0.005)
        lines = [record.value for record in SensorSimulator(config).records()]
    else:
        lines = (project_root() / "data" / "anomaly_day.jsonl").read_bytes().splitlines()
    expected = [a for a in anomalies.reference.detect(lines) if a["kind"] != "offline"]
    actual = sql_detector_alerts(lines, window_aggregate.disorder_minutes(lines) + 5, tmp_path)
    assert {kind for kind in (a["kind"] for a in expected)} == {"spike", "stuck", "drift", "out_of_range"}
    assert alert_keys(actual) == alert_keys(expected)
