"""The lab runtime: starts, checks and stops Kafka, Cassandra and Flink.

``native`` runs them as local processes (the default, no Docker); ``docker`` drives
``lab_env/docker-compose.yml``. Both answer the same calls: up, down, status, reset, logs.
"""

from __future__ import annotations

from iotlab.lab.errors import LabError

RUNTIMES = ("native", "docker")


def get_runtime(name: str = "native"):
    """The runtime object for ``name`` ("native" or "docker")."""
    if name == "native":
        from iotlab.lab.native import NativeLab

        return NativeLab()
    if name == "docker":
        from iotlab.lab.docker import DockerLab

        return DockerLab()
    raise LabError(f"unknown runtime {name!r}: use one of {', '.join(RUNTIMES)}")


__all__ = ["LabError", "RUNTIMES", "get_runtime"]
