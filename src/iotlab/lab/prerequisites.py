"""Checks for what the native lab needs on the machine; each failure names the fix."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Optional

from iotlab.core.errors import LabError
from iotlab.lab.health import port_open

# Every port the native lab binds on 127.0.0.1, and who binds it.
LAB_PORTS = {
    9092: "kafka",
    9093: "kafka (controller)",
    9042: "cassandra",
    7000: "cassandra (storage)",
    7199: "cassandra (JMX, for nodetool)",
    8081: "flink (REST/Web UI)",
    6123: "flink (RPC)",
}


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


def require_free_ports(ports: dict[int, str]) -> None:
    """Raise when any port the lab needs is already taken by another program."""
    taken = [f"{port} ({who})" for port, who in ports.items() if port_open("127.0.0.1", port)]
    if taken:
        raise LabError(
            f"port(s) already in use on 127.0.0.1: {', '.join(taken)}",
            "stop what uses them (see `ss -ltnp`) or stop an old lab with `iotlab lab down`"
        )
