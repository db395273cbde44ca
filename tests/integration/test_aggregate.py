"""`iotlab aggregate` on the real lab: windows equal an independent pandas computation (counts exactly,
averages to 1e-9), every bad record is dead-lettered with a reason, late ones are set aside, and the
counts add up — on our datasets and on a stream the simulator did not write."""

import json
import math
import uuid

import pytest
from click.testing import CliRunner

from iotlab.cli import main
from iotlab.core import OutputTopics
from iotlab.core.contract import validate_reading
from iotlab.core.paths import project_root
from iotlab.jobs.window_aggregate.reference import aggregate_lines
from iotlab.kafka import read_topic, recreate_topic
from iotlab.sim import read_lines, replay_file

pytestmark = pytest.mark.integration
APIS = ["sql", "datastream"]


def replayed(lines: list[bytes], tmp_path, partitions: int = 3) -> str:
    topic = f"test.aggregate.{uuid.uuid4().hex[:8]}"
    recreate_topic(topic, partitions=partitions)
    path = tmp_path / "stream.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert replay_file(path, topic, progress=False).failed == 0
    return topic


def run_aggregate(topic: str, api: str, tmp_path):
    out = tmp_path / f"windows-{api}.jsonl"
    result = CliRunner().invoke(main, ["aggregate", "--topic", topic, "--out", str(out), "--api", api])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text().splitlines()], result.output


def assert_windows_equal(actual: list[dict], expected) -> None:
    expected_rows = expected.to_dict("records")
    assert [(w["device_id"], w["window_start"], w["window_end"], w["count"]) for w in actual] == \
        [(w["device_id"], w["window_start"], w["window_end"], w["count"]) for w in expected_rows]
    for got, want in zip(actual, expected_rows):
        for field in ("avg_temp", "min_temp", "max_temp", "avg_humidity"):
            assert math.isclose(got[field], want[field], rel_tol=0, abs_tol=1e-9), (got, field)


@pytest.mark.parametrize("api", APIS)
def test_anomaly_day_matches_pandas_and_accounts_for_every_reading(lab_settings, tmp_path, api):
    lines = read_lines(project_root() / "data" / "anomaly_day.jsonl")
    topic = replayed(lines, tmp_path)
    windows, output = run_aggregate(topic, api, tmp_path)
    expected = aggregate_lines(lines)
    assert_windows_equal(windows, expected.windows)

    dead = read_topic(OutputTopics(topic).dead_letter)
    assert sorted(m.value for m in dead) == sorted(expected.dead_lettered)
    for message in dead:
        reason = dict(message.headers)["dlq.reason"].decode()
        assert reason.split(":")[0] == validate_reading(message.value)[1].split(":")[0]
    late = read_topic(OutputTopics(topic).late)
    assert sorted(m.value for m in late) == sorted(expected.late) and late, "the day has late readings"

    valid = len(lines) - len(dead)
    assert sum(w["count"] for w in windows) + len(late) == valid
    assert (f"readings in: {len(lines)}, valid: {valid}, dead-lettered: {len(dead)}, late: {len(late)}, "
            f"windows out: {len(windows)}") in output


@pytest.mark.parametrize("api", APIS)
def test_a_foreign_out_of_order_stream(lab_settings, tmp_path, api):
    """Other device names, other field order, extra fields, integers, millisecond times, out-of-order and
    late readings, and broken records of kinds our simulator never writes."""
    def line(device, ts, temperature, humidity=50, **extra):
        return json.dumps({"status": "RUN", "humidity": humidity, "timestamp": ts, "device_id": device,
                           "temperature": temperature, **extra}).encode()

    lines = [
        line("pump-A", "2026-03-01T08:00:05.250Z", 40),
        line("pump-A", "2026-03-01T08:04:59.999Z", 41.5, firmware="2.1"),
        line("pump-B", "2026-03-01T08:03:00Z", -5.25, 0),
        line("pump-A", "2026-03-01T08:05:00Z", 43),            # first reading of the next window
        line("pump-A", "2026-03-01T08:02:00Z", 39),            # out of order, still on time
        line("pump-B", "2026-03-01T08:31:00Z", -4, 100),
        line("pump-B", "2026-03-01T08:10:00Z", -6),            # 21 min behind pump-B's newest: late
        line("pump-A", "2026-03-01T08:06:00Z", None),           # null is not a number
        line("pump-A", "2026-02-30T08:06:00Z", 1),              # no such day
        b"\xff\xfe garbage",
        b"",
        b'{"device_id":"pump-C","timestamp":"2026-03-01T08:06:00Z","temperature":1e1,"humidity":5,"status":"x"}',
    ]
    topic = replayed(lines, tmp_path, partitions=2)
    windows, _ = run_aggregate(topic, api, tmp_path)
    expected = aggregate_lines(lines)
    assert_windows_equal(windows, expected.windows)
    assert len(expected.dead_lettered) == 4 and len(expected.late) == 1
    assert sorted(m.value for m in read_topic(OutputTopics(topic).dead_letter)) == sorted(expected.dead_lettered)
    assert [m.value for m in read_topic(OutputTopics(topic).late)] == expected.late


def test_sql_and_datastream_write_identical_files(lab_settings, tmp_path):
    lines = read_lines(project_root() / "data" / "anomaly_day.jsonl")[:6000]
    topic = replayed(lines, tmp_path)
    run_aggregate(topic, "sql", tmp_path)
    run_aggregate(topic, "datastream", tmp_path)
    assert (tmp_path / "windows-sql.jsonl").read_bytes() == (tmp_path / "windows-datastream.jsonl").read_bytes()
