"""Notebook 12 (observability and performance): PromQL for a running job's throughput per task, the query that
names its busiest task, and the consumer lag of its group, each checked on the lab's real Prometheus against the
reference query asked at the same moment.

A check asks Prometheus both queries at one instant a few seconds in the past (``at``), so both see the same
samples and a right answer matches exactly, whatever the load does meanwhile.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import pandas as pd

from iotlab.core.errors import LabError
from iotlab.course.checks import CheckResult, error_reason, failed, is_skipped, passed, skipped
from iotlab.lab.monitoring import SCRAPE_INTERVAL_S, recorded_monitoring
from iotlab.lab.prometheus import instant

NO_SUCH_JOB = "0" * 32  # a job id no job has: a query that ignores its argument still finds series with it


def require_monitoring() -> None:
    """One clear error when the lab runs without its monitoring profile."""
    if not recorded_monitoring():
        raise LabError("notebook 12 needs the lab's monitoring profile (Prometheus); the lab runs without it",
                       "restart it with the profile: `iotlab lab down && iotlab lab up --with monitoring`")
    instant("up")  # a LabError that says so if Prometheus does not answer


def _moment() -> float:
    """An instant both queries of a check are asked at: two scrapes ago, so every target has a sample there."""
    return time.time() - 2 * SCRAPE_INTERVAL_S


def _answer(name: str, function: Callable[[str], str], argument: str,
            at: float) -> tuple[object, pd.DataFrame | None, CheckResult | None]:
    """(the learner's query for ``argument``, Prometheus's answer to it at ``at``, None), or the failed check that
    says why there is no answer: the function raised, returned no string, or Prometheus refused the query."""
    try:
        query = function(argument)
    except Exception as error:
        return None, None, failed(name, f"raised {type(error).__name__}: {error_reason(error)}")
    if not isinstance(query, str) or not query.strip():
        return query, None, failed(name, f"return the PromQL query as a string, not {type(query).__name__}")
    try:
        return query, instant(query, at=at), None
    except LabError as error:
        return query, None, failed(name, error_reason(error))


def _finds_a_job_that_does_not_exist(name: str, function: Callable[[str], str], at: float) -> Optional[CheckResult]:
    """The failed check if the learner's query finds series for a job that does not exist (a query that ignores its
    argument finds another job's series, or this one's), or cannot be asked; None if it finds nothing."""
    _, other_answer, error = _answer(name, function, NO_SUCH_JOB, at)
    if error is not None:
        return error
    if not other_answer.empty:
        return failed(name, "for a job id that does not exist it still finds series. Hint: use the job_id argument "
                            "in the query")
    return None


def _nothing_for_no_such_job(name: str, function: Callable[[str], str], at: float, praise: str) -> CheckResult:
    """Passed with ``praise`` if the learner's query finds nothing for a job that does not exist; failed
    otherwise."""
    failure = _finds_a_job_that_does_not_exist(name, function, at)
    return failure if failure is not None else passed(name, praise)


# ----------------------------------------------------------------------------- 12.1 records in per task

def records_in_query(job_id: str) -> str:
    """Reference for 12.1: records each task of the job takes in per second, averaged over the last minute (the
    counter ``numRecordsIn`` through ``rate``, summed over the task's subtasks)."""
    return f'sum by (task_name) (rate(flink_taskmanager_job_task_numRecordsIn{{job_id="{job_id}"}}[1m]))'


def check_records_in_query(function: Callable[[str], str], job_id: str) -> CheckResult:
    """Check 12.1 on the running job: one row per task with the reference's rate (within 1%), and nothing for a
    job that does not exist."""
    name = "records_in_query"
    if is_skipped(function, (job_id,)):
        return skipped(name)
    at = _moment()
    query, answer, error = _answer(name, function, job_id, at)
    if error is not None:
        return error
    expected = instant(records_in_query(job_id), at=at)
    if answer.empty:
        return failed(name, f"{query!r} found no series. Hint: the metric is flink_taskmanager_job_task_numRecordsIn "
                            "and Flink labels it with job_id")
    if "task_name" not in answer.columns or answer["task_name"].duplicated().any():
        return failed(name, f"got {len(answer)} series; expected one per task ({len(expected)}). Hint: "
                            "sum by (task_name) (...) adds up a task's subtasks and keeps its name")
    mine = answer.set_index("task_name")["value"]
    want = expected.set_index("task_name")["value"]
    if set(mine.index) != set(want.index):
        extra = len(set(mine.index) - set(want.index))
        return failed(name, f"{extra} task(s) that are not this job's, {len(set(want.index) - set(mine.index))} of "
                            "its tasks missing. Hint: select the job with {job_id=\"...\"}")
    idle_tasks = want[want == 0].index  # no records in that minute: a right answer says 0 for them too
    if (mine[idle_tasks].abs() > 0.01).any():
        return failed(name, f"{int((mine[idle_tasks].abs() > 0.01).sum())} task(s) that took in no records over the "
                            "minute have a value. Hint: rate(flink_taskmanager_job_task_numRecordsIn[1m])")
    ratio = (mine[want.index] / want.where(want > 0)).dropna()
    if ((ratio - 1).abs() > 0.01).any():
        typical = ratio.median()
        hint = ("that is the counter's total since the job started: rate(counter[1m]) makes it per second"
                if typical > 50 else "rate(flink_taskmanager_job_task_numRecordsIn[1m]): per second, over a minute")
        return failed(name, f"values {typical:.2f} times the reference's. Hint: {hint}")
    return _nothing_for_no_such_job(name, function, at, "one series per task of the job, each at the reference's rate")


# ----------------------------------------------------------------------------- 12.2 the busiest task

def busiest_task_query(job_id: str) -> str:
    """Reference for 12.2: the one task of the job that spent the largest share of the last minute busy
    (``busyTimeMsPerSecond`` averaged over a minute, the most loaded subtask of each task, the top one)."""
    return ("topk(1, max by (task_name) (avg_over_time("
            f'flink_taskmanager_job_task_busyTimeMsPerSecond{{job_id="{job_id}"}}[1m])))')


def check_busiest_task_query(function: Callable[[str], str], job_id: str) -> CheckResult:
    """Check 12.2: exactly one series, naming the task that is busiest now or on average over the last minute."""
    name = "busiest_task_query"
    if is_skipped(function, (job_id,)):
        return skipped(name)
    at = _moment()
    query, answer, error = _answer(name, function, job_id, at)
    if error is not None:
        return error
    # first: a query that ignores its job id can name another job's task, and the hint below would mislead
    ignores_the_job = _finds_a_job_that_does_not_exist(name, function, at)
    if ignores_the_job is not None:
        return ignores_the_job
    if len(answer) != 1 or "task_name" not in answer.columns:
        return failed(name, f"got {len(answer)} series, expected one with its task_name. Hint: topk(1, ...) keeps "
                            "the largest series; max by (task_name) names it")
    busy = f'flink_taskmanager_job_task_busyTimeMsPerSecond{{job_id="{job_id}"}}'
    named, value = answer["task_name"].iloc[0], answer["value"].iloc[0]
    top = {"value": float("nan")}
    for frame in (instant(f"max by (task_name) (avg_over_time({busy}[1m]))", at=at),
                  instant(f"max by (task_name) ({busy})", at=at)):
        if frame.empty:
            continue
        top = frame.loc[frame["value"].idxmax()]
        # the busiest task, with its busy time (two tasks equally busy: either name is right)
        if abs(value - top["value"]) <= max(0.05 * top["value"], 2) and \
                named in set(frame.loc[frame["value"] >= top["value"] - 2, "task_name"]):
            return passed(name, "one series: the job's busiest task, with its busy time")
    return failed(name, f"named a task with the value {value:.0f}; the busiest task is busy {top['value']:.0f} ms/s. "
                        "Hint: busyTimeMsPerSecond (not idle, not backpressured), the busiest subtask of each task")


# ----------------------------------------------------------------------------- 12.3 the consumer lag of a job

def lag_query(group: str) -> str:
    """Reference for 12.3: the records of its topic a consumer group has not committed yet, over all partitions."""
    return f'sum(kafka_consumergroup_lag{{consumergroup="{group}"}})'


def check_lag_query(function: Callable[[str], str], group: str) -> CheckResult:
    """Check 12.3: one number, the reference's, for the job's group; nothing for a group that does not exist."""
    name = "lag_query"
    if is_skipped(function, (group,)):
        return skipped(name)
    at = _moment()
    query, answer, error = _answer(name, function, group, at)
    if error is not None:
        return error
    reference = instant(lag_query(group), at=at)
    if reference.empty:
        return failed(name, f"the group {group!r} has committed no offsets yet (a Flink source commits when a "
                            "checkpoint completes): run the check again in a few seconds")
    expected = reference["value"].iloc[0]
    if len(answer) != 1:
        return failed(name, f"got {len(answer)} series, expected one number. Hint: sum(...) adds up the partitions")
    if answer["value"].iloc[0] != expected:
        return failed(name, f"got {answer['value'].iloc[0]:,.0f}, expected {expected:,.0f}. Hint: "
                            "kafka_consumergroup_lag, for consumergroup=\"...\", summed")
    _, other_answer, error = _answer(name, function, "no-such-group", at)
    if error is not None:
        return error
    if not other_answer.empty and (other_answer["value"] != 0).any():  # `... or vector(0)` says 0: right too
        return failed(name, "for a group that does not exist it still finds a lag. Hint: select the group argument")
    return passed(name, "the group's lag over all its partitions, as the reference's")
