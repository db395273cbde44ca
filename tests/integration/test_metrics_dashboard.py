"""The Grafana metrics dashboard's PromQL against the lab's real Prometheus, while the pipeline runs.

The compose lab's Grafana cannot run here, so this test sends each panel's query to the monitoring profile's
Prometheus itself, as Grafana's Prometheus data source does (an instant query at "now"), after the pipeline has
run for a while under a steady load on the session cluster. A query Prometheus refuses (a typo in a function, a
bad matcher) or one that finds no series (a metric or label that does not exist, a rule file that drops it)
fails the test, naming the panel.
"""

from __future__ import annotations

import json
import time

import pytest

from iotlab.core.errors import LabError
from iotlab.core.paths import lab_env_dir
from iotlab.jobs import pipeline
from iotlab.lab.monitoring import SCRAPE_INTERVAL_S
from iotlab.lab.prometheus import instant

pytestmark = [pytest.mark.integration, pytest.mark.monitoring]

DASHBOARD = json.loads((lab_env_dir() / "docker" / "grafana" / "provisioning" / "dashboards"
                        / "iotlab-metrics.json").read_text())
def panel_queries() -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in DASHBOARD["panels"] for target in panel["targets"]]


def test_the_dashboard_has_the_panels_the_course_reads():
    titles = " | ".join(title for title, _ in panel_queries()).lower()
    for subject in ("records in", "records out", "busy", "backpressured", "checkpoint duration", "checkpoint size",
                    "consumer lag", "cassandra", "kafka"):
        assert subject in titles


@pytest.mark.parametrize("title, promql", panel_queries(), ids=[title for title, _ in panel_queries()])
def test_every_panel_query_answers_with_series_on_the_real_prometheus(monitored_pipeline, title, promql):
    deadline = time.monotonic() + 3 * SCRAPE_INTERVAL_S
    while True:
        try:
            answer = instant(promql)
        except LabError as error:  # Prometheus refused the query: a syntax error, an unknown function
            pytest.fail(f"{title}: Prometheus refused {promql!r}: {error}")
        if len(answer) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(answer), f"{title}: {promql!r} found no series while the pipeline ran"


def test_the_pipelines_own_series_are_there(monitored_pipeline):
    """Not only some job's series: the running pipeline's busy tasks, its checkpoints and its consumer group's lag
    (Flink's reporter labels every job metric with the job's id)."""
    job = f'job_id="{monitored_pipeline.job_id}"'
    busy = instant(f"max by (task_name) (flink_taskmanager_job_task_busyTimeMsPerSecond{{{job}}})")
    assert len(busy) >= 5 and busy["task_name"].str.startswith("Source:").any()
    assert (instant(f"flink_jobmanager_job_lastCheckpointSize{{{job}}}")["value"] > 0).all()
    group = pipeline.consumer_group(monitored_pipeline.topic)
    lag = instant(f'sum by (consumergroup) (kafka_consumergroup_lag{{consumergroup="{group}"}})')
    assert list(lag["consumergroup"]) == [group]
