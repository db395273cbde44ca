"""The native lab as a user meets it: status, logs, the no-op second `up`, and its error lines."""

import os
import signal
import time

import pytest
import requests
from click.testing import CliRunner

from iotlab.cli import main
from iotlab.lab.native import NativeLab

pytestmark = pytest.mark.integration


def test_status_shows_all_three_services_healthy_with_pid_and_memory(lab_settings):
    result = CliRunner().invoke(main, ["lab", "status"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[2:]}
    for service, address in (("kafka", "127.0.0.1:9092"), ("cassandra", "127.0.0.1:9042"),
                             ("flink", "http://127.0.0.1:8081")):
        assert address in lines[service] and " yes " in lines[service], result.output
    rows = NativeLab().status()
    assert all(row.healthy and row.pids and row.rss_mb > (50 if row.name in ("kafka", "cassandra", "flink") else 10)
               for row in rows)  # the JVMs; with monitoring, also Prometheus and the lag exporter
    assert rows[1].version.startswith("5.0.") and rows[2].version.startswith("2.2.")


def test_up_on_a_running_lab_is_a_no_op_that_says_so(lab_settings):
    before = {service: NativeLab().pids(service) for service in ("kafka", "cassandra", "flink")}
    result = CliRunner().invoke(main, ["lab", "up", "--no-progress"])
    assert result.exit_code == 0
    assert "already running" in result.output and "nothing to do" in result.output
    assert before == {service: NativeLab().pids(service) for service in before}


def test_a_second_lab_refuses_ports_the_first_one_holds(lab_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("IOTLAB_STATE_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["lab", "up", "--no-progress"])
    assert result.exit_code == 1
    assert "port(s) already in use on 127.0.0.1: 9092 (kafka)" in result.output
    assert "iotlab lab down" in result.output


@pytest.mark.parametrize("service,expected", [("kafka", "Kafka Server started"),
                                              ("cassandra", "Starting listening for CQL clients"),
                                              ("flink", "Starting")])
def test_logs_show_each_services_own_log(lab_settings, service, expected):
    result = CliRunner().invoke(main, ["lab", "logs", service, "-n", "100000"])
    assert result.exit_code == 0
    assert expected in result.output


def test_doctor_passes_on_the_running_lab(lab_settings):
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "All checks passed" in result.output


@pytest.mark.alone  # kills the TaskManager: every job on the session cluster restarts
def test_a_taskmanager_that_exits_on_its_own_is_replaced_by_the_supervisor(lab_settings):
    """A TaskManager that dies without a fault command (as one does when PyFlink's close fails in a failover): the
    lab's supervisor starts a new one, which registers with the JobManager, and says so in `lab logs flink`."""
    lab = NativeLab()
    registered = f"{lab_settings.flink_rest_url}/taskmanagers"
    old_ids = {tm["id"] for tm in requests.get(registered, timeout=5).json()["taskmanagers"]}
    old_pids = lab.flink_role_pids("taskexecutor")
    for pid in old_pids:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 90
    new_ids: set[str] = set()
    while not new_ids and time.monotonic() < deadline:
        time.sleep(1)
        new_ids = {tm["id"] for tm in requests.get(registered, timeout=5).json()["taskmanagers"]} - old_ids
    assert new_ids, "no new TaskManager registered within 90 s of the old one's death"
    assert lab.flink_role_pids("taskexecutor") and not set(lab.flink_role_pids("taskexecutor")) & set(old_pids)
    assert "starting a new one" in lab.log_tail("flink", lines=20)
