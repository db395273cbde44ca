"""Faults the lessons inject on purpose: today a Kafka consumer that crashes mid-batch (notebook 02)."""

from iotlab.faults.consumer_crash import MODES, run_consumer_process

__all__ = ["MODES", "run_consumer_process"]
