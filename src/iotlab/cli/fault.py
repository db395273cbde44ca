"""`iotlab fault ...`: break a part of the running lab on purpose, to watch the pipeline recover."""

from __future__ import annotations

import click

from iotlab.cli.errors import fail_cleanly
from iotlab.lab import RUNTIMES, get_runtime

FAULTS = ("taskmanager",)


@click.group()
def fault() -> None:
    """Inject faults into the running lab (notebook 09, the fault-tolerance chapter)."""


@fault.command("kill")
@click.argument("target", type=click.Choice(FAULTS))
@click.option("--runtime", type=click.Choice(RUNTIMES), default="native", show_default=True,
              help="native: the lab's processes. docker: its containers (through the Docker SDK).")
@fail_cleanly
def kill(target: str, runtime: str) -> None:
    """Kill TARGET with SIGKILL and start a fresh one, as a supervisor would.

    taskmanager: Flink's TaskManager; running jobs restart from their last completed checkpoint.
    """
    get_runtime(runtime).kill_taskmanager(say=click.echo)
