"""The lab runtime's safety rules, checked without starting services."""

import os
import socket
import subprocess
import sys

import psutil
import pytest
from click.testing import CliRunner

from iotlab.cli import main
from iotlab.core.paths import lab_env_dir
from iotlab.lab import LabError, get_runtime
from iotlab.lab.native import NativeLab, _jvm_options
from iotlab.lab.prerequisites import require_free_ports


def test_a_taken_port_is_reported_with_the_fix():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(LabError) as error:
            require_free_ports({port: "test service"})
    message = str(error.value)
    assert f"{port} (test service)" in message and "ss -ltnp" in message and "\n" not in message


def test_free_ports_pass():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    require_free_ports({port: "nobody"})


def test_down_never_signals_a_process_the_lab_did_not_start(tmp_path):
    """A stale pid file pointing at someone else's process (pid reuse) must not get it killed."""
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lab = NativeLab(state=tmp_path)
        lab.pids_dir.mkdir(parents=True)
        (lab.pids_dir / "kafka.pid").write_text(f"{stranger.pid}\n")
        assert lab.pids("kafka") == []
        messages = []
        lab.down(say=messages.append)
        assert psutil.pid_exists(stranger.pid) and stranger.poll() is None
        assert messages == ["The lab was not running; nothing to stop."]
    finally:
        stranger.kill()
        stranger.wait()


def test_down_stops_a_process_that_is_ours(tmp_path):
    marker = str(tmp_path)  # our processes name the state folder on their command line
    ours = subprocess.Popen([sys.executable, "-c", "import sys, time; time.sleep(60)", marker])
    try:
        lab = NativeLab(state=tmp_path)
        lab.pids_dir.mkdir(parents=True)
        (lab.pids_dir / "cassandra.pid").write_text(f"{ours.pid}\n")
        assert lab.pids("cassandra") == [ours.pid]
        messages = []
        lab.down(say=messages.append, timeout_s=5)
        assert ours.wait(timeout=5) is not None
        assert messages == [f"Stopped cassandra (pid {ours.pid})."]
        assert not (lab.pids_dir / "cassandra.pid").exists()
    finally:
        if ours.poll() is None:
            ours.kill()


def test_cassandra_jvm_options_are_single_java_arguments():
    options = _jvm_options(lab_env_dir() / "native" / "cassandra" / "jvm17.options")
    assert "-Xmx512m" in options
    assert all(" " not in option for option in options), "java takes --add-opens=X, not '--add-opens X'"
    assert any(option.startswith("--add-opens=java.base/java.lang=") for option in options)


def test_unknown_runtime_is_refused():
    with pytest.raises(LabError, match="unknown runtime"):
        get_runtime("kubernetes")


def test_cli_rejects_an_unknown_service_in_one_line():
    result = CliRunner().invoke(main, ["lab", "logs", "zookeeper"])
    assert result.exit_code == 2
    assert "'zookeeper' is not one of" in result.output


def test_docker_runtime_without_an_engine_fails_with_one_clear_line(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = CliRunner().invoke(main, ["lab", "status", "--runtime", "docker"])
    assert result.exit_code == 1
    assert result.output.strip() == "error: docker not found: install Docker, or use the native lab (`iotlab lab up`)"


def test_up_without_java_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("IOTLAB_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", "/nonexistent")
    result = CliRunner().invoke(main, ["lab", "up", "--no-progress"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: Java not found: install OpenJDK 17")


def test_flink_processes_never_inherit_pyflink_worker_variables(monkeypatch):
    """A Python process that ran an in-process PyFlink job carries PyFlink's loopback address in its environment;
    a TaskManager started from it would send its Python workers there and every Python job would fail."""
    from iotlab.lab.native import flink_process_environment

    monkeypatch.setenv("PYTHON_LOOPBACK_SERVER_ADDRESS", "localhost:12345")
    monkeypatch.setenv("_PYTHON_WORKER_MEMORY_LIMIT", "1")
    environment = flink_process_environment(FLINK_CONF_DIR="/conf")
    assert "PYTHON_LOOPBACK_SERVER_ADDRESS" not in environment and "_PYTHON_WORKER_MEMORY_LIMIT" not in environment
    assert environment["FLINK_CONF_DIR"] == "/conf" and environment["PATH"] == os.environ["PATH"]
