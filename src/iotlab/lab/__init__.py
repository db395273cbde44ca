"""The lab runtime: starts, checks and stops Kafka, Cassandra and Flink, and the doctor that says what is
missing.

``native`` runs them as local processes (the default, no Docker); ``docker`` drives
``lab_env/docker-compose.yml``. Both implement ``LabRuntime``: up, down, status, reset, logs.
"""

from __future__ import annotations

from iotlab.core.errors import LabError
from iotlab.lab.doctor import Check, print_report, run_checks
from iotlab.lab.runtime import ADDRESSES, SERVICES, LabRuntime, ServiceStatus

RUNTIMES = ("native", "docker")


def get_runtime(name: str = "native") -> LabRuntime:
    """The runtime object for ``name`` ("native" or "docker")."""
    if name == "native":
        from iotlab.lab.native import NativeLab

        return NativeLab()
    if name == "docker":
        from iotlab.lab.docker import DockerLab

        return DockerLab()
    raise LabError(f"unknown runtime {name!r}", f"use one of {', '.join(RUNTIMES)}")


__all__ = ["ADDRESSES", "Check", "LabError", "LabRuntime", "RUNTIMES", "SERVICES", "ServiceStatus", "get_runtime",
           "print_report", "run_checks"]
