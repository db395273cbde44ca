"""The sensors: a deterministic simulator with labelled anomalies and faults, the writers that send its stream
(or any recorded one) to a file or a Kafka topic, and a steady load sent in the background."""

from iotlab.sim.paced import PacedStream, SteadyLoad
from iotlab.sim.sensors import (
    ANOMALY_TYPES,
    MALFORMED_TYPES,
    Record,
    SensorSimulator,
    SimulationConfig,
    generate_readings,
    to_json_bytes,
)
from iotlab.sim.writers import (
    LABELS_SUFFIX,
    key_of,
    labels_path_of,
    read_lines,
    replay_file,
    replay_lines,
    simulate_to_file,
    simulate_to_topic,
    stream_path_of,
    write_labels,
)

__all__ = [
    # paced streams
    "PacedStream", "SteadyLoad",
    # sensors
    "ANOMALY_TYPES", "MALFORMED_TYPES", "Record", "SensorSimulator", "SimulationConfig", "generate_readings",
    "to_json_bytes",
    # writers
    "LABELS_SUFFIX", "key_of", "labels_path_of", "read_lines", "replay_file", "replay_lines", "simulate_to_file",
    "simulate_to_topic", "stream_path_of", "write_labels",
]
