"""The native lab: Kafka, Cassandra and a Flink session cluster as local processes, no Docker.

Everything lives under one git-ignored folder (``.lab/`` by default):

    .lab/jars/<service>/   jars resolved by Maven (one classpath per service)
    .lab/kafka/            server.properties and the broker's log segments
    .lab/cassandra/        cassandra.yaml, data, commit log
    .lab/flink/            conf/, lib/ (links), pid files, checkpoints
    .lab/logs/             one log per service
    .lab/pids/             the pids this lab started: `down` stops only those

The configs are templates under ``lab_env/native/``; ``{state_dir}`` and ``{python}`` are filled in.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Optional

import psutil
from tqdm import tqdm

from iotlab.core.errors import LabError
from iotlab.core.paths import lab_env_dir, state_dir
from iotlab.core.settings import Settings, load_settings
from iotlab.core.versions import pinned
from iotlab.lab import artifacts
from iotlab.lab.health import PROBES, wait_for_taskmanagers
from iotlab.lab.prerequisites import LAB_PORTS, require_free_ports, require_java17
from iotlab.lab.runtime import ADDRESSES, SERVICES, ServiceStatus

START_TIMEOUT_S = 180.0
KAFKA_HEAP = "-Xmx256m"


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


class NativeLab:
    """Start, check and stop the lab's services as processes of this machine."""

    name = "native"

    def __init__(self, settings: Optional[Settings] = None, state: Optional[Path] = None) -> None:
        self.settings = settings or load_settings()
        self.state = state or state_dir()
        self.jars = self.state / "jars"
        self.logs_dir = self.state / "logs"
        self.pids_dir = self.state / "pids"
        self.templates = lab_env_dir() / "native"
        # Seconds from the start of `up` until each service passed its probe (for the benchmark).
        self.healthy_after: dict[str, float] = {}

    # ---------- pid bookkeeping: the lab only ever signals processes it started ----------

    def _pid_file(self, service: str) -> Path:
        return self.pids_dir / f"{service}.pid"

    def _is_ours(self, pid: int) -> bool:
        """Alive, and its command line names our state folder (so a recycled pid is never ours)."""
        try:
            process = psutil.Process(pid)
            return process.status() != psutil.STATUS_ZOMBIE and str(self.state) in " ".join(process.cmdline())
        except psutil.Error:
            return False

    def pids(self, service: str) -> list[int]:
        """The live pids this lab started for ``service``."""
        path = self._pid_file(service)
        if not path.exists():
            return []
        return [pid for pid in map(int, path.read_text().split()) if self._is_ours(pid)]

    def running_services(self) -> list[str]:
        return [service for service in SERVICES if self.pids(service)]

    # ---------- logs ----------

    def log_files(self, service: str) -> list[Path]:
        if service not in SERVICES:
            raise LabError(f"unknown service {service!r}", f"use one of {', '.join(SERVICES)}")
        if service == "flink":
            return sorted(self.logs_dir.glob("flink-*.log"))
        return [self.logs_dir / f"{service}.log", self.logs_dir / f"{service}.out"]

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
        """Start every service and wait until each really works. Returns the seconds it took.

        A lab that is already running is left alone (and says so).
        """
        running = self.running_services()
        if len(running) == len(SERVICES):
            say(f"The lab is already running ({', '.join(running)}); nothing to do. See `iotlab lab status`.")
            return 0.0
        if running:
            raise LabError(
                f"the lab is partly running ({', '.join(running)})", "run `iotlab lab down` first, then `iotlab lab up`"
            )
        require_java17()
        require_free_ports(LAB_PORTS)
        for folder in (self.logs_dir, self.pids_dir):
            folder.mkdir(parents=True, exist_ok=True)
        artifacts.resolve(self.jars, say=say)

        started = time.monotonic()
        say("Starting Kafka, Cassandra and Flink ...")
        try:
            self._start_kafka()
            self._start_cassandra()
            self._start_flink()
            self._wait_healthy(started, progress=progress)
        except LabError:
            self.down(say=lambda _: None)
            raise
        elapsed = time.monotonic() - started
        say(f"The lab is up in {elapsed:.0f} s: Kafka 127.0.0.1:9092, Cassandra 127.0.0.1:9042, Flink http://127.0.0.1:8081")
        return elapsed

    def _spawn(self, service: str, command: list[str], env: Optional[dict] = None) -> int:
        out = open(self.logs_dir / f"{service}.out", "ab")
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.state, env=env, start_new_session=True,
        )
        out.close()
        self._pid_file(service).write_text(f"{process.pid}\n")
        return process.pid

    def _start_kafka(self) -> None:
        home = self.state / "kafka"
        home.mkdir(parents=True, exist_ok=True)
        properties = home / "server.properties"
        properties.write_text(_fill(self.templates / "kafka" / "server.properties", state_dir=str(self.state)))
        java = ["java", "-cp", artifacts.classpath(self.jars, "kafka"),
                f"-Dkafka.logs.dir={self.logs_dir}",
                f"-Dlog4j2.configurationFile={self.templates / 'kafka' / 'log4j2.yaml'}"]
        if not (home / "data" / "meta.properties").exists():
            # Kafka 4.x (KRaft) refuses to start on unformatted storage.
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
            result = subprocess.run(
                java + ["kafka.tools.StorageTool", "format", "--standalone", "-t", cluster_id, "-c", str(properties)],
                capture_output=True, text=True,
            )
            if result.returncode != 0:
                raise LabError("formatting Kafka's storage failed", "run `iotlab lab reset` and try again",
                               details=result.stdout + result.stderr)
        self._spawn("kafka", java[:1] + ["-Xms256m", KAFKA_HEAP, "-XX:+UseG1GC", "-XX:MaxMetaspaceSize=128m"]
                    + java[1:] + ["kafka.Kafka", str(properties)])

    def _start_cassandra(self) -> None:
        home = self.state / "cassandra"
        home.mkdir(parents=True, exist_ok=True)
        config = home / "cassandra.yaml"
        config.write_text(_fill(self.templates / "cassandra" / "cassandra.yaml", state_dir=str(self.state)))
        jamm = next((self.jars / "cassandra").glob("jamm-*.jar"))
        command = (
            ["java"] + _jvm_options(self.templates / "cassandra" / "jvm17.options")
            + [f"-javaagent:{jamm}",
               f"-Dcassandra.config={config.as_uri()}",
               f"-Dcassandra.storagedir={home}",
               f"-Dcassandra.logdir={self.logs_dir}",
               f"-Dlogback.configurationFile={self.templates / 'cassandra' / 'logback.xml'}",
               "-cp", artifacts.classpath(self.jars, "cassandra"),
               "org.apache.cassandra.service.CassandraDaemon"]
        )
        self._spawn("cassandra", command)

    def nodetool(self, *arguments: str) -> str:
        """``nodetool`` from the node's own jars, through its local-only JMX port (7199)."""
        # The node's --add-exports/--add-opens (Java 17 modules), none of its server settings (heap, JMX port).
        modules = [option for option in _jvm_options(self.templates / "cassandra" / "jvm17.options")
                   if option.startswith("--add-")]
        command = ["java", "-Xmx128m", *modules, f"-Dcassandra.logdir={self.logs_dir / 'nodetool'}",
                   f"-Dlogback.configurationFile={self.templates / 'cassandra' / 'logback.xml'}",
                   "-cp", artifacts.classpath(self.jars, "cassandra"), "org.apache.cassandra.tools.NodeTool",
                   "-h", "127.0.0.1", "-p", "7199", *arguments]
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

    def _start_flink(self) -> None:
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
        (conf / "config.yaml").write_text(
            _fill(self.templates / "flink" / "config.yaml", state_dir=str(self.state), python=sys.executable)
        )
        (conf / "masters").write_text("127.0.0.1:8081\n")
        (conf / "workers").write_text("127.0.0.1\n")
        # lib = the distribution's lib + flink-python (to run Python UDFs) + the Kafka connector.
        for old in lib.glob("*.jar"):
            old.unlink()
        jars = list((flink_home / "lib").glob("*.jar")) + list((flink_home / "opt").glob("flink-python*.jar"))
        jars += list((self.jars / "flink").glob("*.jar"))
        for jar in jars:
            (lib / jar.name).symlink_to(jar)
        for stale in home.glob("flink-*.pid"):
            stale.unlink()
        env = flink_process_environment(FLINK_CONF_DIR=str(conf), FLINK_LIB_DIR=str(lib),
                                        FLINK_LOG_DIR=str(self.logs_dir), FLINK_PID_DIR=str(home))
        result = subprocess.run(["bash", str(flink_home / "bin" / "start-cluster.sh")], env=env,
                                capture_output=True, text=True, cwd=self.state, start_new_session=True)
        pids = [line for pid_file in sorted(home.glob("flink-*.pid")) for line in pid_file.read_text().split()]
        if result.returncode != 0 or len(pids) < 2:
            raise LabError("Flink's start-cluster.sh failed", "see `iotlab lab logs flink`",
                           details=result.stdout + result.stderr)
        self._pid_file("flink").write_text("\n".join(pids) + "\n")

    def _wait_healthy(self, started: float, progress: bool = True) -> None:
        """Poll each service's real probe until all pass; fail fast if a process dies."""
        waiting = list(SERVICES)
        deadline = time.monotonic() + START_TIMEOUT_S
        last_detail: dict[str, str] = {}
        with tqdm(total=len(SERVICES), desc="waiting for services", unit="service", disable=not progress) as bar:
            while waiting:
                for service in list(waiting):
                    if not self.pids(service):
                        raise LabError(
                            f"{service} exited during start-up", f"see its log above or `iotlab lab logs {service}`",
                            details=self.log_tail(service),
                        )
                    result = PROBES[service](self.settings)
                    last_detail[service] = result.detail
                    if result.healthy:
                        self.healthy_after[service] = time.monotonic() - started
                        waiting.remove(service)
                        bar.update(1)
                bar.set_postfix_str("waiting for " + ", ".join(waiting) if waiting else "all healthy")
                if waiting and time.monotonic() > deadline:
                    service = waiting[0]
                    raise LabError(
                        f"{service} did not become healthy within {START_TIMEOUT_S:.0f} s ({last_detail.get(service)})",
                        f"see `iotlab lab logs {service}`",
                        details=self.log_tail(service),
                    )
                if waiting:
                    time.sleep(1.0)

    # ---------- faults ----------

    def kill_taskmanager(self, say: Callable[[str], None] = print) -> float:
        """Kill the TaskManager with SIGKILL (no shutdown, no goodbye), then start a fresh one, as a supervisor
        would: the JobManager notices the lost TaskManager, and its jobs restart from their last checkpoint
        on the new one. Returns the seconds until the new TaskManager had registered."""
        home = self.state / "flink"
        pid_files = sorted(home.glob("flink-*-taskexecutor*.pid"))
        victims = [int(pid) for path in pid_files for pid in path.read_text().split() if self._is_ours(int(pid))]
        if not victims:
            raise LabError("no TaskManager of this lab is running", "start the lab with `iotlab lab up`")
        for pid in victims:
            psutil.Process(pid).kill()
        psutil.wait_procs([psutil.Process(pid) for pid in victims if psutil.pid_exists(pid)], timeout=10)
        say(f"Killed the TaskManager (pid {', '.join(map(str, victims))}) with SIGKILL.")
        started = time.monotonic()
        for path in pid_files:
            path.unlink()  # taskmanager.sh refuses to start while the old pid is listed
        env = flink_process_environment(FLINK_CONF_DIR=str(home / "conf"), FLINK_LIB_DIR=str(home / "lib"),
                                        FLINK_LOG_DIR=str(self.logs_dir), FLINK_PID_DIR=str(home))
        # A session of its own: the TaskManager must outlive the caller, e.g. a notebook's kernel, whose whole
        # process group Jupyter signals when the kernel shuts down.
        result = subprocess.run(["bash", str(self.flink_home() / "bin" / "taskmanager.sh"), "start"], env=env,
                                capture_output=True, text=True, cwd=self.state, start_new_session=True)
        new = [pid for path in sorted(home.glob("flink-*-taskexecutor*.pid")) for pid in path.read_text().split()]
        if result.returncode != 0 or not new:
            raise LabError("a new TaskManager did not start", "see `iotlab lab logs flink`, or `iotlab lab down` "
                           "and `iotlab lab up`", details=result.stdout + result.stderr)
        others = [str(pid) for pid in self.pids("flink") if pid not in victims]
        self._pid_file("flink").write_text("\n".join(others + new) + "\n")
        wait_for_taskmanagers(self.settings.flink_rest_url, at_least=1)
        elapsed = time.monotonic() - started
        say(f"Started a new TaskManager (pid {', '.join(new)}); registered after {elapsed:.1f} s.")
        return elapsed

    def pause(self, service: str, seconds: float, say: Callable[[str], None] = print) -> float:
        """Freeze ``service`` for ``seconds`` (SIGSTOP), then let it go on (SIGCONT): a hung node, not a dead one.

        Its sockets stay open and its clients' requests go unanswered until they time out, which is harder on
        them than a refused connection. Returns the seconds from SIGCONT until the service answers again."""
        if service not in SERVICES:
            raise LabError(f"unknown service {service!r}", f"choose one of {', '.join(SERVICES)}")
        victims = [psutil.Process(pid) for pid in self.pids(service)]
        if not victims:
            raise LabError(f"{service} of this lab is not running", "start the lab with `iotlab lab up`")
        pids = ", ".join(str(process.pid) for process in victims)
        for process in victims:
            process.send_signal(signal.SIGSTOP)
        say(f"Paused {service} (pid {pids}) with SIGSTOP for {seconds:.0f} s.")
        try:
            time.sleep(seconds)
        finally:
            for process in victims:
                if process.is_running():
                    process.send_signal(signal.SIGCONT)
        resumed = time.monotonic()
        deadline = resumed + 120
        while not PROBES[service](self.settings).healthy:
            if time.monotonic() > deadline:
                raise LabError(f"{service} did not answer within 120 s of SIGCONT", f"see `iotlab lab logs {service}`")
            time.sleep(0.5)
        elapsed = time.monotonic() - resumed
        say(f"Resumed {service} with SIGCONT; it answered again after {elapsed:.1f} s.")
        return elapsed

    # ---------- down, reset ----------

    def down(self, say: Callable[[str], None] = print, timeout_s: float = 30.0) -> None:
        """Stop the processes this lab started (by pid): SIGTERM, then SIGKILL after ``timeout_s``."""
        stopped_any = False
        for service in reversed(SERVICES):
            pids = self.pids(service)
            processes = []
            for pid in pids:
                try:
                    process = psutil.Process(pid)
                    process.send_signal(signal.SIGTERM)
                    processes.append(process)
                except psutil.Error:
                    continue
            _, alive = psutil.wait_procs(processes, timeout=timeout_s)
            for process in alive:
                process.kill()
            psutil.wait_procs(alive, timeout=5)
            self._pid_file(service).unlink(missing_ok=True)
            if processes:
                stopped_any = True
                say(f"Stopped {service} (pid {', '.join(map(str, pids))}).")
        if not stopped_any:
            say("The lab was not running; nothing to stop.")

    def reset(self, say: Callable[[str], None] = print) -> None:
        """Stop the lab and wipe its data and logs (the resolved jars are kept: they are a cache)."""
        self.down(say=say)
        for name in ("kafka", "cassandra", "flink", "logs", "pids"):
            shutil.rmtree(self.state / name, ignore_errors=True)
        say(f"Wiped the lab's data and logs under {self.state} (kept the resolved jars).")

    # ---------- status ----------

    def status(self) -> list[ServiceStatus]:
        """Service, address, version, healthy, pids and resident memory of each service."""
        versions = pinned()
        rows = []
        for service in SERVICES:
            pids = self.pids(service)
            row = ServiceStatus(service, ADDRESSES[service], pids=pids, rss_mb=resident_mb(pids))
            if pids:
                probe = PROBES[service](self.settings)
                row.healthy, row.detail = probe.healthy, probe.detail
                row.version = probe.version
            else:
                row.detail = "not running"
            if not row.version:
                row.version = versions[{"kafka": "KAFKA_VERSION", "cassandra": "CASSANDRA_VERSION",
                                        "flink": "FLINK_VERSION"}[service]]
            rows.append(row)
        return rows

    def follow_log(self, service: str) -> None:
        """Print new lines of the service's logs as they are written, until Ctrl-C."""
        files = [path for path in self.log_files(service) if path.exists()]
        subprocess.run(["tail", "-n", "0", "-F"] + [str(path) for path in files])
