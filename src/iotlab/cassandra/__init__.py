"""Cassandra, the course's store: sessions, schema, writes and reads (cassandra-driver).

Notebook 00 writes a first table here; the Cassandra chapter (notebooks 07-08) fills this room.
"""

from iotlab.cassandra.reads import query_frame
from iotlab.cassandra.session import build_cluster, cassandra_session, ensure_keyspace
from iotlab.cassandra.writes import insert_rows

__all__ = ["build_cluster", "cassandra_session", "ensure_keyspace", "insert_rows", "query_frame"]
