"""The native lab: Kafka, Cassandra and a Flink session cluster as local processes, no Docker.

Everything lives under one git-ignored folder (``.lab/`` by default):

    .lab/jars/<service>/   jars resolved by Maven (one classpath per service)
    .lab/kafka/            server.properties and the broker's log segments
    .lab/cassandra/        cassandra.yaml, data, commit log
    .lab/flink/            conf/, lib/ (links), pid files, checkpoints
    .lab/logs/             one log per service
    .lab/pids/             the pids this lab started: `down` stops only those
    .lab/nodes             how many nodes the lab runs (1, or 3 with `iotlab lab up --nodes 3`)
    .lab/cluster/          the three-node lab's brokers and Cassandra nodes: kafka-N/, cassandra-N/

With three nodes, Kafka node N and Cassandra node N listen on 127.0.0.N (``iotlab.core.topology``), each a
process of its own with a pid file of its own (``kafka-N.pid``), so that a fault can kill exactly one of them.

The configs are templates under ``lab_env/native/``; ``{state_dir}`` and ``{python}`` are filled in.
"""

from __future__ import annotations

import base64
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import psutil
from tqdm import tqdm

from iotlab.core.errors import LabError
from iotlab.core.paths import lab_env_dir, state_dir
from iotlab.core.processes import describe, end_processes, orphaned_python_workers, process_tree
from iotlab.core.settings import Settings, load_settings
from iotlab.core.topology import (
    CASSANDRA_JMX_PORTS,
    KAFKA_CONTROLLER_PORT,
    forget_nodes,
    node_host,
    node_numbers,
    record_nodes,
    recorded_nodes,
)
from iotlab.core.versions import pinned
from iotlab.lab import artifacts
from iotlab.lab.health import (
    PROBES,
    ProbeResult,
    probe_cassandra_node,
    probe_kafka_broker,
    probe_lag_exporter,
    probe_prometheus,
    wait_for_taskmanagers,
)
from iotlab.lab.monitoring import (
    LAG_EXPORTER_HOST,
    LAG_EXPORTER_PORT,
    PROMETHEUS_URL,
    flink_reporter_settings,
    jmx_exporter_option,
    lag_exporter_command,
    prometheus_binary,
    prometheus_command,
    prometheus_config,
    record_monitoring,
    recorded_monitoring,
)
from iotlab.lab.prerequisites import lab_ports, require_free_ports, require_java17
from iotlab.lab.runtime import ADDRESSES, NODE_SERVICES, SERVICES, ServiceStatus

# The monitoring profile's processes, in start order, and where each answers.
MONITORING_SERVICES = ("prometheus", "lag-exporter")
LAG_EXPORTER_URL = f"http://{LAG_EXPORTER_HOST}:{LAG_EXPORTER_PORT}"
MONITORING_ADDRESSES = {"prometheus": PROMETHEUS_URL, "lag-exporter": LAG_EXPORTER_URL}

START_TIMEOUT_S = 180.0
# JVM heaps per node count: three nodes of each must fit a learner's 8 GB laptop beside Flink and the notebook.
KAFKA_HEAPS = {1: ["-Xms256m", "-Xmx256m"], 3: ["-Xms256m", "-Xmx256m"]}  # 160m: OutOfMemoryError
CASSANDRA_HEAPS = {1: ["-Xms512m", "-Xmx512m", "-Xmn128m"], 3: ["-Xms320m", "-Xmx320m", "-Xmn80m"]}
MURMUR3_MIN, MURMUR3_RANGE = -(2**63), 2**64


def cluster_token(node: int, nodes: int) -> int:
    """Node ``node``'s one token of ``nodes`` evenly spaced ones: each node owns a third of the ring."""
    return MURMUR3_MIN + (node - 1) * (MURMUR3_RANGE // nodes)


def _fill(template: Path, **values: str) -> str:
    """Fill ``{name}`` placeholders with plain replacement (configs hold other braces too)."""
    text = template.read_text()
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


# Set in a Python process by PyFlink's loopback worker pool (``os.environ.update``) once it has run an in-process
# job's Python functions: a TaskManager started with them would send its Python workers to that process (or to
# a dead address), and every Python job on the session cluster would fail ("Failed to create stage bundle factory").
PYFLINK_WORKER_VARIABLES = ("PYTHON_LOOPBACK_SERVER_ADDRESS", "BOOT_LOG_DIR", "SEMI_PERSISTENT_DIRECTORY", "WORKER_ID",
                            "PIPELINE_OPTIONS", "LOGGING_API_SERVICE_DESCRIPTOR", "CONTROL_API_SERVICE_DESCRIPTOR",
                            "PYFLINK_GATEWAY_DISABLED")


def flink_process_environment(**extra: str) -> dict[str, str]:
    """This process's environment for a Flink process the lab starts, without PyFlink's worker variables."""
    kept = {key: value for key, value in os.environ.items()
            if key not in PYFLINK_WORKER_VARIABLES and not key.startswith("_PYTHON")}
    return {**kept, **extra}


def _jvm_options(path: Path) -> list[str]:
    """One option per line, ``#`` comments and blank lines skipped (Cassandra's jvm*.options format)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def resident_mb(pids: list[int]) -> float:
    """Resident memory of the processes and all their children (Flink's Python workers), in MiB."""
    total = 0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            total += process.memory_info().rss
            total += sum(child.memory_info().rss for child in process.children(recursive=True))
        except psutil.Error:
            continue
    return total / 2**20


@dataclass(frozen=True)
class Unit:
    """One process of the lab that a fault can hit: a Kafka node, a Cassandra node, or the Flink cluster.

    ``node`` is 0 for the one-node lab's processes (pid file ``kafka.pid``) and 1-3 for the three-node lab's
    (``kafka-2.pid``)."""

    service: str
    node: int = 0

    @property
    def name(self) -> str:
        return f"{self.service}-{self.node}" if self.node else self.service

    @property
    def host(self) -> str:
        return node_host(self.node or 1)


# Not a service: the process that starts a new TaskManager when the running one exits (taskmanager_supervisor).
SUPERVISOR = Unit("flink-supervisor")


class NativeLab:
    """Start, check and stop the lab's services as processes of this machine."""

    name = "native"

    def __init__(self, settings: Optional[Settings] = None, state: Optional[Path] = None,
                 nodes: Optional[int] = None, monitoring: Optional[bool] = None) -> None:
        self._given_settings = settings
        self.state = state or state_dir()
        self.nodes = nodes or recorded_nodes(self.state)
        # The monitoring profile (Prometheus, Flink's reporter, the JMX exporters): as recorded unless told.
        self.monitoring = recorded_monitoring(self.state) if monitoring is None else monitoring
        self.settings = settings or load_settings()
        node_numbers(self.nodes)  # 1 or 3
        self.jars = self.state / "jars"
        self.logs_dir = self.state / "logs"
        self.pids_dir = self.state / "pids"
        self.templates = lab_env_dir() / "native"
        # Seconds from the start of `up` until each unit passed its probe (for the benchmark).
        self.healthy_after: dict[str, float] = {}

    # ---------- the lab's processes ----------

    def units(self) -> list[Unit]:
        """Every process of the lab, in start order: the Kafka nodes, the Cassandra nodes, the Flink cluster (and
        with monitoring, Prometheus and the consumer-lag exporter)."""
        numbers = [0] if self.nodes == 1 else node_numbers(self.nodes)
        monitoring = [Unit(service) for service in MONITORING_SERVICES] if self.monitoring else []
        return [Unit(service, node) for service in NODE_SERVICES for node in numbers] + [Unit("flink")] + monitoring

    def unit(self, service: str, node: Optional[int] = None) -> Unit:
        """The unit of ``service`` node ``node`` (1-3 on the three-node lab; none or 1 on the one-node lab)."""
        if service not in SERVICES:
            raise LabError(f"unknown service {service!r}", f"use one of {', '.join(SERVICES)}")
        if service == "flink" or self.nodes == 1:
            if node not in (None, 0, 1):
                raise LabError(f"the lab runs one {service} node, not node {node}",
                               "start three with `iotlab lab down` and `iotlab lab up --nodes 3`"
                               if service != "flink" else "Flink has one JobManager and one TaskManager here")
            return Unit(service)
        if node is None:
            raise LabError(f"the lab runs {self.nodes} {service} nodes: say which", f"for example `{service} 2`")
        if node not in node_numbers(self.nodes):
            raise LabError(f"there is no {service} node {node}", f"choose 1 to {self.nodes}")
        return Unit(service, node)

    # ---------- pid bookkeeping: the lab only ever signals processes it started ----------

    def _pid_file(self, unit: Unit) -> Path:
        return self.pids_dir / f"{unit.name}.pid"

    def _is_ours(self, pid: int) -> bool:
        """Alive, and its command line names our state folder (so a recycled pid is never ours)."""
        try:
            process = psutil.Process(pid)
            return process.status() != psutil.STATUS_ZOMBIE and str(self.state) in " ".join(process.cmdline())
        except psutil.Error:
            return False

    def unit_pids(self, unit: Unit) -> list[int]:
        """The live pids this lab started for ``unit``."""
        path = self._pid_file(unit)
        if not path.exists():
            return []
        return [pid for pid in map(int, path.read_text().split()) if self._is_ours(pid)]

    def pids(self, service: str) -> list[int]:
        """The live pids this lab started for every node of ``service``."""
        return [pid for unit in self.units() if unit.service == service for pid in self.unit_pids(unit)]

    def _whole(self, unit: Unit) -> bool:
        """Whether every process of ``unit`` runs: for Flink, both its JobManager and its TaskManager."""
        if unit.service == "flink":
            return all(self.flink_role_pids(role) for role in ("standalonesession", "taskexecutor"))
        return bool(self.unit_pids(unit))

    def running_services(self) -> list[str]:
        return [service for service in SERVICES if self.pids(service)]

    def _running_nodes(self, state_nodes: int) -> bool:
        """Whether a Kafka or Cassandra node of a lab of ``state_nodes`` nodes (from this state folder) still runs.
        (Flink is the same in both.)"""
        other = NativeLab(self.settings, self.state, nodes=state_nodes)
        return any(other.unit_pids(unit) for unit in other.units() if unit.service in NODE_SERVICES)

    # ---------- logs ----------

    def _log_dir(self, unit: Unit) -> Path:
        return self.logs_dir / unit.name if unit.node else self.logs_dir

    def log_files(self, service: str) -> list[Path]:
        if service in MONITORING_SERVICES:
            return [self.logs_dir / f"{service}.out"]
        if service not in SERVICES:
            raise LabError(f"unknown service {service!r}", f"use one of {', '.join(SERVICES)}")
        if service == "flink":
            return sorted(self.logs_dir.glob("flink-*.log")) + [self.logs_dir / f"{SUPERVISOR.name}.out"]
        return [path for unit in self.units() if unit.service == service
                for path in (self._log_dir(unit) / f"{service}.log", self.logs_dir / f"{unit.name}.out")]

    def log_tail(self, service: str, lines: int = 20) -> str:
        """The last ``lines`` lines of each of the service's log files, each under its file name."""
        parts = []
        for path in self.log_files(service):
            if path.exists() and path.stat().st_size > 0:
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"==> {path} <==\n" + "\n".join(tail))
        return "\n".join(parts) or f"(no {service} log yet under {self.logs_dir})"

    # ---------- up ----------

    def up(self, say: Callable[[str], None] = print, progress: bool = True) -> float:
        """Start every process of the lab that is not running, and wait until each really works. Returns the
        seconds it took.

        A lab that runs entirely is left alone (and says so); one that runs in part (a fault killed a node) gets
        what is missing started again, so `iotlab lab up` undoes every fault."""
        other = 3 if self.nodes == 1 else 1
        if self._running_nodes(other):
            raise LabError(f"the lab runs with {other} node(s), not {self.nodes}",
                           f"run `iotlab lab down` first, then `iotlab lab up --nodes {self.nodes}`")
        if self.monitoring and not recorded_monitoring(self.state) and self.running_services():
            raise LabError("the lab runs without monitoring", "run `iotlab lab down` first, then "
                           f"`iotlab lab up --with monitoring{' --nodes 3' if self.nodes == 3 else ''}`")
        missing = [unit for unit in self.units() if not self._whole(unit)]
        if not missing:
            say(f"The lab is already running ({self._describe()}); nothing to do. See `iotlab lab status`.")
            return 0.0
        fresh = len(missing) == len(self.units())
        require_java17()
        if self.monitoring:
            prometheus_binary()
        require_free_ports(lab_ports(self.nodes, [unit.name for unit in missing if not self.unit_pids(unit)],
                                     monitoring=self.monitoring))
        for folder in (self.logs_dir, self.pids_dir):
            folder.mkdir(parents=True, exist_ok=True)
        record_nodes(self.nodes, self.state)
        record_monitoring(self.monitoring, self.state)
        if self._given_settings is None:
            self.settings = load_settings()  # the clients' addresses follow the recorded node count
        artifacts.resolve(self.jars, say=say, optional=("monitoring",) if self.monitoring else ())

        started = time.monotonic()
        say(f"Starting {', '.join(unit.name for unit in missing)} ..." if not fresh else
            f"Starting Kafka, Cassandra and Flink ({self._describe()}) ...")
        try:
            for unit in missing:
                if unit.service == "kafka":
                    self._start_kafka(unit)
            cassandra = [unit for unit in missing if unit.service == "cassandra"]
            if cassandra and cassandra[0].node == 1 and len(cassandra) > 1:
                # The first node is the seed: the others join through it, so it must answer gossip first.
                self._start_cassandra(cassandra[0])
                self._wait_healthy([cassandra[0]], started, progress=False)
                cassandra = cassandra[1:]
            for unit in cassandra:
                self._start_cassandra(unit)
            if any(unit.service == "flink" for unit in missing):
                self.start_flink()
            if any(unit.service == "prometheus" for unit in missing):
                self._start_prometheus()
            if any(unit.service == "lag-exporter" for unit in missing):
                self._spawn(Unit("lag-exporter"), lag_exporter_command(sys.executable, self.state))
            self._wait_healthy(missing, started, progress=progress)
        except LabError:
            if fresh:
                self.down(say=lambda _: None)
            raise
        elapsed = time.monotonic() - started
        say(f"The lab is up in {elapsed:.0f} s: Kafka {self.settings.kafka_bootstrap_servers}, Cassandra "
            f"{','.join(self.settings.cassandra_hosts)}:{self.settings.cassandra_port}, Flink "
            f"{self.settings.flink_rest_url}")
        return elapsed

    def _describe(self) -> str:
        nodes = "one node each" if self.nodes == 1 else f"{self.nodes} Kafka and {self.nodes} Cassandra nodes"
        return nodes + (", with Prometheus" if self.monitoring else "")

    def _spawn(self, unit: Unit, command: list[str], env: Optional[dict] = None) -> int:
        out = open(self.logs_dir / f"{unit.name}.out", "ab")
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.state, env=env, start_new_session=True,
        )
        out.close()
        self._pid_file(unit).write_text(f"{process.pid}\n")
        return process.pid

    def _kafka_home(self, unit: Unit) -> Path:
        return self.state / "cluster" / unit.name if unit.node else self.state / "kafka"

    def _kafka_properties(self, unit: Unit) -> str:
        if not unit.node:
            return _fill(self.templates / "kafka" / "server.properties", state_dir=str(self.state))
        voters = ",".join(f"{node}@{node_host(node)}:{KAFKA_CONTROLLER_PORT}" for node in node_numbers(self.nodes))
        return _fill(self.templates / "kafka" / "server-cluster.properties", node_id=str(unit.node),
                     host=unit.host, voters=voters, data_dir=str(self._kafka_home(unit) / "data"))

    def _kafka_cluster_id(self) -> str:
        """One id for every node of a cluster (each formats its own storage with it), kept across restarts."""
        path = self.state / "cluster" / "kafka-cluster-id" if self.nodes > 1 else None
        if path is not None and path.exists():
            return path.read_text().strip()
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(cluster_id + "\n")
        return cluster_id

    def _start_kafka(self, unit: Unit) -> None:
        home = self._kafka_home(unit)
        home.mkdir(parents=True, exist_ok=True)
        log_dir = self._log_dir(unit)
        log_dir.mkdir(parents=True, exist_ok=True)
        properties = home / "server.properties"
        properties.write_text(self._kafka_properties(unit))
        java = ["java", "-cp", artifacts.classpath(self.jars, "kafka"),
                f"-Dkafka.logs.dir={log_dir}",
                f"-Dlog4j2.configurationFile={self.templates / 'kafka' / 'log4j2.yaml'}"]
        if not (home / "data" / "meta.properties").exists():
            # Kafka 4.x (KRaft) refuses to start on unformatted storage. One node: a quorum of itself
            # (--standalone); three: the static quorum its properties name, every node with the same cluster id.
            quorum = ["--standalone"] if not unit.node else []
            result = subprocess.run(
                java + ["kafka.tools.StorageTool", "format", *quorum, "-t", self._kafka_cluster_id(),
                        "-c", str(properties)],
                capture_output=True, text=True,
            )
            if result.returncode != 0:
                raise LabError("formatting Kafka's storage failed", "run `iotlab lab reset` and try again",
                               details=result.stdout + result.stderr)
        self._spawn(unit, java[:1] + KAFKA_HEAPS[self.nodes] + ["-XX:+UseG1GC", "-XX:MaxMetaspaceSize=128m"]
                    + self._exporter_options(unit) + java[1:] + ["kafka.Kafka", str(properties)])

    def _exporter_options(self, unit: Unit) -> list[str]:
        """With monitoring, the JMX exporter agent that serves the node's metrics to Prometheus."""
        if not self.monitoring:
            return []
        agent = artifacts.jar(self.jars, "monitoring", "jmx_prometheus_javaagent")
        return [jmx_exporter_option(agent, unit.service, unit.host)]

    def _start_prometheus(self) -> None:
        home = self.state / "prometheus"
        (home / "data").mkdir(parents=True, exist_ok=True)
        config = home / "prometheus.yml"
        config.write_text(prometheus_config(self.nodes))
        self._spawn(Unit("prometheus"), prometheus_command(prometheus_binary(), config, home / "data"))

    def _cassandra_home(self, unit: Unit) -> Path:
        return self.state / "cluster" / unit.name if unit.node else self.state / "cassandra"

    def cassandra_hints_dir(self, node: Optional[int] = None) -> Path:
        """Where a Cassandra node keeps its hints: one file per target node (named by its host id) while it is down."""
        return self._cassandra_home(self.unit("cassandra", node)) / "hints"

    def _cassandra_yaml(self, unit: Unit) -> str:
        home = self._cassandra_home(unit)
        if not unit.node:
            tokens = "num_tokens: 16\nallocate_tokens_for_local_replication_factor: 1"
        else:
            tokens = f"num_tokens: 1\ninitial_token: {cluster_token(unit.node, self.nodes)}\nauto_bootstrap: false"
        return _fill(self.templates / "cassandra" / "cassandra.yaml", host=unit.host, seeds=f"{node_host(1)}:7000",
                     home=str(home), token_settings=tokens)

    def _cassandra_jvm_options(self, unit: Unit) -> list[str]:
        """The node's JVM options: the shared file's, with this lab's heap and this node's JMX port."""
        options = [option for option in _jvm_options(self.templates / "cassandra" / "jvm17.options")
                   if not option.startswith(("-Xms", "-Xmx", "-Xmn", "-Dcassandra.jmx.local.port="))]
        return CASSANDRA_HEAPS[self.nodes] + options + [
            f"-Dcassandra.jmx.local.port={CASSANDRA_JMX_PORTS[unit.node or 1]}"]

    def _start_cassandra(self, unit: Unit) -> None:
        home = self._cassandra_home(unit)
        home.mkdir(parents=True, exist_ok=True)
        log_dir = self._log_dir(unit)
        log_dir.mkdir(parents=True, exist_ok=True)
        config = home / "cassandra.yaml"
        config.write_text(self._cassandra_yaml(unit))
        jamm = next((self.jars / "cassandra").glob("jamm-*.jar"))
        command = (
            ["java"] + self._cassandra_jvm_options(unit)
            + self._exporter_options(unit)
            + [f"-javaagent:{jamm}",
               f"-Dcassandra.config={config.as_uri()}",
               f"-Dcassandra.storagedir={home}",
               f"-Dcassandra.logdir={log_dir}",
               f"-Dlogback.configurationFile={self.templates / 'cassandra' / 'logback.xml'}",
               "-cp", artifacts.classpath(self.jars, "cassandra"),
               "org.apache.cassandra.service.CassandraDaemon"]
        )
        self._spawn(unit, command)

    def nodetool(self, *arguments: str, node: int = 1) -> str:
        """``nodetool`` from the node's own jars, through node ``node``'s local-only JMX port (7199, 7299, 7399)."""
        # The node's --add-exports/--add-opens (Java 17 modules), none of its server settings (heap, JMX port).
        modules = [option for option in _jvm_options(self.templates / "cassandra" / "jvm17.options")
                   if option.startswith("--add-")]
        command = ["java", "-Xmx128m", *modules, f"-Dcassandra.logdir={self.logs_dir / 'nodetool'}",
                   f"-Dlogback.configurationFile={self.templates / 'cassandra' / 'logback.xml'}",
                   "-cp", artifacts.classpath(self.jars, "cassandra"), "org.apache.cassandra.tools.NodeTool",
                   "-h", "127.0.0.1", "-p", str(CASSANDRA_JMX_PORTS[node]), *arguments]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise LabError(f"nodetool {' '.join(arguments)} failed",
                           "is the lab up (`iotlab lab up`)? A lab started before JMX was enabled needs "
                           "`iotlab lab down` and `iotlab lab up`", details=(result.stdout + result.stderr)[-2000:])
        return result.stdout

    def flink_home(self) -> Path:
        """The Flink distribution that ships inside the PyFlink wheel."""
        import pyflink

        return Path(pyflink.__file__).parent

    def _flink_env(self) -> dict[str, str]:
        home = self.state / "flink"
        return flink_process_environment(FLINK_CONF_DIR=str(home / "conf"), FLINK_LIB_DIR=str(home / "lib"),
                                         FLINK_LOG_DIR=str(self.logs_dir), FLINK_PID_DIR=str(home),
                                         FLINK_PLUGINS_DIR=str(home / "plugins"))

    def _flink_pid_files(self, role: str) -> list[Path]:
        """Flink's own pid files for ``role``: ``standalonesession`` (JobManager) or ``taskexecutor``."""
        return sorted((self.state / "flink").glob(f"flink-*-{role}*.pid"))

    def flink_role_pids(self, role: str) -> list[int]:
        return [int(pid) for path in self._flink_pid_files(role) for pid in path.read_text().split()
                if self._is_ours(int(pid))]

    def start_flink(self) -> None:
        """Start the session cluster, or the half of it that is missing (a killed JobManager or TaskManager), and
        the supervisor that starts a new TaskManager when the running one exits (``taskmanager_supervisor``).

        Under a lock: the supervisor and a fault command (`iotlab fault kill taskmanager`) may both find the
        TaskManager missing at once, and only one of them may start a new one."""
        home = self.state / "flink"
        home.mkdir(parents=True, exist_ok=True)
        with open(home / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            running = {role: self.flink_role_pids(role) for role in ("standalonesession", "taskexecutor")}
            if not any(running.values()):
                self._prepare_flink_home()
                for stale in home.glob("flink-*.pid"):
                    stale.unlink()
                self._run_flink_script("start-cluster.sh")
            else:
                for role, script in (("standalonesession", "jobmanager.sh"), ("taskexecutor", "taskmanager.sh")):
                    if not running[role]:
                        for stale in self._flink_pid_files(role):
                            stale.unlink()  # the scripts refuse to start while an old pid is listed
                        self._run_flink_script(script, "start")
            pids = [pid for role in ("standalonesession", "taskexecutor") for pid in self.flink_role_pids(role)]
            if len(pids) < 2:
                raise LabError("Flink did not start", "see `iotlab lab logs flink`")
            self._pid_file(Unit("flink")).write_text("\n".join(map(str, pids)) + "\n")
        if not self.unit_pids(SUPERVISOR):
            self._spawn(SUPERVISOR, [sys.executable, "-m", "iotlab.lab.taskmanager_supervisor",
                                     "--lab", str(self.state)])

    def _run_flink_script(self, script: str, *arguments: str) -> None:
        # A session of its own: Flink must outlive the caller, e.g. a notebook's kernel, whose whole process group
        # Jupyter signals when the kernel shuts down.
        result = subprocess.run(["bash", str(self.flink_home() / "bin" / script), *arguments], env=self._flink_env(),
                                capture_output=True, text=True, cwd=self.state, start_new_session=True)
        if result.returncode != 0:
            raise LabError(f"Flink's {script} failed", "see `iotlab lab logs flink`",
                           details=result.stdout + result.stderr)

    def _prepare_flink_home(self) -> None:
        home = self.state / "flink"
        conf, lib = home / "conf", home / "lib"
        for folder in (conf, lib, home / "tmp", home / "uploads"):
            folder.mkdir(parents=True, exist_ok=True)
        flink_home = self.flink_home()
        # Logging configs from the distribution, our own config.yaml beside them.
        conf_source = flink_home / "conf"
        logging_configs = [*conf_source.glob("log4j*.properties"), *conf_source.glob("logback*.xml")]
        for source in logging_configs:
            shutil.copy(source, conf / source.name)
        config = _fill(self.templates / "flink" / "config.yaml", state_dir=str(self.state), python=sys.executable)
        plugins = home / "plugins"
        shutil.rmtree(plugins, ignore_errors=True)
        if self.monitoring:
            # The reporter is a plugin (its own class loader, its own Prometheus client), in a folder of its own.
            reporter = plugins / "metrics-prometheus"
            reporter.mkdir(parents=True)
            (reporter / "flink-metrics-prometheus.jar").symlink_to(
                artifacts.jar(self.jars, "monitoring", "flink-metrics-prometheus"))
            config += "\n# The monitoring profile: Flink's Prometheus reporter (iotlab.lab.monitoring).\n" + "".join(
                f"{key}: {value}\n" for key, value in flink_reporter_settings().items())
        plugins.mkdir(exist_ok=True)
        (conf / "config.yaml").write_text(config)
        (conf / "masters").write_text("127.0.0.1:8081\n")
        (conf / "workers").write_text("127.0.0.1\n")
        # lib = the distribution's lib + flink-python (to run Python UDFs) + the Kafka connector.
        for old in lib.glob("*.jar"):
            old.unlink()
        jars = list((flink_home / "lib").glob("*.jar")) + list((flink_home / "opt").glob("flink-python*.jar"))
        jars += list((self.jars / "flink").glob("*.jar"))
        for jar in jars:
            (lib / jar.name).symlink_to(jar)

    def probe(self, unit: Unit) -> ProbeResult:
        """Whether ``unit`` really works: a round trip through the one-node lab's services; on the three-node
        lab, a broker registered with the cluster and a Cassandra node that answers CQL itself."""
        if unit.service == "kafka" and unit.node:
            return probe_kafka_broker(self.settings, unit.node)
        if unit.service == "cassandra" and unit.node:
            return probe_cassandra_node(self.settings, unit.host)
        if unit.service == "prometheus":
            return probe_prometheus(PROMETHEUS_URL)
        if unit.service == "lag-exporter":
            return probe_lag_exporter(LAG_EXPORTER_URL)
        return PROBES[unit.service](self.settings)

    def _wait_healthy(self, units: list[Unit], started: float, progress: bool = True) -> None:
        """Poll each unit's real probe until all pass; fail fast if a process dies."""
        waiting = list(units)
        deadline = time.monotonic() + START_TIMEOUT_S
        last_detail: dict[str, str] = {}
        gone_once: set[str] = set()  # a process not found once: a second look a second later decides
        with tqdm(total=len(units), desc="waiting for services", unit="service", disable=not progress) as bar:
            while waiting:
                for unit in list(waiting):
                    if not self.unit_pids(unit):
                        if unit.name not in gone_once:  # /proc can answer nothing for a moment on a busy machine
                            gone_once.add(unit.name)
                            continue
                        raise LabError(
                            f"{unit.name} exited during start-up",
                            f"see its log above or `iotlab lab logs {unit.service}`",
                            details=self.log_tail(unit.service),
                        )
                    gone_once.discard(unit.name)
                    result = self.probe(unit)
                    last_detail[unit.name] = result.detail
                    if result.healthy:
                        self.healthy_after[unit.name] = time.monotonic() - started
                        waiting.remove(unit)
                        bar.update(1)
                bar.set_postfix_str("waiting for " + ", ".join(u.name for u in waiting) if waiting else "all healthy")
                if waiting and time.monotonic() > deadline:
                    unit = waiting[0]
                    raise LabError(
                        f"{unit.name} did not become healthy within {START_TIMEOUT_S:.0f} s "
                        f"({last_detail.get(unit.name)})", f"see `iotlab lab logs {unit.service}`",
                        details=self.log_tail(unit.service),
                    )
                if waiting:
                    time.sleep(1.0)

    # ---------- faults ----------

    def kill_taskmanager(self, say: Callable[[str], None] = print) -> float:
        """Kill the TaskManager with SIGKILL (no shutdown, no goodbye), then start a fresh one, as a supervisor
        would: the JobManager notices the lost TaskManager, and its jobs restart from their last checkpoint
        on the new one. Returns the seconds until the new TaskManager had registered."""
        victims = self.flink_role_pids("taskexecutor")
        if not victims:
            raise LabError("no TaskManager of this lab is running", "start the lab with `iotlab lab up`")
        # With its Python workers, as a container dies with everything in it: left alone they would run on,
        # orphaned, holding their ports (iotlab.core.processes).
        workers = [process for pid in victims for process in process_tree(pid)[1:]]
        _kill(victims + [worker.pid for worker in workers])
        with_workers = f" and its {len(workers)} Python worker processes" if workers else ""
        say(f"Killed the TaskManager (pid {', '.join(map(str, victims))}){with_workers} with SIGKILL.")
        started = time.monotonic()
        self.start_flink()
        new = self.flink_role_pids("taskexecutor")
        wait_for_taskmanagers(self.settings.flink_rest_url, at_least=1)
        elapsed = time.monotonic() - started
        say(f"Started a new TaskManager (pid {', '.join(map(str, new))}); registered after {elapsed:.1f} s.")
        return elapsed

    def kill_jobmanager(self, say: Callable[[str], None] = print) -> float:
        """Kill the JobManager with SIGKILL and start a fresh one. The session cluster has no high availability
        (that needs ZooKeeper or Kubernetes), so the new JobManager knows no job: the TaskManager registers with it
        again and the jobs that ran are gone, their retained checkpoints kept on disk (``iotlab fault kill
        jobmanager`` resumes the course's pipelines from them). Returns the seconds until a TaskManager had
        registered with the new JobManager."""
        victims = self.flink_role_pids("standalonesession")
        if not victims:
            raise LabError("no JobManager of this lab is running", "start the lab with `iotlab lab up`")
        _kill(victims)
        say(f"Killed the JobManager (pid {', '.join(map(str, victims))}) with SIGKILL at {time.strftime('%H:%M:%S')}.")
        started = time.monotonic()
        self.start_flink()
        self._supervise_taskmanager(say, timeout_s=120)
        elapsed = time.monotonic() - started
        say(f"Started a new JobManager (pid {', '.join(map(str, self.flink_role_pids('standalonesession')))}); "
            f"a TaskManager registered with it after {elapsed:.1f} s.")
        return elapsed

    def _supervise_taskmanager(self, say: Callable[[str], None], timeout_s: float) -> None:
        """Wait until a TaskManager has registered with the JobManager, starting a new one if the old one exited,
        as a supervisor would: a TaskManager cancels its tasks when its JobManager goes away, and PyFlink's Python
        operators can fail while closing ("Reference count must not be negative"), which ends the TaskManager."""
        deadline = time.monotonic() + timeout_s
        while True:
            if not self.flink_role_pids("taskexecutor"):
                say("The TaskManager exited when its JobManager went away; starting a new one.")
                end_orphaned_workers(say)
                self.start_flink()
            try:
                wait_for_taskmanagers(self.settings.flink_rest_url, at_least=1, timeout_s=2)
                return
            except LabError:
                if time.monotonic() > deadline:
                    raise

    def kill(self, service: str, node: Optional[int] = None, say: Callable[[str], None] = print) -> None:
        """Kill a Kafka or Cassandra node with SIGKILL and leave it dead, as a crashed machine is: the others must
        carry on. `iotlab fault restart` (or `iotlab lab up`) brings it back."""
        unit = self.unit(service, node)
        if service == "flink":
            raise LabError("`kill` takes kafka or cassandra", "for Flink: `iotlab fault kill taskmanager`")
        victims = self.unit_pids(unit)
        if not victims:
            raise LabError(f"{unit.name} is not running", "`iotlab lab status` shows what runs")
        _kill(victims)
        say(f"Killed {unit.name} (pid {', '.join(map(str, victims))}) with SIGKILL at {time.strftime('%H:%M:%S')}; "
            f"it stays down until `iotlab fault restart {service}{f' {unit.node}' if unit.node else ''}`.")

    def restart(self, service: str, node: Optional[int] = None, say: Callable[[str], None] = print) -> float:
        """Stop a unit if it runs (SIGTERM: a clean shutdown), start it again and wait until it works. Returns the
        seconds from the start until it passed its probe."""
        unit = self.unit(service, node)
        pids = self.unit_pids(unit)
        if pids:
            _terminate(pids)
            self._pid_file(unit).unlink(missing_ok=True)
            say(f"Stopped {unit.name} (pid {', '.join(map(str, pids))}).")
        started = time.monotonic()
        require_free_ports(lab_ports(self.nodes, [unit.name]))
        if service == "kafka":
            self._start_kafka(unit)
        elif service == "cassandra":
            self._start_cassandra(unit)
        else:
            self.start_flink()
        self._wait_healthy([unit], started, progress=False)
        elapsed = time.monotonic() - started
        say(f"Started {unit.name} again; healthy after {elapsed:.1f} s.")
        return elapsed

    def pause(self, service: str, seconds: float, say: Callable[[str], None] = print,
              node: Optional[int] = None) -> float:
        """Freeze ``service`` (or one node of it) for ``seconds`` (SIGSTOP), then let it go on (SIGCONT): a hung
        node, not a dead one. Without a node on the three-node lab, every node of the service freezes (an outage).

        Its sockets stay open and its clients' requests go unanswered until they time out, which is harder on
        them than a refused connection. Returns the seconds from SIGCONT until it answers again."""
        if service not in SERVICES:
            raise LabError(f"unknown service {service!r}", f"choose one of {', '.join(SERVICES)}")
        units = [self.unit(service, node)] if node is not None or self.nodes == 1 or service == "flink" else [
            unit for unit in self.units() if unit.service == service]
        victims = [psutil.Process(pid) for unit in units for pid in self.unit_pids(unit)]
        if not victims:
            raise LabError(f"{service} of this lab is not running", "start the lab with `iotlab lab up`")
        names = ", ".join(unit.name for unit in units)
        pids = ", ".join(str(process.pid) for process in victims)
        for process in victims:
            process.send_signal(signal.SIGSTOP)
        say(f"Paused {names} (pid {pids}) with SIGSTOP for {seconds:.0f} s.")
        try:
            time.sleep(seconds)
        finally:
            for process in victims:
                if process.is_running():
                    process.send_signal(signal.SIGCONT)
        resumed = time.monotonic()
        deadline = resumed + 120
        while not all(self.probe(unit).healthy for unit in units):
            if time.monotonic() > deadline:
                raise LabError(f"{names} did not answer within 120 s of SIGCONT", f"see `iotlab lab logs {service}`")
            time.sleep(0.5)
        elapsed = time.monotonic() - resumed
        say(f"Resumed {names} with SIGCONT; answered again after {elapsed:.1f} s.")
        return elapsed

    # ---------- down, reset ----------

    def down(self, say: Callable[[str], None] = print, timeout_s: float = 30.0) -> None:
        """Stop the processes this lab started (by pid), of either node count: SIGTERM, then SIGKILL after
        ``timeout_s``."""
        stopped_any = False
        supervisor = self.unit_pids(SUPERVISOR)
        if supervisor:  # first: it would start a new TaskManager when it saw Flink's stop
            _terminate(supervisor, timeout_s)
            stopped_any = True
            say(f"Stopped {SUPERVISOR.name} (pid {', '.join(map(str, supervisor))}).")
        self._pid_file(SUPERVISOR).unlink(missing_ok=True)
        for nodes in (self.nodes, 3 if self.nodes == 1 else 1):
            lab = NativeLab(self.settings, self.state, nodes=nodes)
            for unit in reversed(lab.units()):
                pids = lab.unit_pids(unit)
                if pids:
                    workers = [process for pid in pids for process in process_tree(pid)[1:]]
                    _terminate(pids, timeout_s)
                    stopped_any = True
                    say(f"Stopped {unit.name} (pid {', '.join(map(str, pids))}).")
                    left = [worker for worker in workers if worker.is_running()]
                    if left:
                        named = describe(left)
                        end_processes(left)
                        say(f"Ended what {unit.name} had started and left running: {named}.")
                lab._pid_file(unit).unlink(missing_ok=True)
        forget_nodes(self.state)
        record_monitoring(False, self.state)
        if not end_orphaned_workers(say) and not stopped_any:
            say("The lab was not running; nothing to stop.")

    def reset(self, say: Callable[[str], None] = print) -> None:
        """Stop the lab and wipe its data and logs (the resolved jars are kept: they are a cache)."""
        self.down(say=say)
        for name in ("kafka", "cassandra", "cluster", "flink", "logs", "pids", "nodes"):
            path = self.state / name
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        say(f"Wiped the lab's data and logs under {self.state} (kept the resolved jars).")

    # ---------- status ----------

    def status(self) -> list[ServiceStatus]:
        """One row per process: service (and node), address, version, healthy, pids and resident memory."""
        versions = pinned()
        rows = []
        for unit in self.units():
            pids = self.unit_pids(unit)
            address = (MONITORING_ADDRESSES[unit.service] if unit.service in MONITORING_SERVICES
                       else ADDRESSES[unit.service] if not unit.node
                       else ADDRESSES[unit.service].replace("127.0.0.1", unit.host))
            row = ServiceStatus(unit.service, address, pids=pids, rss_mb=resident_mb(pids), node=unit.node)
            if pids:
                probe = self.probe(unit)
                row.healthy, row.detail = probe.healthy, probe.detail
                row.version = probe.version
            else:
                row.detail = "not running"
            if not row.version and unit.service not in MONITORING_SERVICES:
                row.version = versions[{"kafka": "KAFKA_VERSION", "cassandra": "CASSANDRA_VERSION",
                                        "flink": "FLINK_VERSION"}[unit.service]]
            rows.append(row)
        return rows

    def follow_log(self, service: str) -> None:
        """Print new lines of the service's logs as they are written, until Ctrl-C."""
        files = [path for path in self.log_files(service) if path.exists()]
        subprocess.run(["tail", "-n", "0", "-F"] + [str(path) for path in files])


def end_orphaned_workers(say: Callable[[str], None] = print) -> list[psutil.Process]:
    """End the PyFlink Python workers of this installation whose JVM is gone (a TaskManager or a Java gateway that
    died without ending them) and say which; return them."""
    orphans = orphaned_python_workers()
    if orphans:
        named = describe(orphans)
        end_processes(orphans)
        say(f"Ended {len(orphans)} Python worker processes whose Flink process had died: {named}.")
    return orphans


def _kill(pids: list[int]) -> None:
    """SIGKILL and wait until gone."""
    end_processes(_processes(pids), first_signal=signal.SIGKILL)


def _terminate(pids: list[int], timeout_s: float = 30.0) -> None:
    """SIGTERM (a clean shutdown), then SIGKILL what is still alive after ``timeout_s``."""
    end_processes(_processes(pids), timeout_s)


def _processes(pids: list[int]) -> list[psutil.Process]:
    processes = []
    for pid in pids:
        try:
            processes.append(psutil.Process(pid))
        except psutil.Error:
            continue
    return processes
