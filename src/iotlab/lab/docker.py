"""The Docker lab: drives ``lab_env/docker-compose.yml`` with the compose CLI.

Same calls as the native lab (up, down, status, reset, logs). Versions come from
``lab_env/versions.env`` through ``--env-file``, so both runtimes always run the same releases.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from typing import Callable, Optional

from iotlab.core.errors import LabError
from iotlab.core.paths import lab_env_dir
from iotlab.core.settings import Settings, load_settings
from iotlab.lab.health import PROBES, wait_for_taskmanagers
from iotlab.lab.runtime import ADDRESSES, SERVICES, ServiceStatus

# lab service -> compose services that make it up
COMPOSE_SERVICES = {"kafka": ["kafka"], "cassandra": ["cassandra"], "flink": ["flink-jobmanager", "flink-taskmanager"]}


class DockerLab:
    """Start, check and stop the lab's containers."""

    name = "docker"

    def __init__(self, settings: Optional[Settings] = None) -> None:
        self.settings = settings or load_settings()

    def compose_command(self, *arguments: str) -> list[str]:
        return ["docker", "compose", "-f", str(lab_env_dir() / "docker-compose.yml"),
                "--env-file", str(lab_env_dir() / "versions.env"), *arguments]

    def _require_engine(self) -> None:
        if shutil.which("docker") is None:
            raise LabError("docker not found", "install Docker, or use the native lab (`iotlab lab up`)")
        if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
            raise LabError("the Docker engine is not running (`docker info` fails)",
                           "start Docker, or use the native lab (`iotlab lab up`)")

    def _compose(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
        self._require_engine()
        result = subprocess.run(self.compose_command(*arguments), capture_output=True, text=True)
        if check and result.returncode != 0:
            raise LabError(f"`docker compose {' '.join(arguments)}` failed", "see the output above",
                           details=(result.stdout + result.stderr)[-3000:])
        return result

    def up(self, say: Callable[[str], None] = print, progress: bool = True, grafana: bool = False) -> float:
        started = time.monotonic()
        profile = ["--profile", "grafana"] if grafana else []
        say("Building the Flink image and starting the containers (the first time takes a few minutes) ...")
        self._compose(*profile, "up", "--build", "--detach", "--wait")
        elapsed = time.monotonic() - started
        say(f"The docker lab is up in {elapsed:.0f} s (`iotlab lab status --runtime docker`).")
        return elapsed

    def down(self, say: Callable[[str], None] = print) -> None:
        self._compose("--profile", "grafana", "down")
        say("Stopped the docker lab (volumes kept; `iotlab lab reset --runtime docker` wipes them).")

    def reset(self, say: Callable[[str], None] = print) -> None:
        self._compose("--profile", "grafana", "down", "--volumes")
        say("Stopped the docker lab and removed its volumes.")

    def _containers(self) -> dict[str, dict]:
        output = self._compose("ps", "--all", "--format", "json").stdout
        rows = [json.loads(line) for line in output.splitlines() if line.strip().startswith("{")]
        return {row["Service"]: row for row in rows}

    def status(self) -> list[ServiceStatus]:
        containers = self._containers()
        rows = []
        for service in SERVICES:
            names = COMPOSE_SERVICES[service]
            running = [containers[name] for name in names if containers.get(name, {}).get("State") == "running"]
            row = ServiceStatus(service, ADDRESSES[service])
            if len(running) == len(names):
                probe = PROBES[service](self.settings)
                row.healthy, row.version, row.detail = probe.healthy, probe.version, probe.detail
            else:
                row.detail = "container not running"
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

    def _service_containers(self, service: str) -> list:
        import docker  # the Docker SDK: only this runtime needs it

        self._require_engine()
        client = docker.from_env()
        return [container for name in COMPOSE_SERVICES[service] for container in client.containers.list(
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

    def _one_node(self, service: str, node: Optional[int]) -> None:
        if node not in (None, 1):
            raise LabError(f"the Docker lab runs one {service} node, not node {node}",
                           "run three with the native lab: `iotlab lab up --nodes 3`")

    def kill(self, service: str, node: Optional[int] = None, say: Callable[[str], None] = print) -> None:
        """SIGKILL the service's container. Compose's restart policy (``unless-stopped``) starts it again after
        a moment, as Docker restarts a crashed container."""
        self._one_node(service, node)
        containers = self._service_containers(service)
        if not containers:
            raise LabError(f"no {service} container is running", "start the lab with `iotlab lab up --runtime docker`")
        for container in containers:
            container.kill(signal="SIGKILL")
        say(f"Killed {', '.join(c.name for c in containers)} with SIGKILL at {time.strftime('%H:%M:%S')}; its "
            "restart policy starts it again.")

    def restart(self, service: str, node: Optional[int] = None, say: Callable[[str], None] = print) -> float:
        """``docker restart`` the service's containers and wait until it answers; return the seconds it took."""
        self._one_node(service, node)
        started = time.monotonic()
        self._compose("restart", *COMPOSE_SERVICES[service])
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
        self._one_node(service, node)
        containers = self._service_containers(service)
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
