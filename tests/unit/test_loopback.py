"""While a notebook runs a Flink job in-process, nothing listens on a public interface except the sockets
PyFlink opens without a setting, which the README's troubleshooting documents (and this test counts).

The job runs in a fresh Python process: PyFlink's own sockets pile up in a process that has run jobs
before (one more per job), and the test must see what one job opens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Documented in README.md, "Troubleshooting": sockets PyFlink 2.2 binds to all interfaces, with no setting.
PYTHON_PROCESS_ALLOWED = 1  # the Beam worker pool in the Python process (beam_worker_pool_service.py: '[::]:0')
JVM_ALLOWED = 6  # Beam's gRPC servers in the JVM for the job's one Python worker (control, data, state, logging...)

ONE_JOB = r'''
import json, time
import psutil
from pyflink.common import Types
from iotlab.flink import stream_environment


def slow(value):
    time.sleep(0.0005)
    return value


env = stream_environment(kafka=False)
results = env.from_collection(list(range(20_000)), type_info=Types.LONG()).map(
    slow, output_type=Types.LONG()).execute_and_collect()
next(results)  # the job runs, its Python worker too
time.sleep(2)
me = psutil.Process()
public = {"python": [], "java": [], "other": []}
for process in [me] + me.children(recursive=True):
    try:
        connections, name = process.net_connections(kind="inet"), process.name()
    except psutil.Error:
        continue
    for connection in connections:
        if connection.status == psutil.CONN_LISTEN:
            if connection.laddr.ip.removeprefix("::ffff:") in ("127.0.0.1", "::1"):
                continue
            kind = "python" if process.pid == me.pid else ("java" if "java" in name else "other")
            public[kind].append(f"{name}({process.pid}) {connection.laddr.ip}:{connection.laddr.port}")
results.close()
print("SOCKETS " + json.dumps(public))
'''


def fresh_environment() -> dict[str, str]:
    """This process's environment without what PyFlink set in it while it served as a Python worker
    (PYFLINK_GATEWAY_DISABLED and the like), which would stop the child from starting its own JVM."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("PYFLINK", "_PYFLINK", "FLINK_", "_PYTHON_"))}


def test_an_in_process_job_listens_on_loopback_except_for_documented_pyflink_sockets():
    run = subprocess.run([sys.executable, "-c", ONE_JOB], capture_output=True, text=True, timeout=300,
                         env=fresh_environment())
    lines = [line for line in run.stdout.splitlines() if line.startswith("SOCKETS ")]
    assert lines, run.stderr[-2000:]
    public = json.loads(lines[-1].removeprefix("SOCKETS "))
    assert public["other"] == [], public
    assert len(public["python"]) <= PYTHON_PROCESS_ALLOWED, public
    assert len(public["java"]) <= JVM_ALLOWED, public
