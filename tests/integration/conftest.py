"""Fixtures shared by the integration tests that need a finished pipeline run, or a running one under load."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from iotlab.core.paths import project_root
from iotlab.flink import rest
from iotlab.jobs import pipeline
from iotlab.jobs.window_aggregate import disorder_minutes
from iotlab.kafka import recreate_topic
from iotlab.lab.monitoring import recorded_monitoring
from iotlab.sim.paced import SteadyLoad
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


@dataclass
class MonitoredRun:
    topic: str
    keyspace: str
    job_id: str


# Long enough for a minute's rate() to hold several scrapes and for checkpoints (every 2 s) to complete.
MONITORED_WARM_UP_S = 45


@pytest.fixture(scope="module")
def monitored_pipeline(lab_settings):
    """The pipeline on the session cluster, fed 1,000 readings/s (as in notebook 12), running for
    MONITORED_WARM_UP_S seconds before the tests that read its metrics from Prometheus start, and cancelled when
    their module ends (a session fixture would keep the job and its load running beside every later test)."""
    if not recorded_monitoring():
        pytest.fail("the lab runs without monitoring: `iotlab lab down`, then `iotlab lab up --with monitoring`")
    topic, keyspace = "it.metrics", "iotlab_it_metrics"
    recreate_topic(topic, partitions=3)
    load = SteadyLoad(topic, rate=1_000, devices=50).start()
    job_id = pipeline.submit(topic, keyspace)
    try:
        rest.wait_for_running(job_id)
        time.sleep(MONITORED_WARM_UP_S)
        yield MonitoredRun(topic, keyspace, job_id)
    finally:
        load.stop()
        rest.cancel(job_id)
