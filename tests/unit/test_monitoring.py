"""The monitoring profile's configuration (iotlab.lab.monitoring): what Prometheus scrapes, and what the lab
passes to Flink, Kafka and Cassandra for it. The running profile is tested in tests/integration/test_monitoring.py."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from iotlab.core.errors import LabError
from iotlab.core.paths import lab_env_dir
from iotlab.core.versions import maven_properties, pinned
from iotlab.lab import monitoring
from iotlab.lab.native import NativeLab
from iotlab.lab.prerequisites import lab_ports


@pytest.mark.parametrize("nodes", [1, 3])
def test_prometheus_scrapes_every_node_and_flink_every_few_seconds(nodes):
    config = yaml.safe_load(monitoring.prometheus_config(nodes))
    assert config["global"]["scrape_interval"] == "5s"
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert set(jobs) == {"flink", "kafka", "cassandra", "kafka-lag", "prometheus"}
    assert jobs["kafka-lag"] == ["127.0.0.1:9308"]  # one exporter asks the whole cluster
    hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3"][:nodes]
    assert jobs["kafka"] == [f"{host}:9404" for host in hosts]
    assert jobs["cassandra"] == [f"{host}:9405" for host in hosts]
    assert jobs["flink"] == ["127.0.0.1:9249", "127.0.0.1:9250", "127.0.0.1:9251"]


def test_flink_reporter_is_the_prometheus_factory_on_the_scraped_ports():
    settings = monitoring.flink_reporter_settings()
    assert settings["metrics.reporter.prom.factory.class"] == \
        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
    assert settings["metrics.reporter.prom.port"] == "9249-9251"


def test_the_jmx_exporter_agent_serves_a_node_on_its_own_address_with_its_rules():
    option = monitoring.jmx_exporter_option(Path("/jars/agent.jar"), "cassandra", "127.0.0.3")
    assert option == f"-javaagent:/jars/agent.jar=127.0.0.3:9405:{lab_env_dir() / 'native/cassandra/jmx-exporter.yaml'}"


@pytest.mark.parametrize("service", ["kafka", "cassandra"])
def test_each_rule_file_keeps_named_mbeans_and_turns_them_into_named_metrics(service):
    rules = yaml.safe_load((lab_env_dir() / "native" / service / "jmx-exporter.yaml").read_text())
    assert rules["includeObjectNames"], "scrape only what the course reads: a node registers thousands of MBeans"
    assert all("*" != name for name in rules["includeObjectNames"])
    assert rules["lowercaseOutputName"] is True
    for rule in rules["rules"]:
        assert rule["name"].startswith(f"{service}_") and rule["type"] in ("GAUGE", "COUNTER")
        assert rule["type"] != "COUNTER" or rule["name"].endswith("_total")


def test_prometheus_listens_on_loopback_and_keeps_its_data_in_the_lab(tmp_path):
    command = monitoring.prometheus_command("/usr/bin/prometheus", tmp_path / "p.yml", tmp_path / "data")
    assert "--web.listen-address=127.0.0.1:9090" in command
    assert f"--storage.tsdb.path={tmp_path / 'data'}" in command


def test_the_pom_resolves_the_pinned_reporter_and_agent():
    pom = (lab_env_dir() / "pom.xml").read_text()
    ElementTree.fromstring(pom)  # well-formed: Maven refuses a comment holding "--", for example
    assert "<id>monitoring</id>" in pom
    assert "<artifactId>flink-metrics-prometheus</artifactId>" in pom
    assert "<artifactId>jmx_prometheus_javaagent</artifactId>" in pom
    versions = maven_properties()
    assert versions["flink.version"] == pinned()["FLINK_VERSION"]  # the reporter is built for Flink's release
    assert versions["jmx.exporter.version"] == "1.0.1"


def test_the_profile_is_remembered_until_the_lab_stops(tmp_path):
    assert not monitoring.recorded_monitoring(tmp_path)
    monitoring.record_monitoring(True, tmp_path)
    assert monitoring.recorded_monitoring(tmp_path)
    assert NativeLab(state=tmp_path).monitoring
    assert [unit.name for unit in NativeLab(state=tmp_path).units()][-2:] == ["prometheus", "lag-exporter"]
    monitoring.record_monitoring(False, tmp_path)
    assert "prometheus" not in [unit.name for unit in NativeLab(state=tmp_path).units()]


def test_monitoring_adds_its_ports_to_those_checked_before_a_start():
    plain, monitored = lab_ports(3), lab_ports(3, monitoring=True)
    added = {address: who for address, who in monitored.items() if address not in plain}
    assert added[("127.0.0.1", 9090)] == "prometheus"
    assert added[("127.0.0.1", 9308)] == "lag-exporter (consumer lag)"
    assert added[("127.0.0.2", 9404)] == "kafka-2 (JMX exporter)"
    assert added[("127.0.0.3", 9405)] == "cassandra-3 (JMX exporter)"
    assert {port for (_, port), who in added.items() if who.startswith("flink")} == {9249, 9250, 9251}
    assert lab_ports(1, ["prometheus"], monitoring=True) == {("127.0.0.1", 9090): "prometheus"}


def test_the_monitoring_profile_adds_prometheus_and_the_lag_exporter_to_the_lab(tmp_path):
    lab = NativeLab(nodes=1, monitoring=True)
    assert [unit.name for unit in lab.units()][-2:] == ["prometheus", "lag-exporter"]
    assert "lag-exporter" not in [unit.name for unit in NativeLab(nodes=1, monitoring=False).units()]
    assert monitoring.lag_exporter_command("/venv/bin/python", Path("/lab")) == [
        "/venv/bin/python", "-m", "iotlab.lab.lag_exporter", "--host", "127.0.0.1", "--port", "9308", "--lab", "/lab"]


def test_without_prometheus_installed_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(LabError, match="prometheus not found") as caught:
        monitoring.prometheus_binary()
    assert "apt-get install prometheus" in caught.value.fix
