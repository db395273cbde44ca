"""Notebook 11 (fault tolerance): the in-sync replicas read from Kafka's admin API, a producer that loses nothing
when a broker dies, consistency levels that read your writes with a Cassandra node down, the check that a run
through faults lost and repeated nothing, and a recovery time read from Flink's REST API.

The checks that need the cluster run against the three-node lab and break it on purpose (a broker or a Cassandra
node killed, then started again); each leaves every node running when it returns, pass or fail."""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Optional

from cassandra import ConsistencyLevel
from cassandra.query import SimpleStatement
from confluent_kafka import ElectionType, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic

from iotlab.cassandra import cassandra_session
from iotlab.cassandra.session import session_on_node
from iotlab.core.errors import LabError
from iotlab.core.topology import recorded_nodes
from iotlab.course.checks import CheckResult, error_reason, failed, is_skipped, passed, skipped
from iotlab.faults.drill import same_values  # noqa: F401 (the notebook calls nb11.same_values)
from iotlab.kafka import read_topic, recreate_topic
from iotlab.kafka.clients import admin_client, producer
from iotlab.lab.native import NativeLab

CHECK_TOPIC = "nb11.check"
CHECK_KEYSPACE = "iotlab_check_nb11"
REPLICATION_FACTOR = 3
# What the lab's fault methods say during a check (pids, clock times): on stderr, as a terminal would show it, apart
# from the check's verdict.
QUIET = partial(print, file=sys.stderr)


def require_three_nodes() -> NativeLab:
    """The three-node lab, or one clear error saying how to start it."""
    if recorded_nodes() != 3:
        raise LabError("notebook 11 needs the three-node lab; the lab runs one node of each service",
                       "stop it and start three: `iotlab lab down && iotlab lab up --nodes 3` (about 4 GB of memory)")
    lab = NativeLab(nodes=3)
    unhealthy = [row.name for row in lab.status() if not row.healthy]
    if unhealthy:
        raise LabError(f"{', '.join(unhealthy)} of the three-node lab is not healthy",
                       "`iotlab lab up` starts what is down (and undoes every fault)")
    return lab


# ----------------------------------------------------------------------------- 11.1 the in-sync replicas

def in_sync_replicas(admin, topic: str) -> dict[int, list[int]]:
    """Reference for 11.1: each partition of ``topic`` and the broker ids of its in-sync replicas, sorted, from the
    cluster metadata the admin client reads (``list_topics``)."""
    partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
    return {number: sorted(partition.isrs) for number, partition in partitions.items()}


def _replicas_now(topic: str) -> dict[int, tuple[list[int], list[int]]]:
    """{partition: (replicas, in-sync replicas)} from the cluster metadata, a second way to read them."""
    metadata = admin_client().list_topics(topic, timeout=10).topics[topic].partitions
    return {number: (sorted(p.replicas), sorted(p.isrs)) for number, p in metadata.items()}


def _wait_for(condition: Callable[[], Any], timeout_s: float, interval_s: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = condition()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(interval_s)


def check_in_sync_replicas(function: Callable) -> CheckResult:
    """Check 11.1 on the real brokers: the answer with every broker in sync, then with broker 3 killed (its
    partitions' in-sync sets shrink once the controller fences it), then after it is back."""
    name = "in_sync_replicas"
    admin = admin_client()
    if is_skipped(function, (admin, "?")):
        return skipped(name)
    recreate_topic(CHECK_TOPIC, partitions=3)
    lab = NativeLab(nodes=3)
    moments = []
    try:
        for moment in ("every broker up", "broker 3 killed", "broker 3 back"):
            if moment == "broker 3 killed":
                lab.kill("kafka", 3, say=QUIET)
                _wait_for(lambda: all(3 not in isr for _, isr in _replicas_now(CHECK_TOPIC).values()), 60)
            elif moment == "broker 3 back":
                lab.restart("kafka", 3, say=QUIET)
                _wait_for(lambda: all(isr == [1, 2, 3] for _, isr in _replicas_now(CHECK_TOPIC).values()), 60)
            # Each broker learns the topic's metadata from the controller on its own time, and a client may ask
            # any broker: a broker that has not caught up yet answers with no partitions. A right answer
            # agrees with the cluster within a few seconds; a wrong one never does.
            deadline = time.monotonic() + 15
            while True:
                expected = {number: isr for number, (_, isr) in _replicas_now(CHECK_TOPIC).items()}
                try:
                    answer = function(admin_client(), CHECK_TOPIC)
                except Exception as error:
                    return failed(name, f"with {moment}, raised {type(error).__name__}: {error_reason(error)}. "
                                        "Hint: admin.list_topics(topic, timeout=10).topics[topic].partitions")
                if isinstance(answer, dict):
                    answer = {number: sorted(ids) if isinstance(ids, (list, tuple, set)) else ids
                              for number, ids in answer.items()}
                if answer == expected and len(expected) == 3 or time.monotonic() > deadline:
                    break
                time.sleep(1)
            if answer != expected:
                replicas = {number: replicas for number, (replicas, _) in _replicas_now(CHECK_TOPIC).items()}
                hint = ("that is every replica, in sync or not: read partition.isrs, not partition.replicas"
                        if answer == replicas and moment == "broker 3 killed" else
                        "one entry per partition number, the sorted broker ids of its partition.isrs")
                return failed(name, f"with {moment}, expected {expected}, got {answer!r}: {hint}")
            moments.append(moment)
    finally:
        if not lab.unit_pids(lab.unit("kafka", 3)):
            lab.restart("kafka", 3, say=QUIET)
    return passed(name, f"right with {', '.join(moments)}")


# ----------------------------------------------------------------------------- 11.2 a producer that loses nothing

def safe_producer_config() -> dict[str, Any]:
    """Reference for 11.2: the producer settings under which no acknowledged message is lost or written twice when
    a broker dies: every in-sync replica has it before the acknowledgement, and retries cannot duplicate or
    reorder."""
    return {"acks": "all", "enable.idempotence": True}


def _config_rule(config: dict[str, Any]) -> Optional[str]:
    """What in ``config`` loses or repeats messages when a leader dies, if anything."""
    acks = str(config.get("acks", config.get("request.required.acks", "all"))).lower()
    if acks not in ("all", "-1"):
        return (f"acks={acks}: the leader acknowledges before its followers have the message, and a leader that "
                "dies then takes it along (section 1.3 shows it). acks=all waits for every in-sync replica")
    if str(config.get("enable.idempotence", False)).lower() not in ("true", "1"):
        return ("without enable.idempotence, a retry after a lost acknowledgement writes the message a second "
                "time (and retries can reorder a partition): set enable.idempotence=True")
    for key in ("retries", "message.send.max.retries"):
        if key in config and int(config[key]) == 0:
            return (f"{key}=0: a send that meets a leader change fails instead of being retried on the new leader "
                    "(idempotence makes retries safe; leave them on)")
    return None


def _leader_of_partition_0(topic: str, timeout_s: float = 30) -> int:
    """The broker leading ``topic``'s partition 0, once this client's metadata lists it with a leader: a new topic
    reaches each broker's metadata a moment after the controller has it, and this client may ask another broker
    than the one ``recreate_topic`` waited on (a KeyError in CI before this wait)."""
    admin = admin_client()
    deadline = time.monotonic() + timeout_s
    while True:
        partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
        if 0 in partitions and partitions[0].leader >= 0:
            return partitions[0].leader
        if time.monotonic() > deadline:
            raise LabError(f"Kafka lists no leader for partition 0 of {topic} after {timeout_s:.0f} s",
                           "run `iotlab lab status` and `iotlab lab up --nodes 3`")
        time.sleep(0.2)


def check_safe_producer_config(function: Callable, messages: int = 6_000) -> CheckResult:
    """Check 11.2: the settings read, then used for real: ``messages`` sent at 2,000/s while the leader of the
    check topic's partition 0 is killed; every message must be acknowledged and read back exactly once, in order."""
    name = "safe_producer_config"
    if is_skipped(function, ()):
        return skipped(name)
    try:
        config = dict(function())
    except Exception as error:
        return failed(name, f"raised {type(error).__name__}: {error_reason(error)}")
    rule = _config_rule(config)
    if rule:
        return failed(name, rule)
    try:
        kafka = producer(config)  # before anything is broken: librdkafka checks the settings here
    except Exception as error:  # a topic or broker setting, or a misspelt one: librdkafka refuses it here
        return failed(name, f"the producer refused these settings: {error_reason(error)}. Hint: only producer "
                            "settings belong here (min.insync.replicas and unclean.leader.election.enable are "
                            "topic and broker settings)")
    recreate_topic(CHECK_TOPIC, partitions=1)
    lab = NativeLab(nodes=3)
    leader = _leader_of_partition_0(CHECK_TOPIC)
    acknowledged: list[bytes] = []
    failures: list[str] = []

    def delivered(error, message) -> None:
        if error is None:
            acknowledged.append(message.value())
        else:
            failures.append(error.str())

    try:
        started = time.monotonic()
        for number in range(messages):
            kafka.produce(CHECK_TOPIC, value=f"message-{number:05d}".encode(), on_delivery=delivered)
            kafka.poll(0)
            if number == messages // 3:
                lab.kill("kafka", leader, say=QUIET)
            ahead = started + (number + 1) / 2_000 - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        left = kafka.flush(60)
    finally:
        lab.restart("kafka", leader, say=QUIET)
    if failures or left:
        return failed(name, f"{len(failures) + left} of {messages} messages were not acknowledged when broker "
                            f"{leader} died (first: {(failures or ['still queued'])[0]}): the producer must retry "
                            "on the new leader (keep retries and delivery.timeout.ms at their defaults)")
    stored = [message.value for message in read_topic(CHECK_TOPIC)]
    counts = Counter(stored)
    lost = [value for value in acknowledged if value not in counts]
    twice = [value for value, count in counts.items() if count > 1]
    if lost or twice or stored != sorted(stored):
        return failed(name, f"broker {leader} killed mid-run: {len(lost)} acknowledged messages lost, {len(twice)} "
                            f"written twice, {'out of' if stored != sorted(stored) else 'in'} order")
    return passed(name, f"{messages} messages acknowledged through the death of the partition's leader: all read "
                        "back once each, in order")


# ----------------------------------------------------------------------------- 1.3 acks=1 and an unclean leader

UNCLEAN_TOPIC, STRICT_TOPIC = "nb11.unclean", "nb11.strict"


@dataclass
class UncleanOutcome:
    """What section 1.3 measured."""

    acknowledged: int  # acks=1 sends acknowledged by broker 1 while it was the only replica in sync
    read_back: int  # of those, read back after the unclean election (and after broker 1 came back)
    refused_with_acks_all: int  # acks=all sends to a topic with min.insync.replicas=2, refused meanwhile
    refusal: str  # the error they got


def _partition_zero(topic: str) -> tuple[int, list[int]]:
    """(leader, in-sync replicas) of partition 0, from the metadata a fresh client reads (-1: no leader)."""
    admin = admin_client()
    partition = admin.list_topics(topic, timeout=10).topics[topic].partitions[0]
    return partition.leader, sorted(partition.isrs)


def _two_replica_topic(admin, name: str, min_insync: int) -> None:
    """``name`` afresh, one partition on brokers 1 and 2 only (1 leads), ``min.insync.replicas`` as given."""
    if name in admin.list_topics(timeout=10).topics:
        for future in admin.delete_topics([name], operation_timeout=30).values():
            future.result()
        _wait_for(lambda: name not in admin.list_topics(timeout=10).topics, 30)
    topic = NewTopic(name, num_partitions=1, replication_factor=-1, replica_assignment=[[1, 2]],
                     config={"min.insync.replicas": str(min_insync)})
    deadline = time.monotonic() + 30
    while True:
        try:
            for future in admin.create_topics([topic]).values():
                future.result()
            break
        except KafkaException as error:  # deletion is asynchronous: creation can race it for a moment
            if "TOPIC_ALREADY_EXISTS" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    _wait_for(lambda: name in admin.list_topics(timeout=10).topics and _partition_zero(name) == (1, [1, 2]), 30)


def _send(topic: str, config: dict[str, Any], count: int) -> tuple[int, list[str]]:
    """Send ``count`` messages; (acknowledged, the errors of the others)."""
    acknowledged, errors = 0, []

    def delivered(error, message) -> None:
        nonlocal acknowledged
        if error is None:
            acknowledged += 1
        else:
            errors.append(error.name())

    kafka = producer(config)
    for number in range(count):
        kafka.produce(topic, value=f"acknowledged-{number}".encode(), on_delivery=delivered)
    kafka.flush(30)
    return acknowledged, errors


def unclean_election_demo(count: int = 100, say: Callable[[str], None] = print) -> UncleanOutcome:
    """Section 1.3: acknowledged messages lost to an unclean leader election, and the same sends refused by
    acks=all with min.insync.replicas=2. Leaves every broker running."""
    lab = NativeLab(nodes=3)
    admin = admin_client()
    _two_replica_topic(admin, UNCLEAN_TOPIC, min_insync=1)
    _two_replica_topic(admin, STRICT_TOPIC, min_insync=2)
    try:
        lab.kill("kafka", 2, say=say)
        _wait_for(lambda: _partition_zero(UNCLEAN_TOPIC)[1] == [1] and _partition_zero(STRICT_TOPIC)[1] == [1], 60)
        acknowledged, _ = _send(UNCLEAN_TOPIC, {"acks": "1", "enable.idempotence": False}, count)
        # librdkafka retries NOT_ENOUGH_REPLICAS until the message times out: 5 s here instead of 5 minutes
        refused_ok, refusals = _send(STRICT_TOPIC, {"acks": "all", "message.timeout.ms": 5000}, count)
        lab.kill("kafka", 1, say=say)
        lab.restart("kafka", 2, say=say)  # controllers 2 and 3: a quorum again
        _wait_for(lambda: _partition_zero(UNCLEAN_TOPIC)[0] == -1, 60)
        admin = admin_client()
        admin.elect_leaders(ElectionType.UNCLEAN, [TopicPartition(UNCLEAN_TOPIC, 0)]).result()
        _wait_for(lambda: _partition_zero(UNCLEAN_TOPIC)[0] == 2, 60)
        lab.restart("kafka", 1, say=say)
        _wait_for(lambda: _partition_zero(UNCLEAN_TOPIC)[1] == [1, 2], 60)
        read_back = len(read_topic(UNCLEAN_TOPIC))
    finally:
        for node in (1, 2):
            if not lab.unit_pids(lab.unit("kafka", node)):
                lab.restart("kafka", node, say=say)
    reasons = Counter(refusals).most_common(1)
    return UncleanOutcome(acknowledged, read_back, count - refused_ok, reasons[0][0] if reasons else "none")


# ----------------------------------------------------------------------------- 11.3 read your writes

LEVELS = {"ONE": 1, "TWO": 2, "QUORUM": 2, "LOCAL_QUORUM": 2, "ALL": 3, "THREE": 3, "ANY": 0}


def read_your_writes_levels() -> tuple[str, str]:
    """Reference for 11.3: (write level, read level) for replication factor 3 with one node down: both succeed with
    two replicas alive, and every read meets the last write on at least one replica (2 + 2 > 3)."""
    return "QUORUM", "QUORUM"


def _level_name(level: Any) -> str:
    """A level as its name: "QUORUM" for "quorum", or for the driver's constant ConsistencyLevel.QUORUM (an int)."""
    if isinstance(level, int):
        return ConsistencyLevel.value_to_name.get(level, str(level))
    return str(level).upper()


def _levels_rule(write: str, read: str) -> Optional[str]:
    for level in (write, read):
        if level not in LEVELS:
            return f"{level!r} is not a consistency level here: choose among {', '.join(LEVELS)}"
    w, r = LEVELS[write], LEVELS[read]
    if w > REPLICATION_FACTOR - 1 or r > REPLICATION_FACTOR - 1:
        return (f"{write if w > 2 else read} needs {max(w, r)} replicas, and with one node down only 2 of 3 answer: "
                "the coordinator refuses (Unavailable) before it writes or reads anything")
    if w == 0:
        return "ANY: a write can be acknowledged as a hint alone, on no replica at all; no read can see it"
    if w + r <= REPLICATION_FACTOR:
        return (f"{write} writes and {read} reads: {w} + {r} = {w + r} replicas, not more than 3, so a read can be "
                "answered by replicas the write has not reached (the stale read of section 2.2)")
    return None


def check_read_your_writes_levels(function: Callable, rows: int = 50) -> CheckResult:
    """Check 11.3: the levels judged by the rule W + R > RF with both possible on two replicas; then used on the
    real nodes in the worst case one node down allows: rows written at W while node 3 is down (hints off, so it
    misses them), node 3 back and node 1 down, each row read at R through node 3 as coordinator."""
    name = "read_your_writes_levels"
    if is_skipped(function, ()):
        return skipped(name)
    try:
        write, read = (_level_name(level) for level in function())
    except Exception as error:
        return failed(name, f"expected (write level, read level), e.g. ('ONE', 'ALL'); got an error: "
                            f"{type(error).__name__}: {error_reason(error)}")
    rule = _levels_rule(write, read)
    if rule:
        return failed(name, rule)
    lab = NativeLab(nodes=3)
    session = cassandra_session()
    session.execute(f"CREATE KEYSPACE IF NOT EXISTS {CHECK_KEYSPACE} WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': 3}", timeout=60)
    session.execute(f"CREATE TABLE IF NOT EXISTS {CHECK_KEYSPACE}.kv (key int PRIMARY KEY, value text)", timeout=60)
    session.execute(f"TRUNCATE {CHECK_KEYSPACE}.kv", timeout=60)
    found = 0
    try:
        for node in (1, 2, 3):
            lab.nodetool("disablehandoff", node=node)
        lab.kill("cassandra", 3, say=QUIET)
        wait_until_seen(lab, 3, by=1, state="DN")
        wait_until_seen(lab, 3, by=2, state="DN")
        statement = SimpleStatement(f"INSERT INTO {CHECK_KEYSPACE}.kv (key, value) VALUES (%s, %s)",
                                    consistency_level=getattr(ConsistencyLevel, write))
        for key in range(rows):
            session.execute(statement, (key, f"written at {write}"))
        lab.restart("cassandra", 3, say=QUIET)
        lab.kill("cassandra", 1, say=QUIET)
        wait_until_seen(lab, 1, by=3, state="DN")  # else node 3 may still ask node 1, and time out
        with session_on_node(3) as on_three:
            query = SimpleStatement(f"SELECT value FROM {CHECK_KEYSPACE}.kv WHERE key = %s",
                                    consistency_level=getattr(ConsistencyLevel, read))
            found = sum(on_three.execute(query, (key,)).one() is not None for key in range(rows))
    except Exception as error:
        return failed(name, f"{write} writes / {read} reads on the real nodes failed: {type(error).__name__}: "
                            f"{error_reason(error)}")
    finally:
        session.cluster.shutdown()
        for node in (1, 3):
            if not lab.unit_pids(lab.unit("cassandra", node)):
                lab.restart("cassandra", node, say=QUIET)
        for node in (1, 2, 3):
            lab.nodetool("enablehandoff", node=node)
    if found != rows:
        return failed(name, f"{rows - found} of {rows} rows were not found by a {read} read after a {write} write")
    return passed(name, f"{write} writes, {read} reads: all {rows} rows read back through node 3, which had missed "
                        "them, with node 1 down")


def host_addresses(lab: NativeLab) -> dict[str, str]:
    """{host id: address} of the Cassandra nodes, from ``nodetool status``."""
    addresses = {}
    for line in lab.nodetool("status", node=1).splitlines():
        words = line.split()
        if len(words) > 2 and words[1].startswith("127.0.0."):
            addresses.update({word: words[1] for word in words if word.count("-") == 4})
    return addresses


def hint_targets(lab: NativeLab, node: int) -> list[str]:
    """The addresses node ``node`` keeps hints for: its hints directory holds a file per target node, named by the
    target's host id, until the hints are delivered. (``nodetool listpendinghints`` lists only files the node has
    finished writing, which happens when the target comes back.)"""
    addresses = host_addresses(lab)
    files = lab.cassandra_hints_dir(node).glob("*.hints")
    return sorted({addresses.get(path.name[:36], path.name[:36]) for path in files})


@dataclass
class StaleRead:
    """What section 2.2 read through node 3 at ONE: the row's value, or None when node 3's answer had no row."""

    key: int  # a key whose two replicas (replication factor 2) are nodes 2 and 3
    before_repair: Optional[str]  # node 3 the only live replica, after it missed the write
    repaired_by: Optional[str]  # the read at ALL (nodes 2 and 3) that found the difference and repaired node 3
    after_repair: Optional[str]  # node 3 the only live replica again, after that read


def wait_until_seen(lab: NativeLab, node: int, by: int, state: str, timeout_s: float = 90) -> None:
    """Until node ``by`` sees node ``node`` as ``state`` ("UN" up, "DN" down) in ``nodetool status``."""
    address = f"127.0.0.{node}"

    def seen() -> bool:
        return any(line.split()[:2] == [state, address] for line in lab.nodetool("status", node=by).splitlines()
                   if line.strip())

    if not _wait_for(seen, timeout_s):
        raise LabError(f"node {by} did not see node {node} as {state} within {timeout_s:.0f} s",
                       "`iotlab lab status`; `iotlab lab up` starts what is down")


def replicas_of(lab: NativeLab, keyspace: str, table: str, key: int) -> list[int]:
    """The nodes holding ``key``'s partition (``nodetool getendpoints``)."""
    text = lab.nodetool("getendpoints", keyspace, table, str(key), node=1)
    return sorted(int(line.strip().rsplit(".", 1)[1]) for line in text.splitlines() if line.strip())


def stale_read_demo(lab: NativeLab, session, keyspace: str, say: Callable[[str], None] = print) -> StaleRead:
    """Section 2.2, in a keyspace of replication factor 2 (``keyspace``, table ``kv``): hints off; node 3 misses a
    write; node 3 the only live replica reads at ONE (stale); a read at ALL repairs it; node 3 alone again reads
    the row. Leaves every node running and hints on."""
    key = next(key for key in range(1000) if replicas_of(lab, keyspace, "kv", key) == [2, 3])
    try:
        for node in (1, 2, 3):
            lab.nodetool("disablehandoff", node=node)
        lab.kill("cassandra", 3, say=say)
        wait_until_seen(lab, 3, by=2, state="DN")
        session.execute(SimpleStatement(f"INSERT INTO {keyspace}.kv (key, value) VALUES (%s, %s)",
                                        consistency_level=ConsistencyLevel.ONE), (key, "written while 3 was down"))
        lab.restart("cassandra", 3, say=say)
        with session_on_node(3) as on_three:
            def read(level: str) -> Optional[str]:
                row = on_three.execute(SimpleStatement(f"SELECT value FROM {keyspace}.kv WHERE key = %s",
                                                       consistency_level=getattr(ConsistencyLevel, level)),
                                       (key,)).one()
                return None if row is None else row.value

            lab.kill("cassandra", 2, say=say)
            wait_until_seen(lab, 2, by=3, state="DN")
            before = read("ONE")
            lab.restart("cassandra", 2, say=say)
            wait_until_seen(lab, 2, by=3, state="UN")
            repaired_by = read("ALL")
            lab.kill("cassandra", 2, say=say)
            wait_until_seen(lab, 2, by=3, state="DN")
            after = read("ONE")
        return StaleRead(key, before, repaired_by, after)
    finally:
        for node in (2, 3):
            if not lab.unit_pids(lab.unit("cassandra", node)):
                lab.restart("cassandra", node, say=say)
        for node in (1, 2, 3):
            lab.nodetool("enablehandoff", node=node)


# ----------------------------------------------------------------------------- 11.4 the recovery check

def recovery_check(actual: list[dict], expected: list[dict], key: Callable[[dict], tuple],
                   delivered: list[bytes]) -> dict[str, int]:
    """Reference for 11.4: the rows of a run through faults against the recomputation. ``actual``: the rows in
    Cassandra; ``expected``: the recomputation's; ``key``: a row's primary key; ``delivered``: the alert messages
    read (read_committed) from ``T.alerts``. {missing: expected rows not in Cassandra, different: rows in
    Cassandra with other values or none expected, duplicated: alert messages delivered more than once (each copy
    after the first)}."""
    have = {key(row): row for row in actual}
    want = {key(row): row for row in expected}
    missing = sum(1 for k in want if k not in have)
    different = sum(1 for k, row in have.items() if k not in want or not same_values(row, want[k]))
    duplicated = sum(count - 1 for count in Counter(delivered).values())
    return {"missing": missing, "different": different, "duplicated": duplicated}


def _window(device: str, minute: int, avg: float = 21.0) -> dict:
    start = f"2025-11-05T12:{minute:02d}:00Z"
    return {"device_id": device, "window_start": start, "window_end": f"2025-11-05T12:{minute + 5:02d}:00Z",
            "count": 300, "avg_temp": avg, "min_temp": 19.5, "max_temp": 23.25, "avg_humidity": 45.5}


def _window_key(row: dict) -> tuple:
    return row["device_id"], row["window_start"]


RECOVERY_CASES = [  # (case, actual, expected, delivered): the expected answer is the reference's
    ("everything equal", [_window("d1", 0), _window("d2", 0)], [_window("d2", 0), _window("d1", 0)], [b"a", b"b"]),
    ("a window missing", [_window("d1", 0)], [_window("d1", 0), _window("d1", 5)], [b"a"]),
    ("a window missing and an extra one (the same count)", [_window("d1", 0), _window("d3", 0)],
     [_window("d1", 0), _window("d2", 0)], []),
    ("an average off by 0.5", [_window("d1", 0, 21.5)], [_window("d1", 0, 21.0)], []),
    ("an average off in its last bits (equal)", [_window("d1", 0, 0.1 + 0.2)], [_window("d1", 0, 0.3)], []),
    ("an alert delivered three times", [], [], [b"x", b"x", b"x", b"y"]),
    ("nothing written", [], [_window("d1", 0), _window("d1", 5), _window("d2", 0)], [b"a", b"a"]),
]


def check_recovery_check(function: Callable) -> CheckResult:
    """Check 11.4 on crafted runs, each with one thing wrong (or nothing)."""
    name = "recovery_check"
    if is_skipped(function, ([], [], _window_key, [])):
        return skipped(name)
    for case, actual, expected, delivered in RECOVERY_CASES:
        want = recovery_check(actual, expected, _window_key, delivered)
        try:
            got = function([dict(row) for row in actual], [dict(row) for row in expected], _window_key,
                           list(delivered))
        except Exception as error:
            return failed(name, f"case '{case}' raised {type(error).__name__}: {error_reason(error)}")
        if got != want:
            return failed(name, f"case '{case}': expected {want}, got {got!r}. Hint: match rows by their key "
                                "(not by position or by count); compare values with floats within 1e-6 "
                                "(same_values); count every copy of an alert after the first")
    return passed(name, f"all {len(RECOVERY_CASES)} crafted runs judged right")


# ----------------------------------------------------------------------------- 11.5 a recovery time from REST

def recovery_seconds(details: dict, exceptions: list[dict]) -> Optional[float]:
    """Reference for 11.5: from ``GET /jobs/<id>`` (``details``) and the entries of ``GET /jobs/<id>/exceptions``
    (``exceptions``): the seconds from the job's newest failure to the moment it last switched to RUNNING; None
    when it never failed."""
    if not exceptions:
        return None
    failed_at = max(entry["timestamp"] for entry in exceptions)
    return (details["timestamps"]["RUNNING"] - failed_at) / 1000


def _rest_payloads(created: int, running: int, failures: list[int]) -> tuple[dict, list[dict]]:
    details = {"jid": "0" * 32, "state": "RUNNING", "start-time": created, "duration": 600_000,
               "timestamps": {"INITIALIZING": created, "CREATED": created + 5, "RUNNING": running,
                              "RESTARTING": max(failures, default=0) + 1, "FAILED": 0, "CANCELED": 0}}
    exceptions = [{"exceptionName": "org.apache.flink.util.FlinkException", "timestamp": at,
                   "taskName": "cassandra writer (1/1)", "stacktrace": "..."} for at in failures]
    return details, exceptions


REST_CASES = [  # (case, details, exceptions)
    ("one failure", *_rest_payloads(1_700_000_000_000, 1_700_000_130_500, [1_700_000_100_000])),
    ("two failures, the newest last", *_rest_payloads(1_700_000_000_000, 1_700_000_260_250,
                                                      [1_700_000_100_000, 1_700_000_250_000])),
    ("two failures, the newest first", *_rest_payloads(1_700_000_000_000, 1_700_000_261_000,
                                                       [1_700_000_250_000, 1_700_000_100_000])),
    ("never failed", *_rest_payloads(1_700_000_000_000, 1_700_000_000_900, [])),
]


def check_recovery_seconds(function: Callable, real: Optional[tuple[dict, list[dict]]] = None) -> CheckResult:
    """Check 11.5 on crafted REST answers, then on ``real`` ones (a job of this notebook's drill), if given."""
    name = "recovery_seconds"
    details, exceptions = REST_CASES[0][1:]
    if is_skipped(function, (details, exceptions)):
        return skipped(name)
    cases = list(REST_CASES) + ([("the drill's TaskManager kill, as Flink reported it", *real)] if real else [])
    for case, details, exceptions in cases:
        want = recovery_seconds(details, exceptions)
        try:
            got = function(details, [dict(entry) for entry in exceptions])
        except Exception as error:
            return failed(name, f"case '{case}' raised {type(error).__name__}: {error_reason(error)}")
        if (got is None) != (want is None) or (want is not None and not math.isclose(got, want, abs_tol=1e-6)):
            return failed(name, f"case '{case}': expected {want!r} s, got {got!r}. Hint: the newest failure is the "
                                "largest exception timestamp (entries are not sorted for you); timestamps are in "
                                "milliseconds; details['timestamps']['RUNNING'] is when the job last switched to "
                                "RUNNING; no exception: None")
    return passed(name, f"all {len(cases)} cases right")
