"""The lab's pinned versions, read from the one place they are pinned: ``lab_env/versions.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from iotlab.core.paths import lab_env_dir


def parse_env_file(path: Path) -> dict[str, str]:
    """Read ``KEY=VALUE`` lines, skipping blanks and ``#`` comments (the format compose and make read)."""
    values: dict[str, str] = {}
    for line_number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise ValueError(f"{path}:{line_number}: expected KEY=VALUE, got {raw!r}")
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip()
    return values


@lru_cache(maxsize=1)
def pinned() -> dict[str, str]:
    """All pinned versions, e.g. ``pinned()["KAFKA_VERSION"] == "4.1.1"``."""
    return parse_env_file(lab_env_dir() / "versions.env")


def maven_properties() -> dict[str, str]:
    """The ``-D`` properties lab_env/pom.xml expects, taken from versions.env."""
    versions = pinned()
    return {
        "kafka.version": versions["KAFKA_VERSION"],
        "cassandra.version": versions["CASSANDRA_VERSION"],
        "flink.kafka.connector.version": versions["FLINK_KAFKA_CONNECTOR_VERSION"],
        "log4j.version": versions["LOG4J_VERSION"],
        "flink.version": versions["FLINK_VERSION"],
        "jmx.exporter.version": versions["JMX_EXPORTER_VERSION"],
    }
