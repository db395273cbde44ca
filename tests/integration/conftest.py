"""Fixtures shared by the integration tests that need a finished pipeline run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from iotlab.core.paths import project_root
from iotlab.jobs import pipeline
from iotlab.jobs.window_aggregate import disorder_minutes
from iotlab.kafka import recreate_topic
from iotlab.sim.writers import read_lines, replay_file

ANOMALY_DAY = project_root() / "data" / "anomaly_day.jsonl"


@dataclass
class PipelineRun:
    topic: str
    keyspace: str
    lines: list[bytes]
    out_of_orderness_minutes: int
    summary: pipeline.PipelineSummary


@pytest.fixture(scope="session")
def anomaly_day_pipeline(lab_settings) -> PipelineRun:
    """The anomaly day (28,357 records, 20 devices, one UTC day and a half) replayed into three partitions
    and run through the bounded pipeline into keyspace ``iotlab_it_pipeline``, with a watermark bound larger
    than the stream's disorder (nothing late: the results are exact, whatever the partitions' interleaving)."""
    topic, keyspace = "it.pipeline.day", "iotlab_it_pipeline"
    lines = read_lines(ANOMALY_DAY)
    recreate_topic(topic, partitions=3, settings=lab_settings)
    replay_file(ANOMALY_DAY, topic, settings=lab_settings, progress=False)
    bound = disorder_minutes(lines) + 5
    summary = pipeline.run(topic, keyspace, out_of_orderness_minutes=bound, settings=lab_settings)
    return PipelineRun(topic, keyspace, lines, bound, summary)
