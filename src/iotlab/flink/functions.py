"""The course's Java SQL functions: the data contract for the SQL jobs, compiled on first use.

Why Java: Flink SQL runs a Python UDF in a separate Python worker (every record crosses to it and back), and
the same checks written as SQL take a dozen JSON functions and regular expressions per record, which the
planner evaluates again for every reference. A Java function parses each record once, inside the JVM.
Read the sources under ``java/org/iotlab/flink/``: ``ReadingContract`` holds the rules (the Python
validator's, in the same order), ``ParseReading`` and ``ReadingTime`` expose them to SQL.

The jar is built from those sources with ``javac`` from the JDK the lab already needs, against the Flink
classes that ship in the PyFlink wheel: no download. It lands in ``.lab/jars/functions/``, named after a
hash of the sources, so an edited source gives a fresh jar.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pyflink

from iotlab.core.errors import LabError
from iotlab.core.paths import state_dir

JAVA_SOURCES = Path(__file__).parent / "java"

# SQL name -> Java class. ``function_statements`` registers them in a Table environment.
SQL_FUNCTIONS = {
    "PARSE_READING": "org.iotlab.flink.ParseReading",
    "READING_TIME": "org.iotlab.flink.ReadingTime",
    "LATEST_READING": "org.iotlab.flink.LatestReading",  # the pipeline's newest reading per window
    # the anomaly detectors, as OVER aggregates (iotlab.jobs.anomalies.sql)
    "SPIKE_ALERT": "org.iotlab.flink.anomalies.SpikeAlert",
    "STUCK_ALERT": "org.iotlab.flink.anomalies.StuckAlert",
    "DRIFT_ALERT": "org.iotlab.flink.anomalies.DriftAlert",
    "OUT_OF_RANGE_ALERT": "org.iotlab.flink.anomalies.OutOfRangeAlert",
}


def _sources() -> list[Path]:
    return sorted(JAVA_SOURCES.rglob("*.java"))


def _javac() -> str:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "javac" if java_home else None
    if candidate is not None and candidate.exists():
        return str(candidate)
    found = shutil.which("javac")
    if found is None:
        raise LabError("javac not found (the course's SQL functions are compiled on first use)",
                       "install a JDK 17, not only a JRE (apt install openjdk-17-jdk-headless, or conda)")
    return found


def functions_jar() -> Path:
    """The jar of the course's SQL functions, compiled now if these sources have no jar yet."""
    digest = hashlib.sha256()
    for source in _sources():
        digest.update(source.relative_to(JAVA_SOURCES).as_posix().encode() + b"\0" + source.read_bytes())
    jar = state_dir() / "jars" / "functions" / f"iotlab-functions-{digest.hexdigest()[:12]}.jar"
    if jar.exists():
        return jar
    flink_lib = Path(pyflink.__file__).parent / "lib"
    classpath = os.pathsep.join(str(path) for path in sorted(flink_lib.glob("*.jar")))
    jar.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jar.parent) as build:
        # Java 11 bytecode: what Flink 2.x runs on, whichever JDK compiles it.
        compiled = subprocess.run(
            [_javac(), "--release", "11", "-encoding", "UTF-8", "-d", build, "-cp", classpath]
            + [str(source) for source in _sources()], capture_output=True, text=True)
        if compiled.returncode != 0:
            raise LabError("the course's SQL functions did not compile", "see the compiler's messages below",
                           details=compiled.stderr.strip())
        partial = Path(build) / jar.name
        shutil.make_archive(str(partial.with_suffix("")), "zip", root_dir=build, base_dir="org")
        # rename is atomic: a job started meanwhile sees the whole jar or none
        partial.with_suffix(".zip").rename(jar)
    for stale in jar.parent.glob("iotlab-functions-*.jar"):
        if stale != jar:
            stale.unlink(missing_ok=True)
    return jar


def function_statements() -> list[str]:
    """``CREATE TEMPORARY FUNCTION`` for every course function (run them before the tables that use them)."""
    return [f"CREATE TEMPORARY FUNCTION {name} AS '{java_class}' LANGUAGE JAVA"
            for name, java_class in SQL_FUNCTIONS.items()]
