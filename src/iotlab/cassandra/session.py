"""Cassandra sessions (cassandra-driver) for the local node, the docker node or DataStax Astra DB.

Open a session once per process and reuse it; close it with ``session.cluster.shutdown()``, or let
``with closing_session() as session:`` close it for a piece of work that opens its own.

The driver's event loop: Python 3.12 removed ``asyncore``, the driver's old fallback, so the course asks
for libev (bundled in the driver's Linux wheels since 3.30) and uses the asyncio reactor where libev
cannot load.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator, Optional

from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable, Session
from cassandra.policies import RoundRobinPolicy, WhiteListRoundRobinPolicy

from iotlab.core.errors import CassandraUnavailable
from iotlab.core.settings import Settings, load_settings
from iotlab.core.topology import lab_replication_factor, node_host


def connection_class() -> type:
    """libev when it loads, else the driver's asyncio reactor (both work on Python 3.12)."""
    try:
        from cassandra.io.libevreactor import LibevConnection

        return LibevConnection
    except ImportError:  # no compiled libev extension on this platform
        from cassandra.io.asyncioreactor import AsyncioConnection

        return AsyncioConnection


COURSE_CONSISTENCY = ConsistencyLevel.LOCAL_QUORUM  # writes and the reads that check them


def astra_options(settings: Settings) -> dict:
    """The driver's options for DataStax Astra DB: the secure connect bundle (the zip Astra's console gives: the
    database's address, its certificates), which replaces contact points and port. The credentials go with it as
    a ``PlainTextAuthProvider``: the username is the literal word ``token``, the password the ``AstraCS:...``
    token (https://docs.datastax.com/en/astra-db-serverless/drivers/python-driver.html)."""
    if settings.astra_bundle is None:
        raise ValueError("no Astra bundle in these settings (IOTLAB_ASTRA_BUNDLE)")
    return {"cloud": {"secure_connect_bundle": str(settings.astra_bundle)}}


def build_cluster(settings: Settings, only_host: Optional[str] = None) -> Cluster:
    """A driver Cluster for the configured node(s) or Astra bundle (not connected yet); with ``only_host``, one
    that sends every request to that node as its coordinator (and knows no other)."""
    auth = None
    if settings.cassandra_username:
        auth = PlainTextAuthProvider(settings.cassandra_username, settings.cassandra_password or "")
    if settings.astra_bundle:
        return Cluster(**astra_options(settings), auth_provider=auth, connection_class=connection_class())
    policy = WhiteListRoundRobinPolicy([only_host]) if only_host else RoundRobinPolicy()
    return Cluster(
        contact_points=[only_host] if only_host else list(settings.cassandra_hosts),
        port=settings.cassandra_port,
        auth_provider=auth,
        # One data centre: plain round robin (the driver warns when no policy is given). Every request is at
        # LOCAL_QUORUM unless it says otherwise: a majority of the replicas in this data centre must answer. On the
        # one-node lab (replication factor 1) that is the one replica; with replication factor 3 it is two of
        # three, so a write and a later read at LOCAL_QUORUM always share a replica (read-your-writes) while one
        # node is down. The driver's own default, LOCAL_ONE, gives neither guarantee.
        execution_profiles={EXEC_PROFILE_DEFAULT: ExecutionProfile(load_balancing_policy=policy,
                                                                   consistency_level=COURSE_CONSISTENCY)},
        # v4, not v5: the driver frames v5 with checksums computed in Python, measured at ~13% more client
        # CPU per request on the lab's machine; the course uses nothing v5 adds.
        protocol_version=4,
        connect_timeout=5,
        connection_class=connection_class(),
    )


def cassandra_session(
    settings: Optional[Settings] = None, keyspace: Optional[str] = None, wait_s: float = 60.0
) -> Session:
    """Connect, retrying while the node starts (clients get NoHostAvailable until CQL answers).

    Close it with ``session.cluster.shutdown()`` when done.
    """
    settings = settings or load_settings()
    deadline = time.monotonic() + wait_s
    while True:
        cluster = build_cluster(settings)
        try:
            return cluster.connect(keyspace)
        except NoHostAvailable as error:
            cluster.shutdown()
            if time.monotonic() > deadline:
                where = ",".join(settings.cassandra_hosts) + f":{settings.cassandra_port}"
                raise CassandraUnavailable(
                    f"Cassandra at {where} did not answer within {wait_s:.0f} s ({error})",
                    "start the lab with `iotlab lab up` or check `iotlab lab logs cassandra`",
                ) from None
            time.sleep(1.0)


@contextmanager
def closing_session(
    settings: Optional[Settings] = None, keyspace: Optional[str] = None, wait_s: float = 60.0
) -> Iterator[Session]:
    """A session for one piece of work: ``with closing_session() as session: ...`` shuts its cluster down at
    the end, however the block ends (the driver's threads and connections would otherwise outlive it)."""
    session = cassandra_session(settings, keyspace, wait_s)
    try:
        yield session
    finally:
        session.cluster.shutdown()


@contextmanager
def session_on_node(node: int, settings: Optional[Settings] = None) -> Iterator[Session]:
    """A session whose every request goes to node ``node`` of the three-node lab (127.0.0.N) as coordinator: how a
    lesson makes one replica answer a read at ONE. Closed at the end of the ``with`` block."""
    cluster = build_cluster(settings or load_settings(), only_host=node_host(node))
    session = cluster.connect()
    try:
        yield session
    finally:
        cluster.shutdown()


def ensure_keyspace(session: Session, keyspace: str, replication_factor: Optional[int] = None) -> None:
    """Create the keyspace if it is missing, with SimpleStrategy (the lab is one data centre) and, unless told
    otherwise, one replica per node of the lab that runs now, up to three (``iotlab.core.topology``)."""
    if replication_factor is None:
        replication_factor = lab_replication_factor()
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': {replication_factor}}}"
    )
