"""Faults the lessons inject on purpose: a Kafka consumer that crashes mid-batch (notebook 02), and a JobManager
that dies while the pipeline runs (its jobs resumed from their retained checkpoints)."""

from iotlab.faults.consumer_crash import MODES, run_consumer_process
from iotlab.faults.jobmanager import Resumed, kill_jobmanager_and_resume

__all__ = ["MODES", "Resumed", "kill_jobmanager_and_resume", "run_consumer_process"]
