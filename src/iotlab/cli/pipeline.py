"""`iotlab pipeline ...`: the end-to-end pipeline (Kafka → Flink → Cassandra), bounded here or unbounded on
the lab's session cluster."""

from __future__ import annotations

from typing import Optional

import click

from iotlab.cli.errors import fail_cleanly
from iotlab.core import OUT_OF_ORDERNESS_MINUTES
from iotlab.core.errors import OptionError

topic_option = click.option("--topic", required=True, help="Topic of raw readings (read from its first offset).")
keyspace_option = click.option("--keyspace", default="iotlab", show_default=True,
                               help="Cassandra keyspace of the store's tables (created if missing).")
bound_option = click.option("--out-of-orderness", type=click.IntRange(min=0), default=OUT_OF_ORDERNESS_MINUTES,
                            show_default=True, help="Minutes the watermark trails the newest event time read.")


def _checked(topic: str, keyspace: str) -> None:
    from iotlab.cassandra.schema import check_keyspace_name
    from iotlab.kafka import topic_size

    try:
        check_keyspace_name(keyspace)
    except ValueError as error:
        raise OptionError(f"--keyspace: {error}", "pick a name like iotlab_mine") from None
    topic_size(topic)  # TopicNotFound, with its fix, before Flink starts


@click.group()
def pipeline() -> None:
    """The pipeline: validate, event time, 5-minute windows, latest readings and alerts into Cassandra."""


@pipeline.command("run")
@topic_option
@keyspace_option
@bound_option
@click.option("--bounded", is_flag=True, required=True,
              help="Read TOPIC to the end it has now, write everything, stop (`pipeline start` runs unbounded).")
@fail_cleanly
def run(topic: str, keyspace: str, out_of_orderness: int, bounded: bool) -> None:
    """Run the pipeline over TOPIC in this process, into fresh output topics and emptied tables; print a summary."""
    from iotlab.jobs import pipeline as job

    _checked(topic, keyspace)
    click.echo(f"Running the pipeline on {topic} into keyspace {keyspace} (bounded: up to the topic's current end) ...")
    click.echo(job.run(topic, keyspace, out_of_orderness_minutes=out_of_orderness).line())


@pipeline.command("start")
@topic_option
@keyspace_option
@bound_option
@click.option("--from-savepoint", "savepoint", default=None, help="Resume from this savepoint (path or file:// URI).")
@click.option("--from-checkpoint", "checkpoint", default=None, metavar="latest|PATH",
              help="Resume from a retained checkpoint: `latest` (this pipeline's newest) or a chk-N folder.")
@fail_cleanly
def start(topic: str, keyspace: str, out_of_orderness: int, savepoint: Optional[str],
          checkpoint: Optional[str]) -> None:
    """Start the pipeline unbounded on the session cluster (watch it at http://127.0.0.1:8081).

    Without --from-savepoint or --from-checkpoint it starts fresh: empty output topics and tables."""
    from iotlab.flink.rest import wait_for_running
    from iotlab.jobs import pipeline as job

    if savepoint and checkpoint:
        raise OptionError("--from-savepoint and --from-checkpoint both given", "resume from one of them")
    _checked(topic, keyspace)
    if checkpoint == "latest":
        try:
            job_id, found = job.resume_from_latest_checkpoint(topic, keyspace, out_of_orderness)
        except LookupError as error:
            raise OptionError(str(error),
                              "start it without --from-checkpoint (fresh), or give a chk-N folder") from None
        click.echo(f"resuming from checkpoint {found}")
    else:
        job_id = job.submit(topic, keyspace, savepoint_path=savepoint or checkpoint,
                            out_of_orderness_minutes=out_of_orderness)
    wait_for_running(job_id)
    click.echo(f"started job {job_id}: {job.job_name(topic, keyspace)}")


def _running_pipelines() -> list[dict]:
    from iotlab.flink.rest import jobs_overview
    from iotlab.jobs.pipeline.runner import JOB_NAME_PREFIX

    return [job for job in jobs_overview() if job["name"].startswith(JOB_NAME_PREFIX) and job["state"] == "RUNNING"]


@pipeline.command("status")
@fail_cleanly
def status() -> None:
    """The pipelines running on the session cluster: records, watermark, backpressure, checkpoints."""
    from iotlab.flink.rest import checkpoints, vertex_metrics

    jobs = _running_pipelines()
    if not jobs:
        click.echo("no pipeline is running (start one with `iotlab pipeline start --topic T`)")
    for job in jobs:
        counts = checkpoints(job["jid"])["counts"]
        click.echo(f"{job['jid']}  {job['name']}  {job['state']}  checkpoints completed: {counts['completed']}, "
                   f"failed: {counts['failed']}, restored: {counts['restored']}")
        for vertex in vertex_metrics(job["jid"]):
            click.echo(f"  {vertex['operator']:<60} in {vertex['records_in']:>9}  out {vertex['records_out']:>9}  "
                       f"backpressure {vertex['backpressure']}")


@pipeline.command("stop")
@click.option("--savepoint", is_flag=True, help="Take a savepoint first (resume with `start --from-savepoint`).")
@click.option("--job", "job_id", default=None, help="Which job, if several pipelines run.")
@fail_cleanly
def stop(savepoint: bool, job_id: Optional[str]) -> None:
    """Stop the running pipeline: with a savepoint, or cancel it."""
    from iotlab.flink.rest import cancel, stop_with_savepoint

    jobs = _running_pipelines()
    if job_id:
        jobs = [job for job in jobs if job["jid"] == job_id]
    if not jobs:
        raise OptionError("no pipeline is running" + (f" as job {job_id}" if job_id else ""),
                          "see `iotlab pipeline status`")
    if len(jobs) > 1:
        raise OptionError(f"{len(jobs)} pipelines are running", "choose one with --job (see `iotlab pipeline status`)")
    target = jobs[0]["jid"]
    if savepoint:
        click.echo(f"stopped job {target}; savepoint: {stop_with_savepoint(target)}")
    else:
        cancel(target)
        click.echo(f"cancelled job {target}")
