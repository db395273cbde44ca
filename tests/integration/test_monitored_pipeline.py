"""On the pipeline running under a steady load on the session cluster, with the monitoring profile's Prometheus
(one run for the whole module, ``monitored_pipeline``, cancelled when the module ends):

- the Grafana metrics dashboard's PromQL: the compose lab's Grafana cannot run here, so each panel's query goes to
  Prometheus itself, as Grafana's Prometheus data source sends it (an instant query at "now"). A query Prometheus
  refuses (a typo in a function, a bad matcher) or one that finds no series (a metric or label that does not
  exist, a rule file that drops it) fails the test, naming the panel;
- notebook 12's checks: each passes its reference and fails the wrong answers a learner writes first (a counter
  without rate, every job's tasks, the idle metric, the lag of one partition), with the hint that fixes them.
"""


from __future__ import annotations

import json
import time

import pytest

from iotlab.core.errors import LabError
from iotlab.core.paths import lab_env_dir
from iotlab.course.exercises import nb12
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


def test_the_records_in_check_passes_the_reference_and_fails_counters_and_other_jobs(monitored_pipeline):
    job_id = monitored_pipeline.job_id
    assert nb12.check_records_in_query(nb12.records_in_query, job_id).passed
    counter = nb12.check_records_in_query(
        lambda job: f'sum by (task_name) (flink_taskmanager_job_task_numRecordsIn{{job_id="{job}"}})', job_id)
    assert not counter.passed and "rate(" in counter.message
    ignores_argument = nb12.check_records_in_query(
        lambda job: f'sum by (task_name) (rate(flink_taskmanager_job_task_numRecordsIn{{job_id="{job_id}"}}[1m]))',
        job_id)
    assert not ignores_argument.passed and "job_id argument" in ignores_argument.message
    broken = nb12.check_records_in_query(lambda job: "sum by (task_name) (rate(numRecordsIn[1m]", job_id)
    assert not broken.passed and "Prometheus refused" in broken.message
    assert nb12.check_records_in_query(lambda job: 42, job_id).message.startswith("return the PromQL query")
    assert nb12.check_records_in_query(lambda job: (_ for _ in ()).throw(NotImplementedError), job_id).skipped


def test_the_busiest_task_check_wants_one_series_of_busy_time(monitored_pipeline):
    job_id = monitored_pipeline.job_id
    assert nb12.check_busiest_task_query(nb12.busiest_task_query, job_id).passed
    every_task = nb12.check_busiest_task_query(
        lambda job: f'max by (task_name) (flink_taskmanager_job_task_busyTimeMsPerSecond{{job_id="{job}"}})', job_id)
    assert not every_task.passed and "topk(1" in every_task.message
    idle = nb12.check_busiest_task_query(
        lambda job: f'topk(1, max by (task_name) (flink_taskmanager_job_task_idleTimeMsPerSecond{{job_id="{job}"}}))',
        job_id)
    assert not idle.passed and "busyTimeMsPerSecond" in idle.message
    every_job = nb12.check_busiest_task_query(
        lambda job: "topk(1, max by (task_name) (avg_over_time(flink_taskmanager_job_task_busyTimeMsPerSecond[1m])))",
        job_id)  # right while this job is the busiest one running, and for a job that does not exist too
    assert not every_job.passed and "job_id argument" in every_job.message


def test_the_lag_check_wants_the_groups_partitions_summed(monitored_pipeline):
    group = pipeline.consumer_group(monitored_pipeline.topic)
    assert nb12.check_lag_query(nb12.lag_query, group).passed
    per_partition = nb12.check_lag_query(lambda g: f'kafka_consumergroup_lag{{consumergroup="{g}"}}', group)
    assert not per_partition.passed and "sum(" in per_partition.message
    every_group = nb12.check_lag_query(lambda g: "sum(kafka_consumergroup_lag)", group)
    assert not every_group.passed
    zero_when_absent = nb12.check_lag_query(
        lambda g: f'sum(kafka_consumergroup_lag{{consumergroup="{g}"}}) or vector(0)', group)
    assert zero_when_absent.passed, zero_when_absent.message
