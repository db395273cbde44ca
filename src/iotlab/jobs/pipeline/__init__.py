"""The end-to-end pipeline (notebook 09): Kafka → Flink (validate, event time, windows, latest readings,
alerts) → Cassandra, plus alerts, dead letters and late readings to Kafka.

- ``graph``: the job's logic in Flink SQL, a function of its input table;
- ``cassandra_writer``: the PyFlink async function that upserts the results with cassandra-driver;
- ``reference``: the same results recomputed in batch, in plain Python, from the same records;
- ``runner``: the wiring to Kafka and Cassandra; bounded in this process, or unbounded on the session cluster.
"""

from iotlab.jobs.pipeline import reference
from iotlab.jobs.pipeline.cassandra_writer import CassandraWriter, as_awaitable, refused, written
from iotlab.jobs.pipeline.graph import LATEST_MINUTES, graph_statements
from iotlab.jobs.pipeline.runner import (
    PipelineSummary,
    build,
    consumer_group,
    job_name,
    latest_checkpoint,
    prepare,
    resume_from_latest_checkpoint,
    run,
    started_job,
    submit,
    summarize,
)

__all__ = ["CassandraWriter", "LATEST_MINUTES", "PipelineSummary", "as_awaitable", "build",
           "consumer_group", "graph_statements", "job_name", "latest_checkpoint", "prepare", "reference", "refused",
           "resume_from_latest_checkpoint", "run", "started_job", "submit", "summarize", "written"]
