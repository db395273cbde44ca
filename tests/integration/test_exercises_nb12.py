"""Notebook 12's checks on the lab's real Prometheus while the pipeline runs: each passes its reference and fails
the wrong answers a learner writes first (a counter without rate, every job's tasks, the idle metric, the lag of
one partition), with the hint that fixes them."""

from __future__ import annotations

import pytest

from iotlab.course.exercises import nb12
from iotlab.jobs import pipeline

pytestmark = [pytest.mark.integration, pytest.mark.monitoring]


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
