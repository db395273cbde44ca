"""No process outlives its command (iotlab.core.processes): each command that starts a Flink job, a Python
worker, a consumer or a session runs as a learner runs it, and afterwards neither the process table nor the
listening sockets hold anything it started.

Every command runs with a marker variable in its environment, which every process it starts inherits (the Java
gateway, and the Python workers the JVM starts): a process carrying the marker after the command has exited is
a leftover, whoever its parent is now. Listening sockets are compared before and after, and a new one that
belongs to a marked process is a leftover too. Processes of tests running beside these carry no marker.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from iotlab.core.processes import is_python_worker, orphaned_python_workers
from iotlab.kafka import recreate_topic
from iotlab.lab.native import end_orphaned_workers, flink_process_environment
from iotlab.sim.writers import read_lines, replay_lines

pytestmark = pytest.mark.integration

MARKER = "IOTLAB_TEST_COMMAND"
TOPIC = "it.leftovers"
KEYSPACE = "iotlab_it_leftovers"
IOTLAB = str(Path(sys.executable).with_name("iotlab"))


def marked(mark: str) -> list[psutil.Process]:
    """The live processes whose environment carries ``mark`` (zombies have none: they are gone but for a row)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() != psutil.STATUS_ZOMBIE and process.environ().get(MARKER) == mark:
                found.append(process)
        except psutil.Error:
            continue
    return found


def listening() -> dict[tuple[str, int], int]:
    """Every listening TCP socket on the machine, (address, port) -> the pid holding it (0 when unknown)."""
    return {(c.laddr.ip, c.laddr.port): c.pid or 0
            for c in psutil.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}


def leftovers(mark: str, sockets_before: dict[tuple[str, int], int]) -> list[str]:
    """What a command marked ``mark`` left: its processes, and the new listening sockets they hold."""
    processes = marked(mark)
    pids = {process.pid for process in processes}
    left = []
    for process in processes:
        try:
            left.append(f"process {process.pid} (parent {process.ppid()}): {' '.join(process.cmdline())[:160]}")
        except psutil.Error:
            continue
    for (address, port), pid in listening().items():
        if (address, port) not in sockets_before and pid in pids:
            left.append(f"listening socket {address}:{port} of process {pid}")
    return left


def run_command(args: list[str], timeout_s: float = 600) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run ``iotlab ARGS`` to its end; return its result and what it left."""
    mark = uuid.uuid4().hex
    before = listening()
    result = subprocess.run([IOTLAB, *args], capture_output=True, text=True, timeout=timeout_s,
                            env=flink_process_environment(**{MARKER: mark}))
    return result, leftovers(mark, before)


def wait_for_python_workers(mark: str, timeout_s: float = 120) -> list[psutil.Process]:
    """Wait until a process marked ``mark`` runs a PyFlink Python worker (the job is past its start-up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        workers = [process for process in marked(mark) if is_python_worker(process)]
        if workers:
            return workers
        time.sleep(0.5)
    raise AssertionError(f"no Python worker started within {timeout_s:.0f} s")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, lab_settings) -> dict[str, Path]:
    """Two hours of five devices with anomalies: a file, its labels, a topic holding it, the stored tables, and
    the alerts of the SQL detectors (made with `iotlab detect`, checked like every other command)."""
    folder = tmp_path_factory.mktemp("leftovers")
    readings = folder / "day.jsonl"
    result, left = run_command(["simulate", "--out", str(readings), "--devices", "5", "--duration", "2h",
                                "--anomaly-rate", "0.02", "--seed", "11", "--no-progress"])
    assert result.returncode == 0 and not left, result.stderr + "\n".join(left)
    create = subprocess.run([IOTLAB, "store", "create", "--keyspace", KEYSPACE], capture_output=True, text=True)
    assert create.returncode == 0, create.stdout + create.stderr
    recreate_topic(TOPIC, partitions=3)
    replay_lines(read_lines(readings), TOPIC, progress=False)
    alerts = folder / "alerts.jsonl"
    result, left = run_command(["detect", "--topic", TOPIC, "--out", str(alerts)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert left == [], "`iotlab detect` left:\n" + "\n".join(left)
    return {"folder": folder, "readings": readings, "labels": folder / "day.labels.jsonl", "alerts": alerts}


COMMANDS = {
    "simulate": lambda files: ["simulate", "--topic", "it.leftovers.simulated", "--devices", "3", "--duration",
                               "10m", "--fast", "--no-progress"],
    "replay": lambda files: ["replay", str(files["readings"]), "--topic", "it.leftovers.replayed", "--no-progress"],
    "aggregate (sql)": lambda files: ["aggregate", "--topic", TOPIC, "--out", str(files["folder"] / "w1.jsonl")],
    "aggregate (datastream)": lambda files: ["aggregate", "--topic", TOPIC, "--api", "datastream",
                                             "--out", str(files["folder"] / "w2.jsonl")],
    "detect (python)": lambda files: ["detect", "--topic", TOPIC, "--engine", "python",
                                      "--out", str(files["folder"] / "a2.jsonl")],
    "pipeline run --bounded": lambda files: ["pipeline", "run", "--bounded", "--topic", TOPIC,
                                             "--keyspace", KEYSPACE],
    "store export": lambda files: ["store", "export", "windows", "--keyspace", KEYSPACE,
                                   "--out", str(files["folder"] / "export.jsonl")],
    "evaluate": lambda files: ["evaluate", "--alerts", str(files["alerts"]), "--labels", str(files["labels"]),
                               "--readings", str(files["readings"])],
    "bench detectors": lambda files: ["bench", "detectors", "--readings", "3000", "--devices", "5"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_leaves_no_process_and_no_listening_socket(name, inputs):
    result, left = run_command(COMMANDS[name](inputs))
    assert result.returncode == 0, result.stdout + result.stderr
    assert left == [], f"`iotlab {name}` left:\n" + "\n".join(left)


def start_bounded_pipeline(topic: str) -> tuple[subprocess.Popen, str, dict[tuple[str, int], int]]:
    """Fill ``topic`` with three days of 20 devices (518,400 readings: the job runs for several seconds after its
    Python workers start, so a signal sent then finds it running even on a busy machine) and start `iotlab pipeline
    run --bounded` on it, marked; return the command, its mark and the listening sockets from before it started."""
    subprocess.run([IOTLAB, "simulate", "--topic", topic, "--devices", "20", "--duration", "72h", "--fast",
                    "--no-progress"], check=True, capture_output=True)
    mark = uuid.uuid4().hex
    before = listening()
    command = subprocess.Popen([IOTLAB, "pipeline", "run", "--bounded", "--topic", topic, "--keyspace", KEYSPACE],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=flink_process_environment(**{MARKER: mark}), preexec_fn=as_from_a_terminal)
    return command, mark, before


def as_from_a_terminal() -> None:
    """Ctrl-C's default action, as a command typed in a terminal has it. A suite started in the background by a
    non-interactive shell (`bash .ci/run &`) passes SIGINT down ignored, and the command would run to its end."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_a_bounded_job_and_leaves_nothing():
    """SIGINT (Ctrl-C) while the pipeline's Python workers run: the command says it was interrupted, exits with
    130, and leaves nothing."""
    command, mark, before = start_bounded_pipeline("it.leftovers.interrupted")
    try:
        wait_for_python_workers(mark)
        command.send_signal(signal.SIGINT)
        _, errors = command.communicate(timeout=60)
    finally:
        command.kill()
    assert command.returncode == 130, errors
    assert errors.strip().splitlines()[-1].startswith("interrupted:"), errors
    assert "Traceback" not in errors, errors
    left = leftovers(mark, before)
    assert left == [], "`iotlab pipeline run --bounded` interrupted left:\n" + "\n".join(left)


def test_a_command_whose_java_gateway_dies_leaves_no_worker_behind():
    """The gateway JVM killed with SIGKILL mid-job (as the out-of-memory killer does): its Python workers lose
    their parent, and the command, their subreaper, ends them when it fails."""
    command, mark, before = start_bounded_pipeline("it.leftovers.gateway")
    try:
        workers = wait_for_python_workers(mark)
        gateway = workers[0].parent()
        assert gateway is not None and gateway.name() == "java"
        gateway.kill()
        command.communicate(timeout=120)
    finally:
        command.kill()
    assert command.returncode != 0
    left = leftovers(mark, before)
    assert left == [], "the failed command left:\n" + "\n".join(left)


def test_lab_down_ends_workers_whose_flink_process_died(inputs):
    """Hung workers orphaned for real (their JVM and the command above it killed with SIGKILL, nothing left to end
    them) are found, ended and named by what `iotlab lab down` runs."""
    mark = uuid.uuid4().hex
    command = subprocess.Popen([IOTLAB, "detect", "--engine", "python", "--topic", TOPIC, "--out", "/dev/null"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=flink_process_environment(**{MARKER: mark}), start_new_session=True)
    try:
        workers = wait_for_python_workers(mark)
        gateway = workers[0].parent()
        # SIGSTOP: hung workers (a live one notices its JVM's end and exits by itself, most of the time), and a
        # JVM that cannot end them when its command dies.
        for process in [process for process in marked(mark) if is_python_worker(process)] + [gateway]:
            process.suspend()
        command.kill()  # SIGKILL: no exit handler runs
        command.wait()
        gateway.kill()
        gateway.wait(10)
        orphans = [process for process in orphaned_python_workers() if process.environ().get(MARKER) == mark]
        assert orphans, "killing the command and its JVM with SIGKILL left no orphan: the test proves nothing"
        said: list[str] = []
        ended = end_orphaned_workers(say=said.append)
        assert {process.pid for process in orphans} <= {process.pid for process in ended}
        assert said and "Python worker" in said[0], said
    finally:
        command.kill()
    assert marked(mark) == [], "still running after lab down's sweep"


def test_restarting_a_notebook_kernel_mid_job_leaves_nothing():
    """A learner restarts the kernel while a job of the course runs in it (Kernel > Restart): the new kernel is
    all that runs afterwards."""
    from jupyter_client.manager import KernelManager

    mark = uuid.uuid4().hex
    before = listening()
    kernel = KernelManager(kernel_name="python3")
    kernel.start_kernel(env=flink_process_environment(**{MARKER: mark}))
    client = kernel.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        client.execute("from iotlab.jobs.anomalies.runner import detect_topic\n"
                       f"detect_topic({TOPIC!r}, 60, engine='python')")
        wait_for_python_workers(mark)
        kernel.restart_kernel(now=False)
        client.wait_for_ready(timeout=60)
        new_kernel = kernel.provisioner.pid
        left = [line for line in leftovers(mark, before) if f" {new_kernel} " not in f" {line} "]
    finally:
        client.stop_channels()
        kernel.shutdown_kernel(now=True)
    assert left == [], "the restarted kernel left:\n" + "\n".join(left)
