"""Checks for what the native lab needs on the machine; each failure names the fix."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Optional, Union

from iotlab.core.errors import LabError
from iotlab.core.topology import CASSANDRA_JMX_PORTS, node_host, node_numbers
from iotlab.lab.health import port_open
from iotlab.lab.monitoring import (
    FLINK_REPORTER_PORTS,
    JMX_EXPORTER_PORTS,
    LAG_EXPORTER_HOST,
    LAG_EXPORTER_PORT,
    PROMETHEUS_HOST,
    PROMETHEUS_PORT,
)

# Every port the one-node native lab binds on 127.0.0.1, and who binds it.
LAB_PORTS = {
    9092: "kafka",
    9093: "kafka (controller)",
    9042: "cassandra",
    7000: "cassandra (storage)",
    7199: "cassandra (JMX, for nodetool)",
    8081: "flink (REST/Web UI)",
    6123: "flink (RPC)",
}
NODE_PORTS = {"kafka": {9092: "", 9093: " (controller)"}, "cassandra": {9042: "", 7000: " (storage)"}}


def lab_ports(nodes: int, units: Optional[list[str]] = None, monitoring: bool = False) -> dict[tuple[str, int], str]:
    """Every (address, port) the native lab of ``nodes`` nodes binds, and who binds it; only the ports of the
    processes named in ``units`` (``kafka``, ``kafka-2``, ``cassandra-3``, ``flink``, ``prometheus``) when given.
    ``monitoring``: with the monitoring profile's ports (Prometheus, the JMX exporters, Flink's reporter)."""
    ports: dict[tuple[str, int], str] = {}
    for number in node_numbers(nodes):
        suffix = f"-{number}" if nodes > 1 else ""
        for service, service_ports in NODE_PORTS.items():
            if units is None or f"{service}{suffix}" in units:
                for port, role in service_ports.items():
                    ports[(node_host(number), port)] = f"{service}{suffix}{role}"
                if service == "cassandra":
                    ports[("127.0.0.1", CASSANDRA_JMX_PORTS[number])] = f"cassandra{suffix} (JMX, for nodetool)"
                if monitoring:
                    ports[(node_host(number), JMX_EXPORTER_PORTS[service])] = f"{service}{suffix} (JMX exporter)"
    if units is None or "flink" in units:
        ports.update({("127.0.0.1", 8081): "flink (REST/Web UI)", ("127.0.0.1", 6123): "flink (RPC)"})
        if monitoring:
            ports.update({("127.0.0.1", port): "flink (Prometheus reporter)" for port in FLINK_REPORTER_PORTS})
    if monitoring and (units is None or "prometheus" in units):
        ports[(PROMETHEUS_HOST, PROMETHEUS_PORT)] = "prometheus"
    if monitoring and (units is None or "lag-exporter" in units):
        ports[(LAG_EXPORTER_HOST, LAG_EXPORTER_PORT)] = "lag-exporter (consumer lag)"
    return ports


def java_major_version() -> Optional[int]:
    """The major version of ``java`` on PATH, or None when there is no java."""
    if shutil.which("java") is None:
        return None
    output = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 else major


def require_java17() -> None:
    major = java_major_version()
    if major is None:
        raise LabError("Java not found", "install OpenJDK 17 (apt install openjdk-17-jdk-headless, or conda) and retry")
    if major != 17:
        raise LabError(f"Java {major} found, the lab needs Java 17", "install OpenJDK 17 and put it first on PATH")


def require_maven() -> None:
    if shutil.which("mvn") is None:
        raise LabError("Maven not found", "install it (apt install maven, or conda install maven) and retry")


def require_free_ports(ports: dict[Union[int, tuple[str, int]], str]) -> None:
    """Raise when any port the lab needs is already taken by another program (a bare port is on 127.0.0.1)."""
    addresses = {(key if isinstance(key, tuple) else ("127.0.0.1", key)): who for key, who in ports.items()}
    taken = [f"{port} ({who})" if host == "127.0.0.1" else f"{host}:{port} ({who})"
             for (host, port), who in addresses.items() if port_open(host, port)]
    if taken:
        raise LabError(
            f"port(s) already in use on 127.0.0.1: {', '.join(taken)}",
            "stop what uses them (see `ss -ltnp`) or stop an old lab with `iotlab lab down`"
        )
