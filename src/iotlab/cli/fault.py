"""`iotlab fault ...`: break a part of the running lab on purpose, to watch the pipeline recover."""

from __future__ import annotations

import click

from iotlab.cli.errors import fail_cleanly
from iotlab.lab import RUNTIMES, get_runtime
from iotlab.lab.runtime import SERVICES

FAULTS = ("taskmanager",)


@click.group()
def fault() -> None:
    """Inject faults into the running lab (notebook 09, the fault-tolerance chapter)."""


runtime_option = click.option("--runtime", type=click.Choice(RUNTIMES), default="native", show_default=True,
                              help="native: the lab's processes. docker: its containers (through the Docker SDK).")


@fault.command("kill")
@click.argument("target", type=click.Choice(FAULTS))
@runtime_option
@fail_cleanly
def kill(target: str, runtime: str) -> None:
    """Kill TARGET with SIGKILL and start a fresh one, as a supervisor would.

    taskmanager: Flink's TaskManager; running jobs restart from their last completed checkpoint.
    """
    get_runtime(runtime).kill_taskmanager(say=click.echo)


@fault.command("pause")
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--for", "seconds", type=click.FloatRange(min=1, max=3600), required=True, metavar="SECONDS",
              help="How long the service stays frozen.")
@runtime_option
@fail_cleanly
def pause(service: str, seconds: float, runtime: str) -> None:
    """Freeze SERVICE for SECONDS (SIGSTOP, then SIGCONT): a hung node, whose clients wait and time out.

    The command returns once the service answers again."""
    get_runtime(runtime).pause(service, seconds, say=click.echo)
