"""`iotlab aggregate` on the real lab: windows equal an independent pandas computation (counts exactly,
averages to 1e-9), every bad record is dead-lettered with a reason, late ones are set aside, and the
counts add up — on our datasets and on a stream the simulator did not write."""

import json
import math
import uuid

import pandas as pd
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


def run_aggregate(topic: str, api: str, tmp_path, *options: str):
    out = tmp_path / f"windows-{api}.jsonl"
    result = CliRunner().invoke(main, ["aggregate", "--topic", topic, "--out", str(out), "--api", api, *options])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text().splitlines()], result.output


def assert_windows_equal(actual: list[dict], expected) -> None:
    expected_rows = expected.to_dict("records")
    assert [(w["device_id"], w["window_start"], w["window_end"], w["count"]) for w in actual] == \
        [(w["device_id"], w["window_start"], w["window_end"], w["count"]) for w in expected_rows]
    for got, want in zip(actual, expected_rows):
        for field in ("avg_temp", "min_temp", "max_temp", "avg_humidity"):
            assert math.isclose(got[field], want[field], rel_tol=0, abs_tol=1e-9), (got, field)


@pytest.mark.parametrize("parallelism", ["1", "2"])
def test_anomaly_day_matches_pandas_and_accounts_for_every_reading(lab_settings, tmp_path, parallelism):
    """SQL, one partition: one source split, one arrival order, watermarks emitted after every record, so
    the late readings are the same on every run, and equal to the reference's. At parallelism 2 the second
    source subtask has no partition to read: it finishes at once and holds no watermark back."""
    lines = read_lines(project_root() / "data" / "anomaly_day.jsonl")
    topic = replayed(lines, tmp_path, partitions=1)
    windows, output = run_aggregate(topic, "sql", tmp_path, "--parallelism", parallelism)
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
    """Other device names, other field order, extra fields, integers, fractions of a second, numeric offsets,
    out-of-order and late readings, and broken records of kinds our simulator never writes."""
    def line(device, ts, temperature, humidity=50, **extra):
        return json.dumps({"status": "RUN", "humidity": humidity, "timestamp": ts, "device_id": device,
                           "temperature": temperature, **extra}).encode()

    lines = [
        line("pump-A", "2026-03-01T08:00:05.250Z", 40),
        line("pump-A", "2026-03-01T08:04:59.999Z", 41.5, firmware="2.1"),
        line("pump-B", "2026-03-01T08:03:00Z", -5.25, 0),
        line("pump-A", "2026-03-01T09:05:00+01:00", 43),        # 08:05 UTC: the next window
        line("pump-A", "2026-03-01T03:02:00.123456789-05:00", 39),  # 08:02:00.123 UTC: out of order, on time
        line("pump-C", "2026-02-28T23:58:30-08:30", 7),         # 08:28:30 UTC, the next day
        line("pump-B", "2026-03-01T08:31:00+00:00", -4, 100),
        line("pump-B", "2026-03-01T08:10:00Z", -6),            # the watermark is at 08:21: its window fired
        line("pump-A", "2026-03-01T08:06:00Z", None),           # null is not a number
        line("pump-A", "2026-02-30T08:06:00Z", 1),              # no such day
        line("pump-A", "2026-03-01T08:06:00+24:00", 1),         # no such offset
        b"\xff\xfe garbage",
        b"",
        b'{"device_id":"pump-C","timestamp":"2026-03-01T08:06:00Z","temperature":1e1,"humidity":5,"status":"x"}',
    ]
    topic = replayed(lines, tmp_path, partitions=1)
    # The DataStream job's late decisions can differ from the SQL job's at the margin (see its docstring):
    # it is compared exactly with a bound under which nothing is late.
    bound = 10 if api == "sql" else 60
    windows, _ = run_aggregate(topic, api, tmp_path, "--out-of-orderness", str(bound))
    expected = aggregate_lines(lines, bound)
    assert_windows_equal(windows, expected.windows)
    starts = {(w["device_id"], w["window_start"]): w["count"] for w in windows}
    assert starts[("pump-A", "2026-03-01T08:00:00Z")] == 3 and starts[("pump-A", "2026-03-01T08:05:00Z")] == 1
    assert starts[("pump-C", "2026-03-01T08:25:00Z")] == 1
    assert len(expected.dead_lettered) == 5 and len(expected.late) == (2 if api == "sql" else 0)
    assert sorted(m.value for m in read_topic(OutputTopics(topic).dead_letter)) == sorted(expected.dead_lettered)
    assert [m.value for m in read_topic(OutputTopics(topic).late)] == expected.late


def test_several_partitions_give_exact_windows_when_the_bound_exceeds_the_disorder(lab_settings, tmp_path):
    """Three partitions are read interleaved as they come; with a bound larger than any reading's delay no
    reading can be late, whatever the interleaving (or the subtask that reads a partition), so the windows
    are exact."""
    lines = read_lines(project_root() / "data" / "anomaly_day.jsonl")
    topic = replayed(lines, tmp_path, partitions=3)
    windows, output = run_aggregate(topic, "sql", tmp_path, "--out-of-orderness", "60", "--parallelism", "2")
    expected = aggregate_lines(lines, out_of_orderness_minutes=60)
    assert not expected.late
    assert_windows_equal(windows, expected.windows)
    assert "late: 0," in output


def test_several_partitions_account_for_every_reading_with_a_small_bound(lab_settings, tmp_path):
    """With a 2-minute bound which readings are late depends on the interleaving; the accounting does not."""
    lines = read_lines(project_root() / "data" / "anomaly_day.jsonl")
    topic = replayed(lines, tmp_path, partitions=3)
    windows, _ = run_aggregate(topic, "sql", tmp_path, "--out-of-orderness", "2")
    late = read_topic(OutputTopics(topic).late)
    dead = read_topic(OutputTopics(topic).dead_letter)
    assert late, "with a 2-minute bound some readings are late"
    assert sum(w["count"] for w in windows) + len(late) + len(dead) == len(lines)
    valid_lines = {line for line in lines if validate_reading(line)[0] is not None}
    assert {m.value for m in late} <= valid_lines


def test_allowed_lateness_is_a_datastream_option_and_every_reading_is_accounted_for(lab_settings, tmp_path):
    lines = read_lines(project_root() / "data" / "anomaly_day.jsonl")[:6000]
    topic = replayed(lines, tmp_path, partitions=1)
    windows, _ = run_aggregate(topic, "datastream", tmp_path, "--out-of-orderness", "2", "--allowed-lateness", "5")
    late = read_topic(OutputTopics(topic).late)
    dead = read_topic(OutputTopics(topic).dead_letter)
    assert sum(w["count"] for w in windows) + len(late) + len(dead) == len(lines)
    sql = CliRunner().invoke(main, ["aggregate", "--topic", topic, "--out", str(tmp_path / "x"), "--api", "sql",
                                    "--allowed-lateness", "5"])
    assert sql.exit_code == 1 and "no allowed lateness" in sql.output


def test_sql_and_datastream_give_the_same_windows(lab_settings, tmp_path):
    lines = read_lines(project_root() / "data" / "anomaly_day.jsonl")[:6000]
    topic = replayed(lines, tmp_path, partitions=1)
    sql, _ = run_aggregate(topic, "sql", tmp_path, "--out-of-orderness", "60")
    datastream, _ = run_aggregate(topic, "datastream", tmp_path, "--out-of-orderness", "60")
    # the same windows and counts; averages to 1e-9 (the SQL job sums each window in two phases)
    assert_windows_equal(datastream, pd.DataFrame(sql))
