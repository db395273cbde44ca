"""What every lab runtime answers to, whether it runs the services as local processes or as containers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol

SERVICES = ("kafka", "cassandra", "flink")
NODE_SERVICES = ("kafka", "cassandra")  # the services the three-node lab runs three of
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
    node: int = 0  # 1-3 on the three-node lab; 0 for the one-node lab's processes and Flink

    @property
    def name(self) -> str:
        return f"{self.service}-{self.node}" if self.node else self.service


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

    def pause(self, service: str, seconds: float, say: Callable[[str], None] = print,
              node: Optional[int] = None) -> float:
        """Freeze a service (or one node of it) for ``seconds`` (a hung node, not a dead one), then let it go on;
        return the seconds until it answered again."""

    def kill_jobmanager(self, say: Callable[[str], None] = print) -> float:
        """Kill Flink's JobManager with SIGKILL and start a fresh one (without HA it knows no job); return the
        seconds until a TaskManager had registered with it."""

    def kill(self, service: str, node: Optional[int] = None, say: Callable[[str], None] = print) -> None:
        """Kill a Kafka or Cassandra node with SIGKILL."""

    def restart(self, service: str, node: Optional[int] = None, say: Callable[[str], None] = print) -> float:
        """Stop a service (or one node of it) if it runs, start it again, wait until it works; return the seconds."""
