"""PyFlink environment factories with the course's defaults.

Two things every PyFlink program in the course needs, and that are easy to forget:
- ``python.executable`` set to this interpreter: Flink otherwise starts ``python`` from PATH for its
  Python workers, which in a virtualenv fails with "No module named pyflink".
- the Kafka connector jar on ``pipeline.jars`` when the job runs in-process (a local mini cluster).
  The lab's session cluster already has the connector in its lib folder.

``remote=True`` submits to the lab's session cluster (watch it at http://127.0.0.1:8081).
"""

from __future__ import annotations

from typing import Optional
from urllib.parse import urlparse

from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import EnvironmentSettings, TableEnvironment

from iotlab.config import Settings, load_settings


class ConnectorMissing(RuntimeError):
    """The Kafka connector jar has not been resolved yet."""


def flink_configuration(
    settings: Optional[Settings] = None, remote: bool = False, checkpoint_interval_ms: int = 10_000
) -> Configuration:
    """The Flink configuration shared by Table and DataStream environments."""
    settings = settings or load_settings()
    config = Configuration()
    config.set_string("python.executable", settings.python_executable)
    config.set_string("python.client.executable", settings.python_executable)
    config.set_string("parallelism.default", "1")
    # Checkpoints matter only to unbounded jobs; a bounded job finishes before the first one.
    config.set_string("execution.checkpointing.interval", f"{checkpoint_interval_ms} ms")
    if remote:
        rest = urlparse(settings.flink_rest_url)
        config.set_string("execution.target", "remote")
        config.set_string("rest.address", rest.hostname or "127.0.0.1")
        config.set_string("rest.port", str(rest.port or 8081))
    else:
        jars = settings.connector_jars()
        if not jars:
            raise ConnectorMissing(
                "the Flink Kafka connector jar is not resolved yet: run `iotlab lab up` (or `make lab`) first"
            )
        config.set_string("pipeline.jars", ";".join(jar.as_uri() for jar in jars))
        # The in-process mini cluster gets 128 MB of managed memory by default: batch sorts and joins
        # over a million readings would spill to disk.
        config.set_string("taskmanager.memory.managed.size", "512m")
    return config


def table_environment(
    batch: bool = True, remote: bool = False, settings: Optional[Settings] = None
) -> TableEnvironment:
    """A Table API environment: batch mode for bounded exercises, streaming for the live pipeline."""
    builder = EnvironmentSettings.new_instance()
    builder = builder.in_batch_mode() if batch else builder.in_streaming_mode()
    builder = builder.with_configuration(flink_configuration(settings, remote=remote))
    return TableEnvironment.create(builder.build())


def stream_environment(remote: bool = False, settings: Optional[Settings] = None) -> StreamExecutionEnvironment:
    """A DataStream API environment with the course's configuration."""
    return StreamExecutionEnvironment.get_execution_environment(flink_configuration(settings, remote=remote))
