"""The lab runtime: starts, checks and stops Kafka, Cassandra and Flink, and the doctor that says what is
missing.

``native`` runs them as local processes (the default, no Docker); ``docker`` drives
``lab_env/docker-compose.yml``. Both implement ``LabRuntime``: up, down, status, reset, logs.
"""

from __future__ import annotations

from typing import Optional

from iotlab.core.errors import LabError
from iotlab.lab.doctor import Check, print_report, run_checks
from iotlab.lab.prometheus import instant, series
from iotlab.lab.runtime import ADDRESSES, SERVICES, LabRuntime, ServiceStatus

RUNTIMES = ("native", "docker")


def get_runtime(name: str = "native", nodes: Optional[int] = None, monitoring: Optional[bool] = None) -> LabRuntime:
    """The runtime object for ``name`` ("native" or "docker"). ``nodes``: 1 or 3 Kafka and Cassandra nodes for
    ``up``; by default the node count of the lab that runs (or ran last). ``monitoring``: with Prometheus and the
    metrics it scrapes (``iotlab.lab.monitoring``); by default as the lab that runs."""
    if name == "native":
        from iotlab.lab.native import NativeLab

        return NativeLab(nodes=nodes, monitoring=monitoring)
    if name == "docker":
        from iotlab.lab.docker import DockerLab


        return DockerLab(nodes=nodes, monitoring=bool(monitoring))
    raise LabError(f"unknown runtime {name!r}", f"use one of {', '.join(RUNTIMES)}")


__all__ = ["ADDRESSES", "Check", "LabError", "LabRuntime", "RUNTIMES", "SERVICES", "ServiceStatus", "get_runtime",
           "instant", "print_report", "run_checks", "series"]
