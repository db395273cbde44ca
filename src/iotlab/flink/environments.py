"""PyFlink environment factories with the course's defaults.

Two things every PyFlink program in the course needs, and that are easy to forget:
- ``python.executable`` set to this interpreter: Flink otherwise starts ``python`` from PATH for its
  Python workers, which in a virtualenv fails with "No module named pyflink".
- the Kafka connector jar on ``pipeline.jars`` when the job runs in-process (a local mini cluster).
  The lab's session cluster already has the connector in its lib folder.
- the jar of the course's Java SQL functions (``iotlab.flink.functions``) on ``pipeline.jars``, always: it
  travels with every job, to the mini cluster or to the session cluster.

``remote=True`` submits to the lab's session cluster (watch it at http://127.0.0.1:8081).
"""

from __future__ import annotations

import atexit
import logging
from typing import Optional
from urllib.parse import urlparse

from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.java_gateway import get_gateway
from pyflink.table import EnvironmentSettings, StreamTableEnvironment, TableEnvironment
from pyflink.util.java_utils import add_jars_to_context_class_loader

from iotlab.core.errors import ConnectorMissing
from iotlab.core.paths import state_dir
from iotlab.core.processes import end_children_at_exit
from iotlab.core.settings import Settings, load_settings
from iotlab.flink.functions import functions_jar
from iotlab.flink.gateway_jvm import start_gateway_jvm
from iotlab.flink.gateway_threads import prepare_gateway_threads
from iotlab.flink.worker_threads import quiet_worker_hang_ups

_gateway_ends_at_exit = False


def end_gateway_at_exit() -> None:
    """When this process exits, end the Java gateway and the Python workers it started (iotlab.core.processes).
    Logging is switched off first: once the gateway is gone, py4j's finalizers and threads still polling a job
    would log a traceback for every call that finds no gateway, and nothing is lost by then."""
    global _gateway_ends_at_exit
    if _gateway_ends_at_exit:
        return
    _gateway_ends_at_exit = True
    end_children_at_exit()
    atexit.register(logging.disable, logging.CRITICAL)  # runs first: last registered

# Where an in-process (mini cluster) job's JobManager and TaskManager bind and advertise themselves.
LOOPBACK_ONLY = {
    "jobmanager.bind-host": "127.0.0.1",
    "jobmanager.rpc.address": "127.0.0.1",
    "taskmanager.bind-host": "127.0.0.1",
    "taskmanager.host": "127.0.0.1",
    "rest.bind-address": "127.0.0.1",
    "rest.address": "127.0.0.1",
}


def flink_configuration(
    settings: Optional[Settings] = None, remote: bool = False, checkpoint_interval_ms: int = 10_000,
    options: Optional[dict[str, str]] = None, kafka: bool = True,
) -> Configuration:
    """The Flink configuration shared by Table and DataStream environments.

    ``options`` are extra Flink settings applied last, e.g. ``{"execution.savepoint.path": ...}`` to
    resume from a savepoint, or a restart strategy. ``kafka=False`` leaves the Kafka connector out of an
    in-process job: a job graph fed from a Python collection (a unit test) needs no lab.
    """
    settings = settings or load_settings()
    # Configuration() starts the Java gateway on first use; this process ends it, and the Python workers it
    # starts, when it exits: no worker outlives a command or a notebook kernel.
    end_gateway_at_exit()
    start_gateway_jvm()  # with the course's JVM options (iotlab.flink.gateway_jvm)
    config = Configuration()
    config.set_string("python.executable", settings.python_executable)
    config.set_string("python.client.executable", settings.python_executable)
    # One Python worker process per Python operator. By default the Python operators of a slot share one worker
    # (it uses the slot's managed memory), and it unpickles their functions on parallel threads: two threads
    # importing the same packages from different ends can deadlock in Python's import locks, and the job fails
    # with "KeyError: 'iotlab.core'" (the pipeline's writer and its silence confirmation, in notebook 09).
    config.set_string("python.fn-execution.memory.managed", "false")
    config.set_string("parallelism.default", "1")
    # Times in SQL (DATE_FORMAT, UNIX_TIMESTAMP, TIMESTAMP_LTZ shown as text) are UTC, as in the data contract.
    config.set_string("table.local-time-zone", "UTC")
    # Checkpoints matter only to unbounded jobs; a bounded job finishes before the first one.
    config.set_string("execution.checkpointing.interval", f"{checkpoint_interval_ms} ms")
    jars = settings.connector_jars()
    shipped = [functions_jar()]
    if remote:
        rest = urlparse(settings.flink_rest_url)
        config.set_string("execution.target", "remote")
        config.set_string("rest.address", rest.hostname or "127.0.0.1")
        config.set_string("rest.port", str(rest.port or 8081))
        # The cluster has the connector in its lib folder. This client needs its classes too, to build the
        # job graph (the Kafka table factory, KafkaSource), but need not upload the jar with every job.
        if jars:
            add_jars_to_context_class_loader([jar.as_uri() for jar in jars])
    elif kafka:
        if not jars:
            raise ConnectorMissing("the Flink Kafka connector jar is not resolved yet",
                                   "run `iotlab lab up` (or `make lab`) first")
        shipped = jars + shipped
    config.set_string("pipeline.jars", ";".join(jar.as_uri() for jar in shipped))
    if not remote:
        # Its Python workers are threads of this process, and one of them ends with a harmless stack trace when
        # the job does (iotlab.flink.worker_threads).
        quiet_worker_hang_ups()
        # The in-process mini cluster listens on loopback only, like the lab's services. (PyFlink's Python
        # workers still open a few gRPC servers on all interfaces, with no setting: see the README.)
        for key, value in LOOPBACK_ONLY.items():
            config.set_string(key, value)
        # The in-process mini cluster gets 128 MB of managed memory by default: batch sorts and joins
        # over a million readings would spill to disk.
        config.set_string("taskmanager.memory.managed.size", "512m")
        # The Kafka source's admin-client thread may still log after a bounded job has finished and closed its
        # user classloader; Flink's leak check then prints a stack trace into the notebook's output. A notebook's
        # short-lived in-process cluster loses nothing by skipping that check.
        config.set_string("classloader.check-leaked-classloader", "false")
        # Without a checkpoint folder, checkpoints go to the JobManager's memory, which refuses state over 5 MB:
        # the pipeline's OVER aggregates hold every reading until the watermark passes it, more than that.
        config.set_string("execution.checkpointing.dir", (state_dir() / "flink" / "local-checkpoints").as_uri())
    # With checkpointing on, Flink's default restart strategy retries a failing job forever; a course job
    # that fails should fail visibly, after a few quick attempts.
    config.set_string("restart-strategy.type", "fixed-delay")
    config.set_string("restart-strategy.fixed-delay.attempts", "2")
    config.set_string("restart-strategy.fixed-delay.delay", "1 s")
    for key, value in (options or {}).items():
        config.set_string(key, value)
    return config


def table_environment(
    batch: bool = True, remote: bool = False, settings: Optional[Settings] = None, kafka: bool = True
) -> TableEnvironment:
    """A Table API environment: batch mode for bounded exercises, streaming for the live pipeline."""
    builder = EnvironmentSettings.new_instance()
    builder = builder.in_batch_mode() if batch else builder.in_streaming_mode()
    builder = builder.with_configuration(flink_configuration(settings, remote=remote, kafka=kafka))
    tables = TableEnvironment.create(builder.build())
    prepare_gateway_threads(tables)  # planning on any py4j thread (FLINK-36298): see iotlab.flink.gateway_threads
    return tables


def stream_table_environment(env: StreamExecutionEnvironment) -> StreamTableEnvironment:
    """A Table API environment over a DataStream environment (SQL and DataStream in one job)."""
    tables = StreamTableEnvironment.create(env)
    prepare_gateway_threads(tables)  # planning on any py4j thread (FLINK-36298): see iotlab.flink.gateway_threads
    return tables


def stream_environment(
    remote: bool = False, settings: Optional[Settings] = None, checkpoint_interval_ms: int = 10_000,
    options: Optional[dict[str, str]] = None, kafka: bool = True,
) -> StreamExecutionEnvironment:
    """A DataStream API environment with the course's configuration (plus ``options`` and ``kafka``, see above)."""
    configuration = flink_configuration(settings, remote=remote, checkpoint_interval_ms=checkpoint_interval_ms,
                                        options=options, kafka=kafka)
    if remote:
        # get_execution_environment() always builds a local environment (it forces execution.target to
        # "local"); the plain Java constructor honours execution.target=remote and submits to the cluster.
        java_environment_class = get_gateway().jvm.org.apache.flink.streaming.api.environment.StreamExecutionEnvironment
        env = StreamExecutionEnvironment(java_environment_class(configuration._j_configuration))
    else:
        env = StreamExecutionEnvironment.get_execution_environment(configuration)
    prepare_gateway_threads()  # the jars' class loader on every py4j thread: see iotlab.flink.gateway_threads
    return env
