"""How many Kafka brokers and Cassandra nodes the local lab runs, and where each one listens.

The native lab runs either one node of each (the default) or three (``iotlab lab up --nodes 3``). Three nodes
cannot share 127.0.0.1's ports, and need not: Linux routes all of 127.0.0.0/8 to the loopback interface, so node
N listens on 127.0.0.N with the same ports as the others (Kafka 9092 and its controller 9093; Cassandra 9042 and
7000). Only JMX, which Cassandra binds to 127.0.0.1 whatever its address, needs a port per node.

``iotlab lab up`` records the node count in the lab's state folder (``.lab/nodes``); clients read it from there,
so that every command and notebook reaches all three nodes (and survives one of them dying) without a setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from iotlab.core.paths import state_dir

NODE_COUNTS = (1, 3)
KAFKA_PORT, KAFKA_CONTROLLER_PORT = 9092, 9093
CQL_PORT, CASSANDRA_STORAGE_PORT = 9042, 7000
CASSANDRA_JMX_PORTS = {1: 7199, 2: 7299, 3: 7399}  # JMX listens on 127.0.0.1 for every node: one port each
MIN_IN_SYNC_REPLICAS = {1: 1, 3: 2}  # a write to a topic needs this many replicas in sync (acks=all)


def node_host(node: int) -> str:
    """The loopback address of node ``node`` (1-based): 127.0.0.1, 127.0.0.2, ..."""
    return f"127.0.0.{node}"


def node_numbers(nodes: int) -> list[int]:
    """1 .. ``nodes``, after checking the count is one the lab runs."""
    if nodes not in NODE_COUNTS:
        raise ValueError(f"the lab runs {' or '.join(map(str, NODE_COUNTS))} nodes, not {nodes}")
    return list(range(1, nodes + 1))


def kafka_bootstrap(nodes: int) -> str:
    """Every broker's address: a client that knows all three still connects when one is down."""
    return ",".join(f"{node_host(node)}:{KAFKA_PORT}" for node in node_numbers(nodes))


def cassandra_contact_points(nodes: int) -> tuple[str, ...]:
    return tuple(node_host(node) for node in node_numbers(nodes))


def replication_factor(nodes: int) -> int:
    """Copies of each topic partition and each keyspace's rows: one per node, up to three."""
    return min(3, len(node_numbers(nodes)))


def _nodes_file(state: Optional[Path] = None) -> Path:
    return (state or state_dir()) / "nodes"


def recorded_nodes(state: Optional[Path] = None) -> int:
    """The node count of the lab last started from ``state`` (1 when none is recorded)."""
    path = _nodes_file(state)
    try:
        nodes = int(path.read_text().strip())
    except (OSError, ValueError):
        return 1
    return nodes if nodes in NODE_COUNTS else 1


def record_nodes(nodes: int, state: Optional[Path] = None) -> None:
    node_numbers(nodes)
    path = _nodes_file(state)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{nodes}\n")


def forget_nodes(state: Optional[Path] = None) -> None:
    """Forget the node count when the lab stops: the next `iotlab lab up` starts one node unless told otherwise."""
    _nodes_file(state).unlink(missing_ok=True)


def lab_replication_factor() -> int:
    """The replication factor for the course's topics and keyspaces on the lab that runs now."""
    return replication_factor(recorded_nodes())
