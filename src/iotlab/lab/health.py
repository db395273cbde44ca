"""Probes that prove a service really works, not merely that its port is open."""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import dataclass
from typing import Optional

import requests

from iotlab.core.settings import Settings
from iotlab.kafka.logs import librdkafka_logger

HEALTH_TOPIC = "_iotlab_health"


@dataclass
class ProbeResult:
    healthy: bool
    version: str = ""
    detail: str = ""


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        return sock.connect_ex((host, port)) == 0


def probe_kafka(settings: Settings, timeout_s: float = 10.0) -> ProbeResult:
    """Produce one message and read that same message back: the broker, its log and fetch all work."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    host, _, port = settings.kafka_bootstrap_servers.split(",")[0].rpartition(":")
    if settings.profile != "cloud" and not port_open(host or "127.0.0.1", int(port)):
        return ProbeResult(False, detail=f"nothing listens on {settings.kafka_bootstrap_servers}")
    token = uuid.uuid4().hex.encode()
    delivered: list = []
    quiet = {"logger": librdkafka_logger()}  # routine librdkafka lines left out (iotlab.kafka.logs)
    producer = Producer({**settings.kafka_client_config(), **quiet, "message.timeout.ms": int(timeout_s * 1000)})
    producer.produce(HEALTH_TOPIC, value=token, on_delivery=lambda err, msg: delivered.append((err, msg)))
    producer.flush(timeout_s)
    if not delivered or delivered[0][0] is not None:
        return ProbeResult(False, detail=f"produce failed: {delivered[0][0] if delivered else 'timed out'}")
    message = delivered[0][1]
    consumer = Consumer({**settings.kafka_client_config(), **quiet, "group.id": "_iotlab_health",
                         "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(HEALTH_TOPIC, message.partition(), message.offset())])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            received = consumer.poll(0.5)
            if received is not None and not received.error() and received.value() == token:
                return ProbeResult(True, detail="produce/consume round trip ok")
        return ProbeResult(False, detail="produced, but could not consume the message back")
    finally:
        consumer.close()


def probe_cassandra(settings: Settings, timeout_s: float = 10.0) -> ProbeResult:
    """Run a CQL query: the node accepts clients and answers."""
    from cassandra.cluster import Cluster

    if settings.profile != "cloud" and not port_open(settings.cassandra_hosts[0], settings.cassandra_port):
        return ProbeResult(False, detail=f"nothing listens on {settings.cassandra_hosts[0]}:{settings.cassandra_port}")
    from iotlab.cassandra import build_cluster

    cluster: Optional[Cluster] = None
    try:
        cluster = build_cluster(settings)
        session = cluster.connect()
        row = session.execute("SELECT release_version FROM system.local", timeout=timeout_s).one()
        return ProbeResult(True, version=row.release_version, detail="CQL query ok")
    except Exception as error:  # the driver raises several types while the node starts
        return ProbeResult(False, detail=f"CQL query failed: {type(error).__name__}")
    finally:
        if cluster is not None:
            cluster.shutdown()


def probe_flink(settings: Settings, timeout_s: float = 5.0) -> ProbeResult:
    """Ask the REST API for the cluster overview: healthy once a task manager has registered."""
    try:
        overview = requests.get(f"{settings.flink_rest_url}/overview", timeout=timeout_s).json()
    except (requests.RequestException, ValueError) as error:
        return ProbeResult(False, detail=f"REST API not answering: {type(error).__name__}")
    if overview.get("taskmanagers", 0) < 1:
        return ProbeResult(False, version=overview.get("flink-version", ""), detail="no task manager yet")
    return ProbeResult(
        True,
        version=overview.get("flink-version", ""),
        detail=f"{overview['taskmanagers']} task manager(s), {overview.get('slots-available')} free slots",
    )


def probe_prometheus(url: str, timeout_s: float = 5.0) -> ProbeResult:
    """Ask Prometheus whether it is ready, then for its version and how many of its scrape targets answer."""
    try:
        if requests.get(f"{url}/-/ready", timeout=timeout_s).status_code != 200:
            return ProbeResult(False, detail="not ready yet")
        version = requests.get(f"{url}/api/v1/status/buildinfo", timeout=timeout_s).json()["data"]["version"]
        targets = requests.get(f"{url}/api/v1/targets", timeout=timeout_s).json()["data"]["activeTargets"]
    except (requests.RequestException, ValueError, KeyError) as error:
        return ProbeResult(False, detail=f"HTTP API not answering: {type(error).__name__}")
    up = sum(1 for target in targets if target.get("health") == "up")
    return ProbeResult(True, version=version, detail=f"{up} of {len(targets)} scrape targets up")


def probe_lag_exporter(url: str, timeout_s: float = 5.0) -> ProbeResult:
    """Scrape the consumer-lag exporter once: it answers, and it could read the groups' offsets from Kafka."""
    try:
        text = requests.get(f"{url}/metrics", timeout=timeout_s).text
    except requests.RequestException as error:
        return ProbeResult(False, detail=f"not answering: {type(error).__name__}")
    if "iotlab_lag_exporter_kafka_up 1.0" not in text:
        return ProbeResult(False, detail="answers, but could not read the offsets from Kafka")
    partitions = sum(1 for line in text.splitlines() if line.startswith("kafka_consumergroup_lag{"))
    return ProbeResult(True, detail=f"lag of {partitions} group partitions")


def probe_kafka_broker(settings: Settings, node: int, timeout_s: float = 5.0) -> ProbeResult:
    """One broker of the three-node lab: its port answers, and the cluster's metadata (from any broker) lists it
    as alive: the controllers saw it register and keep its session."""
    from confluent_kafka.admin import AdminClient

    from iotlab.core.topology import KAFKA_PORT, node_host

    if not port_open(node_host(node), KAFKA_PORT):
        return ProbeResult(False, detail=f"nothing listens on {node_host(node)}:{KAFKA_PORT}")
    try:
        admin = AdminClient({**settings.kafka_client_config(), "logger": librdkafka_logger()})
        brokers = admin.list_topics(timeout=timeout_s).brokers
    except Exception as error:  # KafkaException while the cluster elects its controller
        return ProbeResult(False, detail=f"no metadata: {type(error).__name__}")
    if node not in brokers:
        return ProbeResult(False, detail=f"broker {node} not registered (alive: {sorted(brokers)})")
    return ProbeResult(True, detail=f"registered; {len(brokers)} broker(s) alive")


def probe_cassandra_node(settings: Settings, host: str, timeout_s: float = 10.0) -> ProbeResult:
    """One node of the three-node lab: a CQL query sent to that node and answered by it (the driver may only
    use that host), so a node that is down is not hidden by the others."""
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import WhiteListRoundRobinPolicy

    if not port_open(host, settings.cassandra_port):
        return ProbeResult(False, detail=f"nothing listens on {host}:{settings.cassandra_port}")
    cluster = Cluster(contact_points=[host], port=settings.cassandra_port, protocol_version=4, connect_timeout=3,
                      execution_profiles={EXEC_PROFILE_DEFAULT: ExecutionProfile(
                          load_balancing_policy=WhiteListRoundRobinPolicy([host]))})
    try:
        session = cluster.connect()
        row = session.execute("SELECT release_version FROM system.local", timeout=timeout_s).one()
        peers = len(list(session.execute("SELECT peer FROM system.peers_v2", timeout=timeout_s)))
        return ProbeResult(True, version=row.release_version, detail=f"CQL query ok; {peers} peer(s) known")
    except Exception as error:  # the driver raises several types while the node starts
        return ProbeResult(False, detail=f"CQL query failed: {type(error).__name__}")
    finally:
        cluster.shutdown()


PROBES = {"kafka": probe_kafka, "cassandra": probe_cassandra, "flink": probe_flink}


def wait_for_taskmanagers(rest_url: str, at_least: int = 1, timeout_s: float = 60.0) -> int:
    """Wait until ``at_least`` TaskManagers have registered with the JobManager (``GET /taskmanagers``);
    return how many there are. LabError after ``timeout_s``."""
    from iotlab.core.errors import LabError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            count = len(requests.get(f"{rest_url}/taskmanagers", timeout=5).json()["taskmanagers"])
        except (requests.RequestException, ValueError, KeyError):
            count = 0
        if count >= at_least:
            return count
        if time.monotonic() > deadline:
            raise LabError(f"no TaskManager registered with Flink within {timeout_s:.0f} s",
                           "see `iotlab lab logs flink`")
        time.sleep(0.5)
