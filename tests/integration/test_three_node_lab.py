"""The three-node lab against real processes: three brokers and three Cassandra nodes on 127.0.0.1-3, a broker and
a Cassandra node killed while clients write, and `iotlab lab up` bringing both back.

It needs the three-node lab (`make test` starts it for its fourth pass) and kills its nodes: marked three_nodes.
"""

from __future__ import annotations

import time

import pytest
from cassandra import ConsistencyLevel, Unavailable, WriteTimeout
from cassandra.query import SimpleStatement
from click.testing import CliRunner
from confluent_kafka import Producer

from iotlab.cassandra import cassandra_session, ensure_keyspace
from iotlab.cli import main
from iotlab.core.settings import load_settings
from iotlab.core.topology import recorded_nodes
from iotlab.kafka import recreate_topic
from iotlab.kafka.clients import admin_client
from iotlab.lab.native import NativeLab

pytestmark = [pytest.mark.integration, pytest.mark.three_nodes]

TOPIC, KEYSPACE = "three.nodes", "iotlab_test_three_nodes"


def in_sync(settings) -> dict[int, list[int]]:
    """Each partition of TOPIC and its in-sync replicas (broker ids), from the cluster's metadata."""
    partitions = admin_client(settings).list_topics(TOPIC, timeout=10).topics[TOPIC].partitions
    return {number: sorted(partition.isrs) for number, partition in partitions.items()}


def wait_for(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} within {timeout_s:.0f} s"
        time.sleep(1)


@pytest.fixture(scope="module")
def three_nodes(lab_settings):
    if recorded_nodes() != 3:
        pytest.fail("these tests need the three-node lab: `iotlab lab down && iotlab lab up --nodes 3`")
    NativeLab(nodes=3).up(say=lambda _: None, progress=False)  # whatever an earlier test left down
    return load_settings()


def test_three_nodes_of_each_run_on_their_own_addresses(three_nodes):
    result = CliRunner().invoke(main, ["lab", "status"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines()[2:-1]}
    assert sorted(rows) == ["cassandra-1", "cassandra-2", "cassandra-3", "flink", "kafka-1", "kafka-2", "kafka-3"]
    assert "127.0.0.2:9092" in rows["kafka-2"] and "127.0.0.3:9042" in rows["cassandra-3"]
    assert "3 broker(s) alive" in rows["kafka-1"] and "2 peer(s) known" in rows["cassandra-1"]
    assert three_nodes.kafka_bootstrap_servers == "127.0.0.1:9092,127.0.0.2:9092,127.0.0.3:9092"


def test_a_broker_and_a_cassandra_node_die_and_nothing_acknowledged_is_lost(three_nodes):
    recreate_topic(TOPIC, partitions=3, settings=three_nodes)
    assert in_sync(three_nodes) == {0: [1, 2, 3], 1: [1, 2, 3], 2: [1, 2, 3]}  # replication factor 3
    session = cassandra_session(three_nodes)
    ensure_keyspace(session, KEYSPACE)
    replication = session.execute("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s",
                                  (KEYSPACE,)).one().replication
    assert replication["replication_factor"] == "3"
    session.execute(f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.kv (k int PRIMARY KEY, v int)")

    killed = CliRunner().invoke(main, ["fault", "kill", "broker", "2"])
    assert killed.exit_code == 0 and "Killed kafka-2" in killed.output, killed.output
    delivered = []
    producer = Producer({**three_nodes.kafka_client_config(), "acks": "all"})
    for number in range(200):
        producer.produce(TOPIC, value=str(number).encode(), on_delivery=lambda error, _: delivered.append(error))
    producer.flush(60)
    assert delivered.count(None) == 200  # two of three replicas in sync: acks=all still succeeds
    wait_for(lambda: all(2 not in replicas for replicas in in_sync(three_nodes).values()), 30,
             "broker 2 leaving every in-sync replica set")

    killed = CliRunner().invoke(main, ["fault", "kill", "cassandra", "3"])
    assert killed.exit_code == 0 and "Killed cassandra-3" in killed.output, killed.output
    quorum = SimpleStatement(f"INSERT INTO {KEYSPACE}.kv (k, v) VALUES (1, 1)",
                             consistency_level=ConsistencyLevel.QUORUM)
    session.execute(quorum)  # two of three replicas answer
    read = SimpleStatement(f"SELECT v FROM {KEYSPACE}.kv WHERE k = 1", consistency_level=ConsistencyLevel.QUORUM)
    assert session.execute(read).one().v == 1
    with pytest.raises((Unavailable, WriteTimeout)):  # every replica must answer, and one is dead
        session.execute(SimpleStatement(f"INSERT INTO {KEYSPACE}.kv (k, v) VALUES (2, 2)",
                                        consistency_level=ConsistencyLevel.ALL))

    up = CliRunner().invoke(main, ["lab", "up", "--no-progress"])
    assert up.exit_code == 0 and "Starting kafka-2, cassandra-3" in up.output, up.output
    wait_for(lambda: in_sync(three_nodes) == {0: [1, 2, 3], 1: [1, 2, 3], 2: [1, 2, 3]}, 60,
             "broker 2 back in every in-sync replica set")
    session.execute(SimpleStatement(f"INSERT INTO {KEYSPACE}.kv (k, v) VALUES (2, 2)",
                                    consistency_level=ConsistencyLevel.ALL))
    session.cluster.shutdown()
