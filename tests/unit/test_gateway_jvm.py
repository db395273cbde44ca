"""The JVM of in-process jobs starts with the course's options, and leaves JVM_ARGS as it found it
(iotlab.flink.gateway_jvm). Each case runs in a fresh Python process: a gateway started earlier would hide it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from iotlab.lab.native import flink_process_environment

PROBE = """
import json, os
from iotlab.flink.environments import flink_configuration
from pyflink.java_gateway import get_gateway
flink_configuration(kafka=False)
jvm = get_gateway().jvm
beans = jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()
arguments = jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
print(json.dumps({"collectors": [bean.getName() for bean in beans], "arguments": list(arguments),
                  "JVM_ARGS": os.environ.get("JVM_ARGS")}))
"""


def probe(jvm_args):
    # without PyFlink's worker variables, which an in-process job run earlier in this process leaves behind
    environment = {key: value for key, value in flink_process_environment().items() if key != "JVM_ARGS"}
    if jvm_args is not None:
        environment["JVM_ARGS"] = jvm_args
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=180,
                            env=environment)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("jvm_args", [None, "-Xss2m"])
def test_the_gateway_runs_the_parallel_collector_and_keeps_the_users_options(jvm_args):
    found = probe(jvm_args)
    assert sorted(found["collectors"]) == ["PS MarkSweep", "PS Scavenge"]  # G1: "G1 Young Generation", ...
    assert "-XX:+UseParallelGC" in found["arguments"]
    assert found["JVM_ARGS"] == jvm_args  # restored: nothing started later inherits the course's options
    if jvm_args:
        assert jvm_args in found["arguments"]
