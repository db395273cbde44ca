"""The pipeline as a Flink application: what a Flink cluster of its own runs (Kubernetes: the Flink Kubernetes
Operator's ``FlinkDeployment`` in ``lab_env/k8s/``), where the lab submits the same job to its session cluster.

Flink's ``PythonDriver`` starts ``python -m iotlab.jobs.pipeline.application --topic T [--keyspace K]
[--out-of-orderness M]`` in the JobManager; the arguments are those of ``iotlab pipeline start`` (a unit test holds
them equal). The job is ``runner.build``'s, unbounded. The cluster's configuration (the FlinkDeployment's
``flinkConfiguration``) sets checkpoints, their folder and the restart strategy; this module adds the job's own
options, as ``runner.submit`` does. It never empties a table or a topic: a restarted application continues."""

from __future__ import annotations

import argparse
from typing import Optional

from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment

from iotlab.cassandra import closing_session
from iotlab.cassandra.schema import create_schema
from iotlab.core.settings import load_settings
from iotlab.core.windows import OUT_OF_ORDERNESS_MINUTES
from iotlab.flink.functions import functions_jar
from iotlab.jobs.pipeline.runner import SERVICE_RESTARTS, build, job_name


def arguments_parser() -> argparse.ArgumentParser:
    """The application's arguments: the options of `iotlab pipeline start` that choose what the job reads and
    writes (resuming is the operator's business: its ``upgradeMode`` and ``initialSavepointPath``)."""
    parser = argparse.ArgumentParser(prog="python -m iotlab.jobs.pipeline.application",
                                     description="Run the course's pipeline as a Flink application.")
    parser.add_argument("--topic", required=True, help="Topic of raw readings (read from its first offset).")
    parser.add_argument("--keyspace", default="iotlab", help="Cassandra keyspace of the store's tables.")
    parser.add_argument("--out-of-orderness", type=int, default=OUT_OF_ORDERNESS_MINUTES,
                        help="Minutes the watermark trails the newest event time read.")
    return parser


def main(argv: Optional[list[str]] = None) -> None:
    """Build the pipeline and run it on the cluster this process was started in, until it is cancelled."""
    arguments = arguments_parser().parse_args(argv)
    if arguments.out_of_orderness < 0:
        raise SystemExit("--out-of-orderness must be 0 or more minutes")
    settings = load_settings()
    with closing_session(settings) as session:
        create_schema(session, arguments.keyspace)  # safe to run again: a restarted application keeps its rows
    configuration = Configuration()
    for key, value in SERVICE_RESTARTS.items():
        configuration.set_string(key, value)
    configuration.set_string("pipeline.jars", functions_jar().as_uri())  # the course's SQL functions
    env = StreamExecutionEnvironment.get_execution_environment(configuration)
    env.set_parallelism(1)
    build(env, arguments.topic, arguments.keyspace, bounded=False,
          out_of_orderness_minutes=arguments.out_of_orderness, settings=settings)
    env.execute(job_name(arguments.topic, arguments.keyspace))


if __name__ == "__main__":
    main()
