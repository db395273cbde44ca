"""What every lab runtime answers to, whether it runs the services as local processes or as containers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

SERVICES = ("kafka", "cassandra", "flink")
ADDRESSES = {"kafka": "127.0.0.1:9092", "cassandra": "127.0.0.1:9042", "flink": "http://127.0.0.1:8081"}


@dataclass
class ServiceStatus:
    """One row of `iotlab lab status`."""

    service: str
    address: str
    version: str = ""
    healthy: bool = False
    pids: list[int] = field(default_factory=list)
    rss_mb: float = 0.0
    detail: str = ""


class LabRuntime(Protocol):
    """Start, inspect and stop Kafka, Cassandra and Flink. ``NativeLab`` and ``DockerLab`` implement it."""

    def up(self, say: Callable[[str], None] = print, progress: bool = True) -> float:
        """Start what is not running and wait until each service works; return the seconds it took."""

    def down(self, say: Callable[[str], None] = print) -> None:
        """Stop the services this lab started (and nothing else)."""

    def reset(self, say: Callable[[str], None] = print) -> None:
        """Stop the lab and wipe its data and logs."""

    def status(self) -> list[ServiceStatus]:
        """One row per service."""

    def log_tail(self, service: str, lines: int = 20) -> str:
        """The end of a service's log."""

    def follow_log(self, service: str) -> None:
        """Print a service's log as it grows, until interrupted."""

    def nodetool(self, *arguments: str) -> str:
        """Run Cassandra's ``nodetool`` with ``arguments`` against the lab's node; return what it printed."""

    def kill_taskmanager(self, say: Callable[[str], None] = print) -> float:
        """Kill Flink's TaskManager with SIGKILL and start a fresh one (jobs recover from their last
        checkpoint); return the seconds until the new one had registered."""

    def pause(self, service: str, seconds: float, say: Callable[[str], None] = print) -> float:
        """Freeze a service for ``seconds`` (a hung node, not a dead one), then let it go on; return the seconds
        until it answered again."""
