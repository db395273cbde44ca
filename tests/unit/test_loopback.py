"""While a notebook runs a Flink job in-process, nothing listens on a public interface except the sockets
PyFlink opens without a setting, which the README's troubleshooting documents (and this test counts)."""

from __future__ import annotations

import time

import psutil
from pyflink.common import Types

from iotlab.flink import stream_environment

# Documented in README.md, "Troubleshooting": sockets PyFlink 2.2 binds to all interfaces, with no setting.
PYTHON_PROCESS_ALLOWED = 1  # the Beam worker pool in this Python process (beam_worker_pool_service.py: '[::]:0')
JVM_ALLOWED = 6  # Beam's gRPC servers in the JVM for the Python workers (control, data, state, logging...)


def slow(value: int) -> int:
    time.sleep(0.0005)
    return value


def listening_sockets() -> dict[str, list[str]]:
    """Non-loopback listening sockets of this process and its children, by kind of process."""
    me = psutil.Process()
    public: dict[str, list[str]] = {"python": [], "java": [], "other": []}
    for process in [me] + me.children(recursive=True):
        try:
            connections = process.net_connections(kind="inet")
            name = process.name()
        except psutil.Error:
            continue
        for connection in connections:
            if connection.status != psutil.CONN_LISTEN:
                continue
            address = connection.laddr.ip.removeprefix("::ffff:")
            if address in ("127.0.0.1", "::1"):
                continue
            kind = "python" if process.pid == me.pid else ("java" if "java" in name else "other")
            public[kind].append(f"{name}({process.pid}) {connection.laddr.ip}:{connection.laddr.port}")
    return public


def test_an_in_process_job_listens_on_loopback_except_for_documented_pyflink_sockets():
    env = stream_environment(kafka=False)
    numbers = env.from_collection(list(range(20_000)), type_info=Types.LONG()).map(slow, output_type=Types.LONG())
    results = numbers.execute_and_collect()
    try:
        next(results)  # the job runs, its Python worker too
        time.sleep(2)
        public = listening_sockets()
    finally:
        results.close()
    assert public["other"] == [], public
    assert len(public["python"]) <= PYTHON_PROCESS_ALLOWED, public
    assert len(public["java"]) <= JVM_ALLOWED, public
