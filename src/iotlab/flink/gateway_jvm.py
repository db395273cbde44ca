"""Start PyFlink's Java gateway, the JVM that runs every in-process job, with the course's JVM options.

PyFlink starts that JVM on the first call that needs Java (``Configuration()``, an environment) and reads extra
JVM options from the ``JVM_ARGS`` environment variable at that moment only. The course adds one:

- ``-XX:+UseParallelGC``: the parallel (throughput) collector instead of G1, Java 17's default on a machine of
  two cores or more. An in-process job is a batch of work on a laptop's few cores: what counts is how much CPU
  is left for the job, not how short each pause is. G1 spends CPU on every reference written (its barriers)
  and on concurrent threads; on this course's 2-core machine, the bounded pipeline over 1M readings ran 8-12%
  faster with the parallel collector (``iotlab bench pipeline``; README, Performance). The lab's own Flink,
  Kafka and Cassandra processes keep their collectors: a streaming service cares about pauses.

``JVM_ARGS`` is set for the launch only and restored at once, so nothing this process starts later (a lab
service restarted from a notebook, say) inherits it.
"""

from __future__ import annotations

import os
import threading

from pyflink.java_gateway import get_gateway

IN_PROCESS_JVM_OPTIONS = ("-XX:+UseParallelGC",)

_lock = threading.Lock()


def start_gateway_jvm() -> None:
    """Start the gateway JVM with ``IN_PROCESS_JVM_OPTIONS`` (after any the user set in ``JVM_ARGS``), unless it
    already runs: then this does nothing."""
    with _lock:
        previous = os.environ.get("JVM_ARGS")
        os.environ["JVM_ARGS"] = " ".join([*(previous or "").split(), *IN_PROCESS_JVM_OPTIONS])
        try:
            get_gateway()
        finally:
            if previous is None:
                del os.environ["JVM_ARGS"]
            else:
                os.environ["JVM_ARGS"] = previous
