"""A JobManager that dies, and the course's pipelines brought back from their retained checkpoints.

The lab's session cluster runs without high availability (Flink's HA needs ZooKeeper or Kubernetes): a new
JobManager starts with no job, and a job's state survives only in its retained checkpoints on disk. So this fault
does what an operator would: note the pipelines that ran, kill the JobManager, start a new one, and resume each
pipeline from its newest retained checkpoint with the parameters it was started with (``started_job``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from iotlab.flink.rest import jobs_overview, wait_for_running
from iotlab.jobs.pipeline import resume_from_latest_checkpoint, started_job
from iotlab.lab.runtime import LabRuntime


@dataclass
class Resumed:
    """A pipeline job the dead JobManager ran, and the one that took over from its checkpoint."""

    name: str
    old_job_id: str
    new_job_id: str
    checkpoint: str
    seconds_until_running: float


def kill_jobmanager_and_resume(lab: LabRuntime, say: Callable[[str], None] = print) -> list[Resumed]:
    """Kill the JobManager, start a new one, resume every course pipeline that was running; return them."""
    running = [job for job in jobs_overview() if job["state"] == "RUNNING"]
    pipelines = [(job, started_job(job["jid"])) for job in running]
    others = [job["name"] for job, started in pipelines if started is None]
    killed_at = time.monotonic()
    lab.kill_jobmanager(say=say)
    resumed = []
    for job, started in pipelines:
        if started is None:
            continue
        new_job_id, checkpoint = resume_from_latest_checkpoint(started["topic"], started["keyspace"],
                                                               started["out_of_orderness_minutes"])
        wait_for_running(new_job_id)
        resumed.append(Resumed(job["name"], job["jid"], new_job_id, str(checkpoint), time.monotonic() - killed_at))
        say(f"Resumed {job['name']} as job {new_job_id} from {checkpoint}; running "
            f"{resumed[-1].seconds_until_running:.0f} s after the kill.")
    if others:
        say(f"Not resumed (not a pipeline this project started): {', '.join(others)}: start them again yourself.")
    if not running:
        say("No job was running.")
    return resumed
