"""The fault drill's bookkeeping, without the lab: the row comparison, what counts as a survived fault, the
report's lines, and the faults it injects (the commands a learner would type)."""

from __future__ import annotations

from click.testing import CliRunner

from iotlab.cli import main
from iotlab.faults.drill import DrillReport, FaultRecord, compare_rows, drill_faults


def window(device: str, start: str, avg: float = 21.0) -> dict:
    return {"device_id": device, "window_start": start, "avg_temp": avg}


def key(row: dict) -> tuple:
    return row["device_id"], row["window_start"]


def test_rows_are_matched_by_key_and_floats_within_a_millionth():
    expected = [window("d1", "10:00"), window("d1", "10:05"), window("d2", "10:00", 0.3)]
    actual = [window("d2", "10:00", 0.1 + 0.2), window("d1", "10:00", 21.5), window("d9", "10:00")]
    # d1 10:05 missing; d1 10:00 different; d9 only in Cassandra (different); d2 equal within 1e-6
    assert compare_rows(actual, expected, key, lambda row: True) == (4, 1, 2)


def test_only_the_rows_a_fault_owns_are_compared():
    expected = [window("d1", "10:00"), window("d1", "10:05")]
    owned = compare_rows([], expected, key, lambda row: row["window_start"] == "10:05")
    assert owned == (1, 1, 0)


def test_a_fault_is_survived_when_the_job_caught_up_and_its_rows_are_right():
    assert FaultRecord("x", injected_at=0.0, caught_up_s=12.0).survived
    assert not FaultRecord("x", injected_at=0.0, caught_up_s=None).survived
    assert not FaultRecord("x", injected_at=0.0, caught_up_s=12.0, missing=1).survived
    assert not FaultRecord("x", injected_at=0.0, caught_up_s=12.0, duplicated=1).survived
    assert not FaultRecord("x", injected_at=0.0, caught_up_s=12.0, different=1).survived


def test_the_report_ends_with_the_line_the_issue_asks_for():
    records = [FaultRecord("broker 2 killed", 0.0, detected_s=None, running_again_s=0.0, caught_up_s=11.7,
                           compared=318),
               FaultRecord("TaskManager killed", 0.0, detected_s=3.8, running_again_s=39.3, caught_up_s=None,
                           compared=10)]
    report = DrillReport(records, readings=1000, rate=500.0, compared=328, missing=2, duplicated=1)
    assert report.summary() == "faults survived: 1 of 2, rows lost 2, rows duplicated 1"
    table = report.table()
    assert table[0].split() == ["fault", "detected", "running", "caught", "up", "rows", "missing", "duplicated",
                                "different"]
    assert "absorbed" in table[1] and "11.7 s" in table[1]
    assert "3.8 s" in table[2] and "never" in table[2]
    assert table[-1].split()[:3] == ["whole", "run", "328"]


def test_the_drill_injects_what_the_fault_commands_do():
    faults = drill_faults(outage_s=60)
    assert [fault.name for fault in faults] == ["broker 2 killed", "Cassandra node 3 killed",
                                                "Cassandra outage (60 s)", "TaskManager killed", "JobManager killed"]
    for fault in faults:
        group, command, *arguments = fault.command.split()[1:]
        assert group == "fault"
        with main.make_context("iotlab", ["fault"]) as context:
            subcommand = main.get_command(context, "fault").get_command(context, command)
            subcommand.make_context(command, arguments)  # raises on an argument the command does not take
    assert [fault.undo is not None for fault in faults] == [True, True, False, False, False]


def test_bench_faults_refuses_the_one_node_lab_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("IOTLAB_STATE_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["bench", "faults"])
    assert result.exit_code != 0
    assert "three-node lab" in result.output and "iotlab lab up --nodes 3" in result.output, result.output
