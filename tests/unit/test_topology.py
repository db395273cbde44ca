"""The lab's node count and addresses (``iotlab.core.topology``), and the settings that follow them."""

from __future__ import annotations

import pytest

from iotlab.core import topology
from iotlab.core.settings import load_settings


def test_three_nodes_listen_on_three_loopback_addresses_with_the_same_ports():
    assert topology.kafka_bootstrap(1) == "127.0.0.1:9092"
    assert topology.kafka_bootstrap(3) == "127.0.0.1:9092,127.0.0.2:9092,127.0.0.3:9092"
    assert topology.cassandra_contact_points(3) == ("127.0.0.1", "127.0.0.2", "127.0.0.3")
    assert len(set(topology.CASSANDRA_JMX_PORTS.values())) == 3  # JMX binds 127.0.0.1: a port per node
    assert (topology.replication_factor(1), topology.replication_factor(3)) == (1, 3)
    assert topology.MIN_IN_SYNC_REPLICAS == {1: 1, 3: 2}
    with pytest.raises(ValueError, match="1 or 3 nodes, not 2"):
        topology.node_numbers(2)


def test_the_recorded_node_count_defaults_to_one(tmp_path):
    assert topology.recorded_nodes(tmp_path) == 1
    topology.record_nodes(3, tmp_path)
    assert topology.recorded_nodes(tmp_path) == 3
    (tmp_path / "nodes").write_text("seven\n")
    assert topology.recorded_nodes(tmp_path) == 1


def test_a_stopped_lab_forgets_its_node_count(tmp_path):
    """`iotlab lab down` then `iotlab lab up` is the one-node lab again, as the README says."""
    topology.record_nodes(3, tmp_path)
    topology.forget_nodes(tmp_path)
    assert topology.recorded_nodes(tmp_path) == 1
    topology.forget_nodes(tmp_path)  # twice: nothing to forget, no error


def test_settings_follow_the_recorded_node_count_unless_set(tmp_path, monkeypatch):
    monkeypatch.setenv("IOTLAB_STATE_DIR", str(tmp_path))
    for name in ("IOTLAB_KAFKA_BOOTSTRAP", "IOTLAB_CASSANDRA_HOSTS", "IOTLAB_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty.env"
    empty.write_text("")
    assert load_settings(empty).kafka_bootstrap_servers == "127.0.0.1:9092"
    topology.record_nodes(3, tmp_path)
    three = load_settings(empty)
    assert three.kafka_bootstrap_servers == "127.0.0.1:9092,127.0.0.2:9092,127.0.0.3:9092"
    assert three.kafka_bootstrap_for_jobs == three.kafka_bootstrap_servers
    assert three.cassandra_hosts == ("127.0.0.1", "127.0.0.2", "127.0.0.3")
    assert topology.lab_replication_factor() == 3
    monkeypatch.setenv("IOTLAB_KAFKA_BOOTSTRAP", "broker:9092")
    assert load_settings(empty).kafka_bootstrap_servers == "broker:9092"  # a setting wins
