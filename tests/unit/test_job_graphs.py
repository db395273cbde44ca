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

from iotlab.core import MINUTE_MS, validate_reading
from iotlab.flink import RAW_RECORD_TYPE, RAW_SOURCE_TABLE, stream_environment, table_environment
from iotlab.jobs import device_averages, silence_alerts, window_aggregate
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


def disorder_minutes(lines: list[bytes]) -> int:
    """How far (whole minutes, rounded up) the stream's worst reading arrives behind the newest one before it."""
    newest, worst = None, 0
    for line in lines:
        event_ms = window_aggregate.source_event_ms(line)
        if event_ms is not None:
            newest = event_ms if newest is None else max(newest, event_ms)
            worst = max(worst, newest - event_ms)
    return -(-worst // MINUTE_MS)


def test_the_stream_has_late_readings_under_the_default_bound(lines):
    """So the bound the graph tests use (larger than the disorder: nothing late) is a choice, not luck."""
    assert window_aggregate.aggregate_lines(lines).late
    assert not window_aggregate.aggregate_lines(lines, disorder_minutes(lines) + 5).late


def test_window_aggregate_sql_graph_equals_reference(lines, tmp_path):
    bound = disorder_minutes(lines) + 5  # nothing is late whatever moment a watermark is emitted
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
    bound = disorder_minutes(lines) + 5
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
    expected = silence_alerts.silences(arrivals, 10 * MINUTE_MS, 2**63 - 1)
    assert silence_alerts.alert_tuples(alerts) == expected
    assert len(expected) > len({device for device, _ in arrivals}), "some silences before the end of the input"
    assert sum(1 for row in results if row[0] == "dead") == len(lines) - len(arrivals)
    assert not [row for row in results if row[0] == "late"], "30 minutes of out-of-orderness: nothing is late"
