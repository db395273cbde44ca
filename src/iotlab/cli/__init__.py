"""The ``iotlab`` command line, one module per command group:

| module | commands |
|---|---|
| ``lab`` | ``iotlab lab up/down/status/reset/logs``, ``iotlab doctor`` |
| ``data`` | ``iotlab simulate``, ``iotlab replay`` |
| ``jobs`` | ``iotlab aggregate`` |
| ``course`` | ``iotlab course build``, ``iotlab progress`` |
| ``store`` | ``iotlab store create/export/reset`` (the Cassandra tables) |
| ``pipeline`` | ``iotlab pipeline run/start/status/stop`` (Kafka → Flink → Cassandra) |
| ``fault`` | ``iotlab fault kill taskmanager`` |
| ``anomalies`` | ``iotlab detect``, ``iotlab evaluate`` |
| ``bench`` | ``iotlab bench lab/aggregate/cassandra`` |
| ``deploy`` | ``iotlab deploy render/validate`` (the Kubernetes manifests) |

Every failure a user can fix ends in one line that says what is wrong and how to fix it, and a
non-zero exit code (``errors``). Run ``iotlab --help`` or ``iotlab COMMAND --help``.
"""

from __future__ import annotations

import click

from iotlab.cli.anomalies import detect, evaluate
from iotlab.cli.bench import bench
from iotlab.cli.course import course, progress
from iotlab.cli.data import replay, simulate
from iotlab.cli.deploy import deploy
from iotlab.cli.errors import exit_cleanly_on_signals
from iotlab.cli.fault import fault
from iotlab.cli.jobs import aggregate
from iotlab.cli.lab import doctor, lab
from iotlab.cli.pipeline import pipeline
from iotlab.cli.store import store


@click.group()
@click.version_option(package_name="iotlab")
def main() -> None:
    """IoT Streaming Lab: Kafka, Flink and Cassandra on your machine."""
    exit_cleanly_on_signals()


for command in (lab, doctor, simulate, replay, aggregate, pipeline, detect, evaluate, store, fault, course, bench,
                deploy, progress):
    main.add_command(command)

if __name__ == "__main__":
    main()
