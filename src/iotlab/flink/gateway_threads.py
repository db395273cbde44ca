"""Give every py4j gateway thread the per-thread set-up that PyFlink assumes all of them have.

PyFlink drives its JVM through py4j. Each py4j connection is served by a Java thread of its own, and the
Python side opens a new connection whenever no idle one is in its pool: two Python threads calling at once,
or a Java call that calls back into Python, which calls Java again. Which pooled connection (so which Java
thread) serves a call is therefore a matter of chance. Two things live in Java thread-locals, set on
whichever thread happened to run the call that set them:

1. Calcite's metadata handler provider (``RelMetadataQueryBase.THREAD_PROVIDERS``). Flink's planner sets it
   on the thread that builds its cluster; planning a query on another thread then fails with
   ``NullPointerException: metadataHandlerProvider``. This is FLINK-36298, fixed upstream by apache/flink
   pull request 28738 (July 2026) and in no PyFlink release the course can use.
2. The context class loader. PyFlink adds jars (``pipeline.jars``, the Kafka connector of a remote job) by
   giving the *current* Java thread a class loader that has them; on another thread, Python cannot find
   ``org.apache.flink.connector.kafka...`` ("Could not found the Java class").

Both failures come and go with the thread a call lands on, so they fail tests by chance. The course's
environment factories call :func:`prepare_gateway_threads` once they have built an environment: it copies the
set-up of the thread that built it to every idle pooled connection's thread, and gives every connection
opened later the same set-up before its first call. Nothing is retried and no error is hidden.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Union

from py4j.java_gateway import GatewayClient, GatewayConnection, JavaObject
from py4j.protocol import (
    CALL_COMMAND_NAME,
    END_COMMAND_PART,
    MEMORY_COMMAND_NAME,
    MEMORY_DEL_SUBCOMMAND_NAME,
    REFERENCE_TYPE,
    SUCCESS,
    get_command_part,
    get_return_value,
)
from pyflink.java_gateway import get_gateway

# The classes behind FLINK-36298. Flink's planner lives in a class loader of its own (flink-table-planner-loader),
# so these are looked up through the planner's class loader, not by name from Python.
CALCITE_METADATA_QUERY = "org.apache.calcite.rel.metadata.RelMetadataQueryBase"
CALCITE_JANINO_PROVIDER = "org.apache.calcite.rel.metadata.JaninoRelMetadataProvider"
FLINK_METADATA_PROVIDER = "org.apache.flink.table.planner.plan.metadata.FlinkDefaultRelMetadataProvider"

_lock = threading.Lock()


class _ThreadSetUp:
    """What every gateway thread gets: Calcite's metadata provider and the course's context class loader."""

    def __init__(self) -> None:
        self.thread_providers: Optional[JavaObject] = None  # the ThreadLocal RelMetadataQueryBase.THREAD_PROVIDERS
        self.metadata_provider: Optional[JavaObject] = None  # what Flink's planner puts in it
        self.class_loader: Optional[JavaObject] = None

    def apply(self, client: GatewayClient, connection: GatewayConnection) -> None:
        """Set this connection's Java thread up, with calls sent through that connection only."""
        if self.thread_providers is not None:
            _call_on(connection, client, self.thread_providers, "set", self.metadata_provider)
        if self.class_loader is not None:
            with _current_thread(connection, client) as thread_id:
                _call_on(connection, client, thread_id, "setContextClassLoader", self.class_loader)


_set_up = _ThreadSetUp()


def prepare_gateway_threads(tables: Any = None) -> None:
    """Make every gateway thread, idle now or opened later, set up like the one that just built an environment.

    ``tables`` is a (Stream)TableEnvironment: from its planner comes Calcite's metadata provider. Call this
    right after building an environment, from the thread that built it.
    """
    client = get_gateway()._gateway_client
    with _lock:
        _install_on_new_connections(client)
        if tables is not None and _set_up.thread_providers is None:
            _set_up.thread_providers, _set_up.metadata_provider = _calcite_metadata_provider(tables)
        idle = _take_idle_connections(client)
        try:
            if idle:
                # The pool hands out its newest connection first: the one the calls that built the environment
                # went through, so its thread holds the class loader PyFlink just set up.
                with _current_thread(idle[-1], client) as thread_id:
                    _set_up.class_loader = _call_on(idle[-1], client, thread_id, "getContextClassLoader")
            for connection in idle:
                _set_up.apply(client, connection)
        finally:
            client.deque.extend(idle)


def _calcite_metadata_provider(tables: Any) -> tuple[JavaObject, JavaObject]:
    """Calcite's THREAD_PROVIDERS thread-local and the provider Flink's planner puts in it (RelOptCluster)."""
    jvm = get_gateway().jvm
    planner_loader = tables._j_tenv.getPlanner().getClass().getClassLoader()

    def planner_class(name: str) -> JavaObject:
        return jvm.java.lang.Class.forName(name, True, planner_loader)

    thread_providers = planner_class(CALCITE_METADATA_QUERY).getField("THREAD_PROVIDERS").get(None)
    flink_provider = planner_class(FLINK_METADATA_PROVIDER).getMethod("INSTANCE", None).invoke(None, None)
    provider_interface = planner_class("org.apache.calcite.rel.metadata.RelMetadataProvider")
    of = planner_class(CALCITE_JANINO_PROVIDER).getMethod("of", _java_array(jvm.java.lang.Class, [provider_interface]))
    return thread_providers, of.invoke(None, _java_array(jvm.java.lang.Object, [flink_provider]))


def _install_on_new_connections(client: GatewayClient) -> None:
    """Wrap the client's connection factory (once) so that each new connection is set up before it is used."""
    if getattr(client, "_iotlab_prepares_threads", False):
        return
    open_connection = client._create_connection

    def open_prepared_connection() -> GatewayConnection:
        connection = open_connection()
        try:
            _set_up.apply(client, connection)
        except Exception:
            connection.close()
            raise
        return connection

    client._create_connection = open_prepared_connection
    client._iotlab_prepares_threads = True


def _take_idle_connections(client: GatewayClient) -> list[GatewayConnection]:
    """Empty the pool, oldest first. A call from another thread meanwhile opens a new, prepared connection."""
    taken = []
    while True:
        try:
            taken.append(client.deque.popleft())
        except IndexError:
            return taken


def _call_on(connection: GatewayConnection, client: GatewayClient, target: Union[JavaObject, str], method: str,
             *arguments: Any) -> Any:
    """Call a Java method through one given connection, so it runs on that connection's Java thread.

    The same py4j command a ``JavaMember`` sends (``target`` is an object or ``"z:"`` and a class name for a
    static method), but not through the pool, which would pick any connection.
    """
    target_id = target if isinstance(target, str) else target._target_id
    encoded = "".join(get_command_part(argument, client.gateway_property.pool) for argument in arguments)
    answer = connection.send_command(CALL_COMMAND_NAME + target_id + "\n" + method + "\n" + encoded + END_COMMAND_PART)
    return get_return_value(answer, client, target_id, method)


@contextmanager
def _current_thread(connection: GatewayConnection, client: GatewayClient) -> Iterator[str]:
    """The py4j id of the Java thread that serves ``connection``, released on that connection afterwards.

    A raw id and not a ``JavaObject``: py4j releases a collected ``JavaObject`` through the pool, which may
    open a new connection, which this module prepares with this very function, and so on without end.
    """
    answer = connection.send_command(CALL_COMMAND_NAME + "z:java.lang.Thread\ncurrentThread\n" + END_COMMAND_PART)
    if not answer.startswith(SUCCESS + REFERENCE_TYPE):
        get_return_value(answer, client, "z:java.lang.Thread", "currentThread")  # raises with Java's error
        raise RuntimeError(f"py4j answered {answer!r} to Thread.currentThread()")
    thread_id = answer[2:]
    try:
        yield thread_id
    finally:
        connection.send_command(MEMORY_COMMAND_NAME + MEMORY_DEL_SUBCOMMAND_NAME + thread_id + "\n" + END_COMMAND_PART)


def _java_array(java_class: Any, items: list) -> Any:
    array = get_gateway().new_array(java_class, len(items))
    for index, item in enumerate(items):
        array[index] = item
    return array
