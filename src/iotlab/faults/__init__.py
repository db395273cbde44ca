"""Faults the lessons inject on purpose: a Kafka consumer that crashes mid-batch (notebook 02), a JobManager
that dies while the pipeline runs (its jobs resumed from their retained checkpoints), and the fault drill of
notebook 11 and `iotlab bench faults` (the pipeline through every fault of the three-node lab)."""

from iotlab.faults.consumer_crash import MODES, run_consumer_process
from iotlab.faults.drill import DrillReport, drill_faults, run_drill
from iotlab.faults.jobmanager import Resumed, kill_jobmanager_and_resume

__all__ = ["DrillReport", "MODES", "Resumed", "drill_faults", "kill_jobmanager_and_resume", "run_consumer_process",
           "run_drill"]
