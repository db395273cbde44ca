"""Per-device averages over a whole topic: the course's first Flink job (notebooks 00 and 04)."""

from iotlab.jobs.device_averages.graph import AVERAGES_SQL, build_graph, device_averages, to_frame
from iotlab.jobs.device_averages.reference import device_averages_of

__all__ = ["AVERAGES_SQL", "build_graph", "device_averages", "device_averages_of", "to_frame"]
