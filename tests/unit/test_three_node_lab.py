"""The three-node native lab's configuration, rendered without starting anything: every node on its own
loopback address with the same ports, one static KRaft quorum, one Cassandra ring of evenly spaced tokens; and the
one-node lab's configuration as it was."""

from __future__ import annotations

import pytest
import yaml

from iotlab.core.errors import LabError
from iotlab.lab.native import MURMUR3_MIN, NativeLab, cluster_token
from iotlab.lab.prerequisites import lab_ports


def properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.fixture
def three(tmp_path) -> NativeLab:
    return NativeLab(state=tmp_path, nodes=3)


def test_the_three_node_lab_has_a_process_per_node_and_one_flink(three):
    assert [unit.name for unit in three.units()] == ["kafka-1", "kafka-2", "kafka-3", "cassandra-1", "cassandra-2",
                                                     "cassandra-3", "flink"]
    assert [unit.name for unit in NativeLab(state=three.state, nodes=1).units()] == ["kafka", "cassandra", "flink"]


def test_each_broker_listens_on_its_own_address_in_one_static_quorum(three):
    config = properties(three._kafka_properties(three.unit("kafka", 2)))
    assert config["node.id"] == "2" and config["process.roles"] == "broker,controller"
    assert config["listeners"] == "PLAINTEXT://127.0.0.2:9092,CONTROLLER://127.0.0.2:9093"
    assert config["controller.quorum.voters"] == "1@127.0.0.1:9093,2@127.0.0.2:9093,3@127.0.0.3:9093"
    assert (config["default.replication.factor"], config["min.insync.replicas"]) == ("3", "2")
    assert config["offsets.topic.replication.factor"] == config["transaction.state.log.replication.factor"] == "3"
    assert config["log.dirs"] == str(three.state / "cluster" / "kafka-2" / "data")


def test_each_cassandra_node_owns_a_third_of_the_ring_and_joins_through_the_first(three):
    configs = [yaml.safe_load(three._cassandra_yaml(three.unit("cassandra", node))) for node in (1, 2, 3)]
    assert [config["listen_address"] for config in configs] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert all(config["rpc_address"] == config["listen_address"] for config in configs)
    assert {config["seed_provider"][0]["parameters"][0]["seeds"] for config in configs} == {"127.0.0.1:7000"}
    assert [config["initial_token"] for config in configs] == [cluster_token(node, 3) for node in (1, 2, 3)]
    assert cluster_token(1, 3) == MURMUR3_MIN and cluster_token(2, 3) - cluster_token(1, 3) == 2**64 // 3
    assert all(config["num_tokens"] == 1 and config["auto_bootstrap"] is False for config in configs)
    assert configs[2]["data_file_directories"] == [str(three.state / "cluster" / "cassandra-3" / "data")]
    jvm = three._cassandra_jvm_options(three.unit("cassandra", 3))
    assert "-Dcassandra.jmx.local.port=7399" in jvm and "-Dcassandra.jmx.local.port=7199" not in jvm
    assert "-Xmx320m" in jvm and "-Xmx512m" not in jvm


def test_the_one_node_lab_is_configured_as_before(tmp_path):
    one = NativeLab(state=tmp_path, nodes=1)
    config = yaml.safe_load(one._cassandra_yaml(one.unit("cassandra")))
    assert (config["listen_address"], config["num_tokens"], config["allocate_tokens_for_local_replication_factor"]) \
        == ("127.0.0.1", 16, 1)
    assert "initial_token" not in config and "auto_bootstrap" not in config
    assert config["data_file_directories"] == [str(tmp_path / "cassandra" / "data")]
    kafka = properties(one._kafka_properties(one.unit("kafka")))
    assert kafka["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093" and kafka["min.insync.replicas"] == "1"
    assert "-Dcassandra.jmx.local.port=7199" in one._cassandra_jvm_options(one.unit("cassandra"))


def test_the_ports_of_each_node_and_of_a_missing_one(three):
    ports = lab_ports(3)
    assert ports[("127.0.0.3", 9092)] == "kafka-3" and ports[("127.0.0.2", 7000)] == "cassandra-2 (storage)"
    assert ports[("127.0.0.1", 7299)] == "cassandra-2 (JMX, for nodetool)"
    assert len(ports) == 3 * 2 + 3 * 3 + 2
    assert set(lab_ports(3, ["kafka-2"])) == {("127.0.0.2", 9092), ("127.0.0.2", 9093)}
    assert set(lab_ports(1)) == {("127.0.0.1", port) for port in (9092, 9093, 9042, 7000, 7199, 8081, 6123)}


@pytest.mark.parametrize("service, node, problem", [
    ("kafka", None, "say which"), ("kafka", 4, "no kafka node 4"), ("flink", 2, "one JobManager"),
    ("zookeeper", 1, "unknown service"),
])
def test_a_node_that_does_not_exist_is_refused_with_the_fix(three, service, node, problem):
    with pytest.raises(LabError, match=problem):
        three.unit(service, node)


def test_the_one_node_lab_has_no_node_two(tmp_path):
    with pytest.raises(LabError, match="one cassandra node, not node 2") as raised:
        NativeLab(state=tmp_path, nodes=1).unit("cassandra", 2)
    assert "--nodes 3" in raised.value.fix


def test_flink_counts_as_running_only_with_both_its_jobmanager_and_its_taskmanager(three):
    """`iotlab lab up` restarts what is missing: a TaskManager that died (a JobManager kill can take it along) makes
    Flink incomplete even though its JobManager runs."""
    import subprocess
    import sys

    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(three.state)])
    try:
        pids = three.state / "flink"
        pids.mkdir(parents=True)
        (pids / "flink-root-standalonesession-0-host.pid").write_text(f"{stand_in.pid}\n")
        assert not three._whole(three.unit("flink"))
        (pids / "flink-root-taskexecutor-0-host.pid").write_text(f"{stand_in.pid}\n")
        assert three._whole(three.unit("flink"))
    finally:
        stand_in.kill()
        stand_in.wait()
