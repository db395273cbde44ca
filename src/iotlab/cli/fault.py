"""`iotlab fault ...`: break a part of the running lab on purpose, to watch Kafka, Cassandra and Flink recover.

On the three-node lab (`iotlab lab up --nodes 3`) a node number says which broker or Cassandra node; on the
one-node lab it may be left out. `iotlab lab up` (or `iotlab fault restart`) undoes any fault.
"""

from __future__ import annotations

from typing import Optional

import click

from iotlab.cli.errors import fail_cleanly
from iotlab.lab import RUNTIMES, get_runtime
from iotlab.lab.runtime import SERVICES

TARGETS = ("taskmanager", "jobmanager", "broker", "cassandra")
SERVICE_OF_TARGET = {"broker": "kafka", "cassandra": "cassandra"}


@click.group()
def fault() -> None:
    """Inject faults into the running lab (notebooks 09 and 11)."""


runtime_option = click.option("--runtime", type=click.Choice(RUNTIMES), default="native", show_default=True,
                              help="native: the lab's processes. docker: its containers (through the Docker SDK).")
node_argument = click.argument("node", type=click.IntRange(min=1, max=3), required=False)


@fault.command("kill")
@click.argument("target", type=click.Choice(TARGETS))
@node_argument
@runtime_option
@fail_cleanly
def kill(target: str, node: Optional[int], runtime: str) -> None:
    """Kill TARGET with SIGKILL: no shutdown, no goodbye.

    \b
    taskmanager     Flink's TaskManager, started again at once as a supervisor would; running jobs restart
                    from their last completed checkpoint.
    jobmanager      Flink's JobManager, started again at once; without HA the new one knows no job, so the
                    course's pipelines that ran are resumed from their newest retained checkpoint.
    broker N        Kafka node N; it stays down: partitions it led elect new leaders among the in-sync replicas.
    cassandra N     Cassandra node N; it stays down: requests at ONE and QUORUM go on, ALL fails.
    """
    lab = get_runtime(runtime)
    if target == "taskmanager":
        lab.kill_taskmanager(say=click.echo)
    elif target == "jobmanager":
        from iotlab.faults import kill_jobmanager_and_resume

        kill_jobmanager_and_resume(lab, say=click.echo)
    else:
        lab.kill(SERVICE_OF_TARGET[target], node, say=click.echo)


@fault.command("pause")
@click.argument("service", type=click.Choice(SERVICES))
@node_argument
@click.option("--for", "seconds", type=click.FloatRange(min=1, max=3600), required=True, metavar="SECONDS",
              help="How long the service stays frozen.")
@runtime_option
@fail_cleanly
def pause(service: str, node: Optional[int], seconds: float, runtime: str) -> None:
    """Freeze SERVICE (or its node NODE) for SECONDS (SIGSTOP, then SIGCONT): a hung node, whose clients wait and
    time out. Without NODE on the three-node lab, every node of SERVICE freezes: an outage.

    The command returns once it answers again."""
    get_runtime(runtime).pause(service, seconds, say=click.echo, node=node)


@fault.command("restart")
@click.argument("service", type=click.Choice(SERVICES))
@node_argument
@runtime_option
@fail_cleanly
def restart(service: str, node: Optional[int], runtime: str) -> None:
    """Stop SERVICE (or its node NODE) cleanly if it runs, start it again, and wait until it works."""
    get_runtime(runtime).restart(service, node, say=click.echo)
