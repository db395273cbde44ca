"""Start a new TaskManager when the native lab's TaskManager exits, as a supervisor would.

In Docker the TaskManager's container has ``restart: unless-stopped``; on Kubernetes its Deployment starts a new
pod; on a machine, systemd restarts the service. The native lab has none of them, and a TaskManager does exit on
its own: PyFlink's Python operators can fail while closing during a failover ("Reference count must not be
negative"), and Flink ends a TaskManager whose task does not stop within ``task.cancellation.timeout``. Without a
new one the session cluster has no slots, and every job waits for ever in SCHEDULED.

This process runs beside the Flink cluster while the lab is up (``iotlab lab up`` starts it, ``iotlab lab down``
stops it before Flink), checks every two seconds and writes what it did to ``.lab/logs/flink-supervisor.out``
(``iotlab lab logs flink`` shows it). It ends by itself when no Flink process of its lab has run for a minute.

    python -m iotlab.lab.taskmanager_supervisor --lab .lab
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from iotlab.core.errors import LabError
from iotlab.lab.native import NativeLab, end_orphaned_workers

POLL_S = 2.0
# No JobManager and no TaskManager for this long: the lab was stopped without `iotlab lab down` (or killed).
GIVE_UP_S = 60.0


def say(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}", flush=True)


def supervise(state: Path, poll_s: float = POLL_S, give_up_s: float = GIVE_UP_S) -> None:
    """Until the lab's Flink is gone: whenever its JobManager runs without a TaskManager, start a TaskManager.

    A JobManager that is missing is left alone: `iotlab fault kill jobmanager` starts its own new one, and with
    both halves gone the lab is stopped (or being stopped)."""
    lab = NativeLab(state=state)
    last_seen = time.monotonic()
    say(f"Supervising the TaskManager of the lab in {state}.")
    while True:
        jobmanager, taskmanager = lab.flink_role_pids("standalonesession"), lab.flink_role_pids("taskexecutor")
        if jobmanager or taskmanager:
            last_seen = time.monotonic()
        elif time.monotonic() - last_seen > give_up_s:
            say(f"No Flink process of this lab for {give_up_s:.0f} s: the supervisor ends.")
            return
        if jobmanager and not taskmanager:
            say("The TaskManager exited (its log: `iotlab lab logs flink`); starting a new one.")
            end_orphaned_workers(say)
            try:
                lab.start_flink()
                say(f"Started a new TaskManager (pid {', '.join(map(str, lab.flink_role_pids('taskexecutor')))}).")
            except LabError as error:
                say(f"Could not start a TaskManager: {error}")
        time.sleep(poll_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", type=Path, required=True, help="the lab's state folder (.lab)")
    supervise(parser.parse_args().lab.resolve())


if __name__ == "__main__":
    main()
