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
    assert expected <= set(SERVICES)


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


def test_kafka_is_single_node_kraft_with_internal_topics_at_replication_one():
    environment = SERVICES["kafka"]["environment"]
    assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR"):
        assert environment[key] == 1
