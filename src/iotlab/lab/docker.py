"""The Docker lab: drives ``lab_env/docker-compose.yml`` with the compose CLI.

Same calls as the native lab (up, down, status, reset, logs). Versions come from
``lab_env/versions.env`` through ``--env-file``, so both runtimes always run the same releases.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Optional

from iotlab.core.errors import LabError
from iotlab.core.paths import lab_env_dir, state_dir
from iotlab.core.settings import Settings, load_settings
from iotlab.core.topology import node_numbers
from iotlab.lab.health import PROBES, wait_for_taskmanagers
from iotlab.lab.runtime import ADDRESSES, SERVICES, ServiceStatus

THREE_NODES_FILE = "docker-compose.three-nodes.yml"  # merged over docker-compose.yml for `--nodes 3`
MONITORING_FILE = "docker-compose.monitoring.yml"  # merged over it for `--with monitoring`


def docker_nodes_file() -> Path:  # noqa: N802 (a path computed when asked: IOTLAB_STATE_DIR may change)
    """Where `iotlab lab up --runtime docker` records its node count (the native lab's is ``nodes``)."""
    return state_dir() / "docker-nodes"


def _recorded_docker_nodes() -> int:
    try:
        nodes = int(docker_nodes_file().read_text().strip())
    except (OSError, ValueError):
        return 1
    return nodes if nodes in (1, 3) else 1


# lab service -> compose services that make it up
# Where the three-node Docker lab's other nodes answer: brokers 2 and 3 on their own host ports, Cassandra nodes 2 and
# 3 on the compose network only.
DOCKER_NODE_ADDRESSES = {("kafka", 2): "127.0.0.1:9094", ("kafka", 3): "127.0.0.1:9095",
                         ("cassandra", 2): "cassandra-2:9042", ("cassandra", 3): "cassandra-3:9042"}
COMPOSE_SERVICES = {"kafka": ["kafka"], "cassandra": ["cassandra"], "flink": ["flink-jobmanager", "flink-taskmanager"],
                    "prometheus": ["prometheus"], "lag-exporter": ["lag-exporter"]}


class DockerLab:
    """Start, check and stop the lab's containers."""

    name = "docker"

    def __init__(self, settings: Optional[Settings] = None, nodes: Optional[int] = None,
                 monitoring: bool = False) -> None:
        self.settings = settings or load_settings()
        self.nodes = nodes or _recorded_docker_nodes()
        node_numbers(self.nodes)
        if monitoring and self.nodes == 3:
            raise LabError("the Docker lab's monitoring profile has one node of each service",
                           "use `iotlab lab up --runtime docker --with monitoring` without `--nodes 3`, or the "
                           "native lab (`iotlab lab up --nodes 3 --with monitoring`)")
        self.monitoring = monitoring

    def compose_files(self, every: bool = False) -> list[Path]:
        """docker-compose.yml; for three nodes, the file that adds brokers 2-3 and Cassandra nodes 2-3; with
        monitoring, the file that adds Prometheus and the JMX exporters. ``every``: every file this lab's
        containers can come from (to stop them all)."""
        files = [lab_env_dir() / "docker-compose.yml"]
        if self.nodes == 3:
            files.append(lab_env_dir() / THREE_NODES_FILE)
        if self.monitoring or (every and self.nodes == 1):
            files.append(lab_env_dir() / MONITORING_FILE)
        return files

    def compose_command(self, *arguments: str, every_file: bool = False) -> list[str]:
        files = [part for path in self.compose_files(every_file) for part in ("-f", str(path))]
        return ["docker", "compose", *files, "--env-file", str(lab_env_dir() / "versions.env"), *arguments]

    def _require_engine(self) -> None:
        if shutil.which("docker") is None:
            raise LabError("docker not found", "install Docker, or use the native lab (`iotlab lab up`)")
        if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
            raise LabError("the Docker engine is not running (`docker info` fails)",
                           "start Docker, or use the native lab (`iotlab lab up`)")

    def _compose(self, *arguments: str, check: bool = True, every_file: bool = False) -> subprocess.CompletedProcess:
        self._require_engine()
        result = subprocess.run(self.compose_command(*arguments, every_file=every_file), capture_output=True,
                                text=True)
        if check and result.returncode != 0:
            raise LabError(f"`docker compose {' '.join(arguments)}` failed", "see the output above",
                           details=(result.stdout + result.stderr)[-3000:])
        return result

    def up(self, say: Callable[[str], None] = print, progress: bool = True, grafana: bool = False) -> float:
        started = time.monotonic()
        profile = ["--profile", "grafana"] if grafana else []
        say("Building the Flink image and starting the containers (the first time takes a few minutes) ...")
        self._compose(*profile, "up", "--build", "--detach", "--wait")
        docker_nodes_file().parent.mkdir(parents=True, exist_ok=True)
        docker_nodes_file().write_text(f"{self.nodes}\n")
        elapsed = time.monotonic() - started
        say(f"The docker lab is up in {elapsed:.0f} s (`iotlab lab status --runtime docker`).")
        return elapsed

    def down(self, say: Callable[[str], None] = print) -> None:
        self._compose("--profile", "grafana", "down", every_file=True)
        say("Stopped the docker lab (volumes kept; `iotlab lab reset --runtime docker` wipes them).")

    def reset(self, say: Callable[[str], None] = print) -> None:
        self._compose("--profile", "grafana", "down", "--volumes", every_file=True)
        say("Stopped the docker lab and removed its volumes.")

    def _containers(self) -> dict[str, dict]:
        output = self._compose("ps", "--all", "--format", "json").stdout
        rows = [json.loads(line) for line in output.splitlines() if line.strip().startswith("{")]
        return {row["Service"]: row for row in rows}

    def status(self) -> list[ServiceStatus]:
        """A row per service; on three nodes, a row per Kafka and Cassandra node (container), as the native lab."""
        containers = self._containers()
        rows = []
        for service in SERVICES:
            nodes = [None] if service == "flink" or self.nodes == 1 else node_numbers(self.nodes)
            for node in nodes:
                names = self._node_service(service, node)
                running = [containers[name] for name in names if containers.get(name, {}).get("State") == "running"]
                row = ServiceStatus(service, DOCKER_NODE_ADDRESSES.get((service, node), ADDRESSES[service]),
                                    node=node or 0)
                if len(running) < len(names):
                    row.detail = "container not running"
                elif node in (None, 1):  # published on the usual ports: probed as the native lab's
                    probe = PROBES[service](self.settings)
                    row.healthy, row.version, row.detail = probe.healthy, probe.version, probe.detail
                else:  # on the compose network only (Cassandra) or another port: the container's own health check
                    health = running[0].get("Health", "")
                    row.healthy, row.detail = health == "healthy", f"container {health or 'running'}"
                rows.append(row)
        return rows

    def log_tail(self, service: str, lines: int = 20) -> str:
        return self._compose("logs", "--tail", str(lines), *COMPOSE_SERVICES[service]).stdout

    def follow_log(self, service: str) -> None:
        self._require_engine()
        subprocess.run(self.compose_command("logs", "--follow", "--tail", "0", *COMPOSE_SERVICES[service]))

    def kill_taskmanager(self, say: Callable[[str], None] = print) -> float:
        """SIGKILL the TaskManager's container through the Docker SDK; compose's restart policy
        (``restart: unless-stopped``) starts it again, as a supervisor would."""
        import docker  # the Docker SDK: only this runtime needs it

        self._require_engine()
        client = docker.from_env()
        labels = ["com.docker.compose.project=iotlab", "com.docker.compose.service=flink-taskmanager"]
        containers = client.containers.list(filters={"label": labels})
        if not containers:
            raise LabError("no TaskManager container is running", "start the lab with `iotlab lab up --runtime docker`")
        for container in containers:
            container.kill(signal="SIGKILL")
        say(f"Killed {', '.join(c.name for c in containers)} with SIGKILL; its restart policy starts it again.")
        started = time.monotonic()
        wait_for_taskmanagers(self.settings.flink_rest_url, at_least=1, timeout_s=120)
        elapsed = time.monotonic() - started
        say(f"A TaskManager registered again after {elapsed:.1f} s.")
        return elapsed

    def _service_containers(self, service: str, node: Optional[int] = None) -> list:
        import docker  # the Docker SDK: only this runtime needs it

        self._require_engine()
        client = docker.from_env()
        return [container for name in self._node_service(service, node) for container in client.containers.list(
            filters={"label": ["com.docker.compose.project=iotlab", f"com.docker.compose.service={name}"]})]

    def kill_jobmanager(self, say: Callable[[str], None] = print) -> float:
        """SIGKILL the JobManager's container and start it again (the session cluster has no HA: the jobs it ran
        are gone, their checkpoints kept); return the seconds until a TaskManager had registered with it."""
        containers = [c for c in self._service_containers("flink") if "jobmanager" in c.name]
        if not containers:
            raise LabError("no JobManager container is running", "start the lab with `iotlab lab up --runtime docker`")
        for container in containers:
            container.kill(signal="SIGKILL")
        say(f"Killed {', '.join(c.name for c in containers)} with SIGKILL at {time.strftime('%H:%M:%S')}.")
        started = time.monotonic()
        self._compose("up", "--detach", "--wait", *COMPOSE_SERVICES["flink"])
        wait_for_taskmanagers(self.settings.flink_rest_url, at_least=1, timeout_s=120)
        elapsed = time.monotonic() - started
        say(f"Started the JobManager again; a TaskManager registered with it after {elapsed:.1f} s.")
        return elapsed

    def _node_service(self, service: str, node: Optional[int]) -> list[str]:
        """The compose services of ``service`` node ``node``: kafka, kafka-2, kafka-3 (cassandra likewise)."""
        if service == "flink" or (self.nodes == 1 and node in (None, 1)):
            return COMPOSE_SERVICES[service]
        if self.nodes == 1:
            raise LabError(f"the Docker lab runs one {service} node, not node {node}",
                           "start three with `iotlab lab up --runtime docker --nodes 3`")
        if node is None:
            return [service, f"{service}-2", f"{service}-3"]
        if node not in node_numbers(self.nodes):
            raise LabError(f"there is no {service} node {node}", f"choose 1 to {self.nodes}")
        return [service if node == 1 else f"{service}-{node}"]

    def kill(self, service: str, node: Optional[int] = None, say: Callable[[str], None] = print) -> None:
        """SIGKILL the service's container. Compose's restart policy (``unless-stopped``) starts it again after
        a moment, as Docker restarts a crashed container."""
        containers = self._service_containers(service, node)
        if not containers:
            raise LabError(f"no {service} container is running", "start the lab with `iotlab lab up --runtime docker`")
        for container in containers:
            container.kill(signal="SIGKILL")
        say(f"Killed {', '.join(c.name for c in containers)} with SIGKILL at {time.strftime('%H:%M:%S')}; its "
            "restart policy starts it again.")

    def restart(self, service: str, node: Optional[int] = None, say: Callable[[str], None] = print) -> float:
        """``docker restart`` the service's containers and wait until it answers; return the seconds it took."""
        started = time.monotonic()
        self._compose("restart", *self._node_service(service, node))
        while not PROBES[service](self.settings).healthy:
            if time.monotonic() > started + 180:
                raise LabError(f"{service} did not answer within 180 s of its restart",
                               f"see `iotlab lab logs {service}`")
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        say(f"Restarted {service}; healthy after {elapsed:.1f} s.")
        return elapsed

    def pause(self, service: str, seconds: float, say: Callable[[str], None] = print,
              node: Optional[int] = None) -> float:
        """``docker pause`` the service's containers for ``seconds`` (the cgroup freezer: a hung node), then unpause;
        return the seconds until it answers again."""
        containers = self._service_containers(service, node)
        if not containers:
            raise LabError(f"no {service} container is running", "start the lab with `iotlab lab up --runtime docker`")
        for container in containers:
            container.pause()
        say(f"Paused {', '.join(c.name for c in containers)} for {seconds:.0f} s.")
        try:
            time.sleep(seconds)
        finally:
            for container in containers:
                container.unpause()
        resumed = time.monotonic()
        while not PROBES[service](self.settings).healthy:
            if time.monotonic() > resumed + 120:
                raise LabError(f"{service} did not answer within 120 s of unpausing",
                               f"see `iotlab lab logs {service}`")
            time.sleep(0.5)
        elapsed = time.monotonic() - resumed
        say(f"Unpaused {service}; it answered again after {elapsed:.1f} s.")
        return elapsed

    def nodetool(self, *arguments: str) -> str:
        """``nodetool`` inside the Cassandra container (its image ships it, with JMX on localhost)."""
        self._require_engine()
        result = self._compose("exec", "-T", "cassandra", "nodetool", *arguments, check=False)
        if result.returncode != 0:
            raise LabError(f"nodetool {' '.join(arguments)} failed",
                           "is the lab up (`iotlab lab up --runtime docker`)?",
                           details=(result.stdout + result.stderr)[-2000:])
        return result.stdout
