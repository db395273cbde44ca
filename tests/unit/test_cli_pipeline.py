"""`iotlab pipeline` and `iotlab fault`: arguments checked before anything starts, errors in one line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from iotlab.cli import main
from iotlab.core.errors import LabError
from iotlab.lab.native import NativeLab


def invoke(*arguments: str):
    return CliRunner().invoke(main, list(arguments))


def test_pipeline_offers_run_start_status_stop():
    result = invoke("pipeline", "--help")
    assert result.exit_code == 0
    for command in ("run", "start", "status", "stop"):
        assert command in result.output


def test_run_must_say_bounded():
    result = invoke("pipeline", "run", "--topic", "t")
    assert result.exit_code == 2 and "--bounded" in result.output


@pytest.mark.parametrize("command", ["run", "start"])
def test_a_bad_keyspace_gets_one_line_with_the_fix(command):
    bounded = ["--bounded"] if command == "run" else []
    result = invoke("pipeline", command, "--topic", "t", "--keyspace", "Bad-Name", *bounded)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("error: --keyspace:")
    assert "pick a name like iotlab_mine" in result.output


def test_fault_kill_knows_its_targets():
    result = invoke("fault", "kill", "zookeeper")
    assert result.exit_code == 2 and "taskmanager" in result.output and "jobmanager" in result.output
    assert invoke("fault", "kill", "broker", "4").exit_code == 2  # nodes are 1 to 3


def test_killing_the_taskmanager_of_a_lab_that_is_not_running_says_so(tmp_path):
    with pytest.raises(LabError, match="no TaskManager of this lab is running"):
        NativeLab(state=tmp_path).kill_taskmanager(say=lambda _: None)


def test_the_docker_fault_without_an_engine_fails_with_one_clear_line(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = invoke("fault", "kill", "taskmanager", "--runtime", "docker")
    assert result.exit_code == 1
    assert result.output.strip() == "error: docker not found: install Docker, or use the native lab (`iotlab lab up`)"
