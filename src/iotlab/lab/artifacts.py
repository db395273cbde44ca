"""Resolves the lab's JVM artifacts from Maven Central with the one pom under lab_env/.

Each service gets its own folder of jars (its own classpath): ``.lab/jars/kafka``,
``.lab/jars/cassandra`` and ``.lab/jars/flink`` (the Kafka connector for Flink jobs).
Maven caches downloads in ``~/.m2``, so a second resolution is offline and quick.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

from iotlab.core.errors import LabError
from iotlab.core.paths import lab_env_dir
from iotlab.core.versions import maven_properties
from iotlab.lab.prerequisites import require_maven

# service folder -> Maven profile in lab_env/pom.xml
MAVEN_PROFILES = {"kafka": "kafka", "cassandra": "cassandra", "flink": "flink-connectors"}
# Resolved only for the lab's optional profiles (`iotlab lab up --with monitoring`).
OPTIONAL_PROFILES = {"monitoring": "monitoring"}
STAMP_FILE = ".resolved"


def _stamp() -> str:
    return "\n".join(f"{key}={value}" for key, value in sorted(maven_properties().items()))


def is_resolved(jars_root: Path, service: str) -> bool:
    """True when the service's jars were resolved for the versions pinned now."""
    stamp = jars_root / service / STAMP_FILE
    return stamp.exists() and stamp.read_text() == _stamp()


def resolve(jars_root: Path, say: Callable[[str], None] = print, optional: tuple[str, ...] = ()) -> None:
    """Copy every service's runtime jars into its own folder, skipping those already up to date; also those of
    the ``optional`` profiles named (``monitoring``)."""
    profiles = {**MAVEN_PROFILES, **{name: OPTIONAL_PROFILES[name] for name in optional}}
    for service, profile in profiles.items():
        if is_resolved(jars_root, service):
            continue
        require_maven()
        target = jars_root / service
        say(f"Resolving {service} artifacts from Maven Central (cached in ~/.m2) ...")
        if target.exists():
            for old in target.glob("*.jar"):
                old.unlink()
        command = [
            "mvn", "-B", "-q", "-f", str(lab_env_dir() / "pom.xml"), "-P", profile,
            "dependency:copy-dependencies", f"-DoutputDirectory={target}",
        ] + [f"-D{key}={value}" for key, value in maven_properties().items()]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise LabError(
                f"Maven could not resolve the {service} artifacts",
                "check that Maven Central (repo.maven.apache.org) is reachable, then run `iotlab lab up` again",
                details=tail,
            )
        (target / STAMP_FILE).write_text(_stamp())


def classpath(jars_root: Path, service: str) -> str:
    """The service's classpath: every jar in its folder, sorted for a stable order."""
    jars = sorted((jars_root / service).glob("*.jar"))
    if not jars:
        raise LabError(f"no {service} jars in {jars_root / service}", "run `iotlab lab up` to resolve them")
    return ":".join(str(jar) for jar in jars)


def jar(jars_root: Path, service: str, artifact: str) -> Path:
    """The resolved jar of ``artifact`` (its artifactId) in the folder of ``service``."""
    found = sorted((jars_root / service).glob(f"{artifact}-*.jar"))
    if not found:
        raise LabError(f"no {artifact} jar in {jars_root / service}", "run `iotlab lab up` to resolve it")
    return found[-1]
