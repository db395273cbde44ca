"""The Docker lab cannot run here: parse its compose file and check it against the native lab."""

import re

import pytest
import yaml

from iotlab.core.paths import lab_env_dir
from iotlab.core.versions import pinned
from iotlab.lab.docker import COMPOSE_SERVICES
from iotlab.lab.prerequisites import LAB_PORTS

COMPOSE_TEXT = (lab_env_dir() / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]


def interpolate(text: str) -> str:
    """Resolve ${VAR}, ${VAR:?msg} and ${VAR:-default} from versions.env as compose would."""
    versions = pinned()

    def value(match):
        name = match.group(1)
        assert name in versions, f"compose uses ${{{name}}}, which versions.env does not pin"
        return versions[name]

    return re.sub(r"\$\{([A-Z_]+)(?:[:?-][^}]*)?\}", value, text)


RESOLVED = yaml.safe_load(interpolate(COMPOSE_TEXT))["services"]


def test_every_lab_service_is_in_compose():
    expected = {name for names in COMPOSE_SERVICES.values() for name in names} | {"grafana"}
    monitoring = yaml.safe_load((lab_env_dir() / "docker-compose.monitoring.yml").read_text())["services"]
    assert expected <= set(SERVICES) | set(monitoring)


@pytest.mark.parametrize("service,image", [
    ("kafka", "apache/kafka:{KAFKA_VERSION}"),
    ("cassandra", "cassandra:{CASSANDRA_VERSION}"),
    ("flink-jobmanager", "iotlab-flink:{FLINK_VERSION}"),
    ("flink-taskmanager", "iotlab-flink:{FLINK_VERSION}"),
    ("grafana", "grafana/grafana:{GRAFANA_VERSION}"),
])
def test_images_use_the_pinned_versions(service, image):
    assert RESOLVED[service]["image"] == image.format(**pinned())
    assert "latest" not in SERVICES[service]["image"]


def test_flink_image_build_gets_versions_from_versions_env():
    args = RESOLVED["flink-jobmanager"]["build"]["args"]
    assert args["FLINK_VERSION"] == pinned()["FLINK_VERSION"]
    assert args["FLINK_KAFKA_CONNECTOR_VERSION"] == pinned()["FLINK_KAFKA_CONNECTOR_VERSION"]
    dockerfile = (lab_env_dir() / "docker" / "flink" / "Dockerfile").read_text()
    assert "FROM flink:${FLINK_VERSION}-java17" in dockerfile
    assert 'apache-flink==${FLINK_VERSION}' in dockerfile and "flink-python" in dockerfile


def test_flink_image_compiles_the_sql_functions_with_a_jdk():
    """The base image has only a JRE; the SQL jobs need the course's Java functions (iotlab.flink.functions)."""
    dockerfile = (lab_env_dir() / "docker" / "flink" / "Dockerfile").read_text()
    install = dockerfile.index("openjdk-17-jdk-headless")
    compile_ = dockerfile.index("from iotlab.flink.functions import functions_jar")
    assert dockerfile.index("pip install") < compile_ and install < compile_


@pytest.mark.parametrize("service,port", [("kafka", 9092), ("cassandra", 9042), ("flink-jobmanager", 8081),
                                          ("grafana", 3000)])
def test_ports_match_the_native_lab_and_bind_loopback_only(service, port):
    assert SERVICES[service]["ports"] == [f"127.0.0.1:{port}:{port}"]
    if service != "grafana":
        assert port in LAB_PORTS


def test_no_port_is_published_on_all_interfaces():
    for name, service in SERVICES.items():
        for mapping in service.get("ports", []):
            assert str(mapping).startswith("127.0.0.1:"), f"{name} publishes {mapping} beyond loopback"


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies():
    for name, service in SERVICES.items():
        assert service["healthcheck"]["test"], f"{name} has no healthcheck"
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule == {"condition": "service_healthy"}, f"{name} starts before {dependency} is healthy"
    assert set(SERVICES["flink-jobmanager"]["depends_on"]) == {"kafka", "cassandra"}
    assert set(SERVICES["flink-taskmanager"]["depends_on"]) == {"flink-jobmanager"}


def test_grafana_is_behind_a_profile_with_a_provisioned_cassandra_source():
    assert SERVICES["grafana"]["profiles"] == ["grafana"]
    source = yaml.safe_load((lab_env_dir() / "docker" / "grafana" / "provisioning" / "datasources"
                             / "cassandra.yaml").read_text())["datasources"][0]
    assert source["type"] == "hadesarchitect-cassandra-datasource"
    assert source["url"] == "cassandra:9042"


def test_flink_runs_python_from_the_image_virtualenv():
    properties = yaml.safe_load(SERVICES["flink-jobmanager"]["environment"]["FLINK_PROPERTIES"])
    assert properties["python.executable"] == "/opt/venv/bin/python"
    assert properties["jobmanager.rpc.address"] == "flink-jobmanager"


def flattened(tree: dict, prefix: str = "") -> dict[str, str]:
    """A nested YAML mapping as Flink's flat keys: {"heartbeat": {"timeout": 1}} -> {"heartbeat.timeout": "1"}."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flattened(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def test_flink_settings_are_those_of_the_native_lab():
    template = (lab_env_dir() / "native" / "flink" / "config.yaml").read_text()
    native = flattened(yaml.safe_load(re.sub(r"\{\w+\}", "placeholder", template)))  # {state_dir}, {python}
    docker = {key: str(value) for key, value in
              yaml.safe_load(SERVICES["flink-jobmanager"]["environment"]["FLINK_PROPERTIES"]).items()}
    shared = ["jobmanager.memory.process.size", "taskmanager.memory.process.size",
              "taskmanager.memory.managed.fraction", "taskmanager.numberOfTaskSlots", "parallelism.default",
              "jobmanager.execution.failover-strategy", "heartbeat.interval", "heartbeat.timeout",
              "state.backend.type"]
    assert {key: docker.get(key) for key in shared} == {key: native[key] for key in shared}


def test_kafka_is_single_node_kraft_with_internal_topics_at_replication_one():
    environment = SERVICES["kafka"]["environment"]
    assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR"):
        assert environment[key] == 1


# ----------------------------------------------------------------------------- the three-node Docker lab

THREE_TEXT = (lab_env_dir() / "docker-compose.three-nodes.yml").read_text()
THREE = yaml.safe_load(interpolate(THREE_TEXT))["services"]


def merged(service: str) -> dict:
    """A service as compose merges the three-node file over the base one (maps key by key, the rest replaced)."""
    base, override = RESOLVED.get(service, {}), THREE.get(service, {})
    result = {**base, **override}
    for key in ("environment", "depends_on"):
        if isinstance(base.get(key), dict) and isinstance(override.get(key), dict):
            result[key] = {**base[key], **override[key]}
    return result


def native_cluster_properties() -> dict[str, str]:
    text = (lab_env_dir() / "native" / "kafka" / "server-cluster.properties").read_text()
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_three_brokers_form_one_quorum_with_the_native_clusters_replication():
    native = native_cluster_properties()
    brokers = [merged(name) for name in ("kafka", "kafka-2", "kafka-3")]
    assert [broker["environment"]["KAFKA_NODE_ID"] for broker in brokers] == [1, 2, 3]
    voters = {broker["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] for broker in brokers}
    assert voters == {"1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"}
    for broker in brokers:
        environment = broker["environment"]
        for key in ("default.replication.factor", "min.insync.replicas", "offsets.topic.replication.factor",
                    "transaction.state.log.replication.factor", "transaction.state.log.min.isr",
                    "unclean.leader.election.enable", "replica.lag.time.max.ms"):
            variable = "KAFKA_" + key.upper().replace(".", "_")
            assert str(environment[variable]).lower() == native[key], (variable, environment[variable], native[key])
        assert broker["image"] == f"apache/kafka:{pinned()['KAFKA_VERSION']}"
    assert [merged(name)["ports"] for name in ("kafka", "kafka-2", "kafka-3")] == [
        ["127.0.0.1:9092:9092"], ["127.0.0.1:9094:9092"], ["127.0.0.1:9095:9092"]]
    assert merged("kafka-3")["environment"]["KAFKA_ADVERTISED_LISTENERS"] == "HOST://127.0.0.1:9095,DOCKER://kafka-3:19092"


def test_three_cassandra_nodes_join_through_the_first_and_flink_knows_every_node():
    nodes = [merged(name) for name in ("cassandra", "cassandra-2", "cassandra-3")]
    assert {node["environment"]["CASSANDRA_SEEDS"] for node in nodes} == {"cassandra"}
    assert {node["environment"]["CASSANDRA_CLUSTER_NAME"] for node in nodes} == {"iotlab"}
    assert all(node["image"] == f"cassandra:{pinned()['CASSANDRA_VERSION']}" for node in nodes)
    assert "ports" not in nodes[1] and "ports" not in nodes[2]  # on the compose network only
    assert merged("cassandra-3")["depends_on"] == {"cassandra-2": {"condition": "service_healthy"}}
    for flink in ("flink-jobmanager", "flink-taskmanager"):
        environment = merged(flink)["environment"]
        assert environment["IOTLAB_KAFKA_BOOTSTRAP"] == "kafka:19092,kafka-2:19092,kafka-3:19092"
        assert environment["IOTLAB_CASSANDRA_HOSTS"] == "cassandra,cassandra-2,cassandra-3"
        assert "FLINK_PROPERTIES" in environment  # the base file's settings are kept
    every_port = [port for service in THREE.values() for port in service.get("ports", [])]
    assert all(port.startswith("127.0.0.1:") for port in every_port)


def test_the_docker_runtime_adds_the_three_node_file_for_three_nodes():
    from iotlab.lab.docker import DockerLab

    one = DockerLab(nodes=1).compose_command("up")
    three = DockerLab(nodes=3).compose_command("up")
    assert one.count("-f") == 1 and three.count("-f") == 2
    assert three[three.index("-f", 3) + 1].endswith("docker-compose.three-nodes.yml")
    assert DockerLab(nodes=3)._node_service("kafka", 2) == ["kafka-2"]
    assert DockerLab(nodes=3)._node_service("cassandra", None) == ["cassandra", "cassandra-2", "cassandra-3"]


def test_docker_status_has_a_row_per_node_on_three_nodes(monkeypatch):
    """`iotlab lab status --runtime docker` on three nodes: a row per broker and Cassandra node, from `docker compose
    ps` (its JSON is given here: no Docker engine runs on this machine); the first nodes probed on their ports."""
    from iotlab.lab import docker as docker_runtime
    from iotlab.lab.docker import DockerLab
    from iotlab.lab.health import ProbeResult

    containers = {name: {"Service": name, "State": "running", "Health": "healthy"}
                  for name in ["kafka", "kafka-2", "kafka-3", "cassandra", "cassandra-2", "cassandra-3",
                               "flink-jobmanager", "flink-taskmanager"]}
    containers["kafka-3"] = {"Service": "kafka-3", "State": "exited", "Health": ""}
    containers["cassandra-2"]["Health"] = "starting"
    lab = DockerLab(nodes=3)
    monkeypatch.setattr(lab, "_containers", lambda: containers)
    monkeypatch.setattr(docker_runtime, "PROBES", {service: lambda settings: ProbeResult(True, "v", "probed")
                                                   for service in ("kafka", "cassandra", "flink")})
    rows = {row.name: row for row in lab.status()}
    assert list(rows) == ["kafka-1", "kafka-2", "kafka-3", "cassandra-1", "cassandra-2", "cassandra-3", "flink"]
    assert rows["kafka-1"].healthy and rows["kafka-1"].detail == "probed"
    assert rows["kafka-2"].healthy and rows["kafka-2"].address == "127.0.0.1:9094"
    assert not rows["kafka-3"].healthy and rows["kafka-3"].detail == "container not running"
    assert not rows["cassandra-2"].healthy and rows["cassandra-2"].detail == "container starting"
    assert rows["flink"].healthy


# ----------------------------------------------------------------------------- the Docker monitoring profile

MONITORING_TEXT = (lab_env_dir() / "docker-compose.monitoring.yml").read_text()
MONITORING = yaml.safe_load(interpolate(MONITORING_TEXT))["services"]


def test_the_monitoring_file_publishes_prometheus_on_loopback_only_from_a_pinned_image():
    prometheus = MONITORING["prometheus"]
    assert prometheus["image"] == f"prom/prometheus:v{pinned()['PROMETHEUS_VERSION']}"
    assert prometheus["ports"] == ["127.0.0.1:9090:9090"]
    assert prometheus["healthcheck"]["test"]
    every_port = [port for service in MONITORING.values() for port in service.get("ports", [])]
    assert all(port.startswith("127.0.0.1:") for port in every_port)


def test_kafka_and_cassandra_get_the_agent_with_the_native_rule_files_on_the_native_ports():
    from iotlab.lab.monitoring import JMX_EXPORTER_PORTS

    options = {"kafka": MONITORING["kafka"]["environment"]["KAFKA_OPTS"],
               "cassandra": MONITORING["cassandra"]["environment"]["JVM_EXTRA_OPTS"]}
    for service, option in options.items():
        agent, rules = option.removeprefix("-javaagent:").split("=", 1)
        port, rules_path = rules.split(":", 1)
        assert int(port) == JMX_EXPORTER_PORTS[service]
        mounts = dict(volume.rsplit(":", 2)[:2] for volume in MONITORING[service]["volumes"])
        assert mounts[f"./native/{service}/jmx-exporter.yaml"] == rules_path  # the native lab's own rules
        assert mounts["jmx-exporter"] == agent.rsplit("/", 1)[0]
        assert MONITORING[service]["depends_on"]["jmx-exporter"]["condition"] == "service_completed_successfully"


def test_the_agent_image_takes_the_pinned_jar_from_maven_central():
    dockerfile = (lab_env_dir() / "docker" / "jmx-exporter" / "Dockerfile").read_text()
    assert "https://repo1.maven.org/maven2/io/prometheus/jmx/jmx_prometheus_javaagent/" in dockerfile
    assert MONITORING["jmx-exporter"]["build"]["args"]["JMX_EXPORTER_VERSION"] == pinned()["JMX_EXPORTER_VERSION"]


def test_docker_prometheus_scrapes_what_the_native_one_scrapes():
    from iotlab.lab.monitoring import FLINK_REPORTER_PORTS, JMX_EXPORTER_PORTS, prometheus_config

    docker = yaml.safe_load((lab_env_dir() / "docker" / "prometheus" / "prometheus.yml").read_text())
    native = yaml.safe_load(prometheus_config(1))
    assert docker["global"] == native["global"]
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in docker["scrape_configs"]}
    assert set(jobs) == {job["job_name"] for job in native["scrape_configs"]}
    port = FLINK_REPORTER_PORTS[0]
    assert jobs["flink"] == [f"flink-jobmanager:{port}", f"flink-taskmanager:{port}"]
    assert jobs["kafka"] == [f"kafka:{JMX_EXPORTER_PORTS['kafka']}"]
    assert jobs["cassandra"] == [f"cassandra:{JMX_EXPORTER_PORTS['cassandra']}"]
    assert jobs["kafka-lag"] == ["lag-exporter:9308"]


def test_docker_runs_the_native_labs_lag_exporter_from_the_course_image():
    from iotlab.lab.monitoring import LAG_EXPORTER_PORT, lag_exporter_command

    exporter = MONITORING["lag-exporter"]
    assert exporter["image"] == interpolate(SERVICES["flink-jobmanager"]["image"])  # the image with iotlab in it
    native = lag_exporter_command("/opt/venv/bin/python", lab_env_dir())
    docker = exporter["entrypoint"]
    assert docker[:3] == native[:3] and docker[docker.index("--port") + 1] == str(LAG_EXPORTER_PORT)
    assert docker[docker.index("--host") + 1] == "0.0.0.0" and "ports" not in exporter  # inside the network only
    assert exporter["environment"]["IOTLAB_KAFKA_BOOTSTRAP"] == \
        SERVICES["flink-jobmanager"]["environment"]["IOTLAB_KAFKA_BOOTSTRAP"]


def test_flink_in_docker_runs_the_native_labs_reporter():
    from iotlab.lab.monitoring import FLINK_REPORTER_PORTS, flink_reporter_settings

    properties = yaml.safe_load(SERVICES["flink-jobmanager"]["environment"]["FLINK_PROPERTIES"])
    factory = "metrics.reporter.prom.factory.class"
    assert properties[factory] == flink_reporter_settings()[factory]
    assert properties["metrics.reporter.prom.port"] == FLINK_REPORTER_PORTS[0]  # one process per container


def test_the_docker_runtime_adds_the_monitoring_file_and_stops_it_with_the_rest():
    from iotlab.core.errors import LabError
    from iotlab.lab.docker import DockerLab

    monitored = DockerLab(nodes=1, monitoring=True).compose_command("up")
    assert monitored[monitored.index("-f", 3) + 1].endswith("docker-compose.monitoring.yml")
    stop = DockerLab(nodes=1).compose_command("down", every_file=True)
    assert any(part.endswith("docker-compose.monitoring.yml") for part in stop)
    with pytest.raises(LabError, match="one node of each service"):
        DockerLab(nodes=3, monitoring=True)
