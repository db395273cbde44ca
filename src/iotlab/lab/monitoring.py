"""The lab's monitoring profile (`iotlab lab up --with monitoring`): Prometheus and what it scrapes.

- Flink: its own Prometheus reporter (``flink-metrics-prometheus``, a plugin: it brings its own copy of the
  Prometheus client), one HTTP endpoint per JobManager and TaskManager on the ports of ``FLINK_REPORTER_PORTS``.
  The reporter has a port setting and no address setting: it listens on every interface.
- Kafka and Cassandra: the JMX exporter (``jmx_prometheus_javaagent``), a Java agent in each broker and node
  that serves the MBeans its rule file keeps (``lab_env/native/*/jmx-exporter.yaml``) on the node's own address.
- Consumer lag: Kafka's brokers do not publish it, so the course's own exporter (``iotlab.lab.lag_exporter``, a
  Python process) reads every group's committed offsets from the admin API at each scrape, on 127.0.0.1:9308.
- Prometheus itself: Debian's ``prometheus`` (no Maven artifact), on 127.0.0.1:9090, its data under ``.lab/``.

Everything here is plain data or a command line; the native runtime starts the processes.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

import yaml

from iotlab.core.errors import LabError
from iotlab.core.paths import lab_env_dir, state_dir
from iotlab.core.topology import node_host, node_numbers

PROMETHEUS_HOST, PROMETHEUS_PORT = "127.0.0.1", 9090
PROMETHEUS_URL = f"http://{PROMETHEUS_HOST}:{PROMETHEUS_PORT}"
# The JobManager takes the first free port, the TaskManager the next; a third for a TaskManager restarted while
# the killed one's port is not free yet.
FLINK_REPORTER_PORTS = (9249, 9250, 9251)
# The JMX exporter of each Kafka broker and each Cassandra node, on that node's address (127.0.0.1-3).
JMX_EXPORTER_PORTS = {"kafka": 9404, "cassandra": 9405}
# The consumer-lag exporter (kafka_exporter's usual port).
LAG_EXPORTER_HOST, LAG_EXPORTER_PORT = "127.0.0.1", 9308
# Seconds between two scrapes: short, so that a notebook can plot a job's metrics while it runs.
SCRAPE_INTERVAL_S = 5
MONITORING_FILE = "monitoring"


def flink_reporter_settings() -> dict[str, str]:
    """The Flink settings that turn the Prometheus reporter on (config.yaml of the session cluster)."""
    first, *_, last = FLINK_REPORTER_PORTS
    return {
        "metrics.reporter.prom.factory.class": "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
        "metrics.reporter.prom.port": f"{first}-{last}",
    }


def jmx_exporter_option(agent_jar: Path, service: str, host: str) -> str:
    """The ``-javaagent`` option that serves a Kafka broker's or Cassandra node's kept MBeans on ``host``."""
    rules = lab_env_dir() / "native" / service / "jmx-exporter.yaml"
    return f"-javaagent:{agent_jar}={host}:{JMX_EXPORTER_PORTS[service]}:{rules}"


def scrape_targets(nodes: int) -> dict[str, list[str]]:
    """Prometheus job -> the host:port it scrapes, for a lab of ``nodes`` nodes."""
    hosts = [node_host(number) for number in node_numbers(nodes)]
    return {
        "flink": [f"127.0.0.1:{port}" for port in FLINK_REPORTER_PORTS],
        "kafka": [f"{host}:{JMX_EXPORTER_PORTS['kafka']}" for host in hosts],
        "cassandra": [f"{host}:{JMX_EXPORTER_PORTS['cassandra']}" for host in hosts],
        "kafka-lag": [f"{LAG_EXPORTER_HOST}:{LAG_EXPORTER_PORT}"],
        "prometheus": [f"{PROMETHEUS_HOST}:{PROMETHEUS_PORT}"],
    }


def prometheus_config(nodes: int) -> str:
    """prometheus.yml for a lab of ``nodes`` nodes: one scrape job per service, every SCRAPE_INTERVAL_S seconds."""
    config = {
        "global": {"scrape_interval": f"{SCRAPE_INTERVAL_S}s", "evaluation_interval": f"{SCRAPE_INTERVAL_S}s"},
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": targets}]}
                           for job, targets in scrape_targets(nodes).items()],
    }
    return "# Written by `iotlab lab up --with monitoring`; rewritten at each start.\n" + yaml.safe_dump(
        config, sort_keys=False)


def prometheus_binary() -> str:
    """The path of ``prometheus``; a LabError that says how to install it when there is none."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise LabError("prometheus not found (the monitoring profile needs it)",
                       "install it: `sudo apt-get install prometheus` (Debian/Ubuntu) or your system's package, "
                       "then run `iotlab lab up --with monitoring` again")
    return binary


def prometheus_command(binary: str, config: Path, data: Path) -> list[str]:
    """The command line of the lab's Prometheus: loopback only, its data under the lab's state folder, two days
    of history (a course needs no more)."""
    return [binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
            f"--web.listen-address={PROMETHEUS_HOST}:{PROMETHEUS_PORT}", "--storage.tsdb.retention.time=2d"]


def lag_exporter_command(python: str, state: Path) -> list[str]:
    """The command line of the lab's consumer-lag exporter, run by ``python`` (the course's interpreter). It names
    the lab's state folder, as every process of the native lab does: how `iotlab lab` tells its own processes."""
    return [python, "-m", "iotlab.lab.lag_exporter", "--host", LAG_EXPORTER_HOST, "--port", str(LAG_EXPORTER_PORT),
            "--lab", str(state)]


def recorded_monitoring(state: Optional[Path] = None) -> bool:
    """Whether the lab last started from ``state`` runs with monitoring (until `iotlab lab down`)."""
    return ((state or state_dir()) / MONITORING_FILE).exists()


def record_monitoring(on: bool, state: Optional[Path] = None) -> None:
    path = (state or state_dir()) / MONITORING_FILE
    if on:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("prometheus\n")
    else:
        path.unlink(missing_ok=True)
