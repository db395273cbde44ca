"""`iotlab evaluate` on files (no lab): the table, and one clear line for inputs it cannot score."""

from __future__ import annotations

import json

from click.testing import CliRunner

from iotlab.cli import main
from iotlab.jobs.anomalies import reference
from iotlab.sim import SensorSimulator, SimulationConfig, labels_path_of, simulate_to_file

DAY = SimulationConfig(devices=3, interval_s=60, duration_s=12 * 3600, seed=22, anomaly_rate=0.01)


def recorded(tmp_path):
    """A labelled recording NAME.jsonl + NAME.labels.jsonl, and the reference detectors' alerts on it."""
    stream = tmp_path / "day.jsonl"
    simulate_to_file(DAY, stream, labels_path_of(stream), progress=False)
    lines = [record.value for record in SensorSimulator(DAY).records()]
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text("".join(json.dumps(alert) + "\n" for alert in reference.detect(lines)))
    return stream, alerts


def pairs_order(kind: str) -> int:
    return ["spike", "stuck", "drift", "offline", "out_of_range"].index(kind)


def test_evaluate_finds_the_recording_beside_its_labels(tmp_path):
    stream, alerts = recorded(tmp_path)
    result = CliRunner().invoke(main, ["evaluate", "--alerts", str(alerts), "--labels", str(labels_path_of(stream))])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()]
    pairs = [(row[1], row[2]) for row in rows if row[0] == "detectors"]
    assert [kind for kind, _ in pairs] == sorted((kind for kind, _ in pairs), key=pairs_order) and len(pairs) >= 6
    assert {("stuck", "temperature"), ("stuck", "humidity"), ("offline", "all")} <= set(pairs)
    for baseline in ("random, same rate", "fixed band", "rolling z-score"):
        assert baseline in result.output


def test_evaluate_asks_for_the_recording_when_the_labels_name_does_not_tell_it(tmp_path):
    stream, alerts = recorded(tmp_path)
    labels = tmp_path / "labels.jsonl"
    labels.write_bytes(labels_path_of(stream).read_bytes())
    result = CliRunner().invoke(main, ["evaluate", "--alerts", str(alerts), "--labels", str(labels)])
    assert result.exit_code != 0
    assert "cannot tell the recorded stream" in result.output and "--readings" in result.output
    assert "Traceback" not in result.output

    result = CliRunner().invoke(main, ["evaluate", "--alerts", str(alerts), "--labels", str(labels),
                                       "--readings", str(stream)])
    assert result.exit_code == 0, result.output


def test_evaluate_refuses_a_recording_without_valid_readings(tmp_path):
    stream, alerts = recorded(tmp_path)
    result = CliRunner().invoke(main, ["evaluate", "--alerts", str(alerts), "--labels", str(labels_path_of(stream)),
                                       "--readings", str(alerts)])
    assert result.exit_code != 0
    assert "holds no valid reading" in result.output and "Traceback" not in result.output


def test_bench_evaluation_takes_a_range_or_a_list_of_at_least_two_seeds():
    from iotlab.cli.bench import parse_seeds

    assert parse_seeds("101-105") == (101, 102, 103, 104, 105)
    assert parse_seeds("101,103,107") == (101, 103, 107)
    for wrong in ("101", "a-b", "101,x"):
        result = CliRunner().invoke(main, ["bench", "evaluation", "--seeds", wrong])
        assert result.exit_code == 2 and "--seeds" in result.output and wrong in result.output, result.output


def test_bench_evaluation_scores_each_setting_per_kind_and_quantity(monkeypatch):
    """The bench on one short setting (two seeds, two hours): a row per (kind, quantity) with its interval."""
    from iotlab.bench import evaluation as bench

    short = bench.Setting("anomaly day, 2 h", lambda seed: SimulationConfig(
        devices=10, interval_s=60, duration_s=2 * 3600, seed=seed, anomaly_rate=0.02))
    monkeypatch.setattr(bench, "SETTINGS", [short])
    printed: list[str] = []
    results = bench.bench_evaluation(seeds=(101, 102), echo=printed.append)
    scores = results["anomaly day, 2 h"]
    assert scores and all(0.0 <= found.low <= found.mean <= found.high <= 1.0 or found.samples < 2
                          for found in scores.values())
    rows = [line for line in printed if line.startswith("  ") and line.endswith(("met", "NOT MET"))]
    assert len(rows) == len(scores) and printed[-1].startswith("pairs below target: ")
