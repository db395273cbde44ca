"""``iotlab doctor``: is this machine ready for the course, and is the lab healthy?

Each check says OK or what is wrong, with the fix on the same line.
"""

from __future__ import annotations

import shutil
import socket
import sys
from dataclasses import dataclass
from typing import Callable

from iotlab.core.settings import load_settings
from iotlab.core.topology import node_host, node_numbers
from iotlab.core.versions import pinned
from iotlab.lab.health import PROBES
from iotlab.lab.prerequisites import java_major_version, lab_ports


@dataclass
class Check:
    name: str
    ok: bool
    found: str
    fix: str = ""


def _python_check() -> Check:
    found = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    ok = (3, 9) <= sys.version_info[:2] <= (3, 12)
    fix = "" if ok else "use Python 3.9-3.12 (conda: see environment.yml)"
    return Check("Python 3.9-3.12 (PyFlink's range)", ok, found, fix)


def _java_check() -> Check:
    major = java_major_version()
    ok = major == 17
    fix = "" if ok else "install OpenJDK 17 and put it first on PATH"
    return Check("Java 17", ok, str(major) if major else "not found", fix)


def _javac_check() -> Check:
    """The JDK's compiler: the SQL jobs' Java functions are compiled on first use (iotlab.flink.functions)."""
    path = shutil.which("javac")
    fix = "" if path else "install a JDK 17, not only a JRE (apt install openjdk-17-jdk-headless)"
    return Check("javac (JDK)", path is not None, path or "not found", fix)


def _maven_check() -> Check:
    path = shutil.which("mvn")
    return Check("Maven", path is not None, path or "not found", "" if path else "install Maven (apt install maven)")


def _pyflink_check() -> Check:
    from importlib.metadata import version

    expected = pinned()["FLINK_VERSION"]
    found = version("apache-flink")
    ok = found == expected
    return Check("PyFlink matches the lab's Flink", ok, found, "" if ok else f"pip install apache-flink=={expected}")


def _connector_check() -> Check:
    """The connector's suffix names the Flink minor it is built for (5.0.0-2.2 -> Flink 2.2)."""
    connector = pinned()["FLINK_KAFKA_CONNECTOR_VERSION"]
    flink_minor = ".".join(pinned()["FLINK_VERSION"].split(".")[:2])
    jars = load_settings().connector_jars()
    built_for = connector.rsplit("-", 1)[-1]
    if built_for != flink_minor:
        return Check("Kafka connector built for this Flink", False, connector,
                     f"pin a flink-sql-connector-kafka built for Flink {flink_minor} in lab_env/versions.env")
    if not jars:
        return Check("Kafka connector built for this Flink", False, "not resolved", "run `iotlab lab up`")
    ok = connector in jars[0].name
    fix = "" if ok else "run `iotlab lab up` to resolve it again"
    return Check("Kafka connector built for this Flink", ok, jars[0].name, fix)


def _ports_check() -> Check:
    """The lab's ports must be free, unless the lab itself holds them."""
    from iotlab.lab.health import port_open
    from iotlab.lab.native import NativeLab

    lab = NativeLab()
    if lab.running_services():
        return Check("lab ports free or held by the lab", True, f"held by the running lab ({lab.nodes} node(s))")
    taken = [f"{host}:{port} ({who})" for (host, port), who in lab_ports(lab.nodes).items() if port_open(host, port)]
    if taken:
        return Check("lab ports free or held by the lab", False, "taken: " + ", ".join(taken),
                     "stop what listens there (`ss -ltnp` shows it), or stop an old lab with `iotlab lab down`")
    return Check("lab ports free or held by the lab", True, "all free")


def loopback_addresses_usable(nodes: int = 3) -> list[str]:
    """The loopback addresses of a ``nodes``-node lab that this machine cannot bind (none on Linux, which routes
    all of 127.0.0.0/8 to the loopback interface; macOS has only 127.0.0.1 unless aliases are added)."""
    unusable = []
    for number in node_numbers(nodes):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((node_host(number), 0))
            except OSError:
                unusable.append(node_host(number))
    return unusable


def _loopback_check() -> Check:
    """The three-node lab listens on 127.0.0.1, .2 and .3."""
    unusable = loopback_addresses_usable(3)
    if unusable:
        return Check("loopback addresses for --nodes 3", False, "cannot bind " + ", ".join(unusable),
                     "add them to the loopback interface (macOS: `sudo ifconfig lo0 alias 127.0.0.2 up`, and .3), "
                     "or use the one-node lab")
    return Check("loopback addresses for --nodes 3", True, "127.0.0.1, 127.0.0.2, 127.0.0.3 usable")


def _service_checks() -> list[Check]:
    settings = load_settings()
    checks = []
    for service, probe in PROBES.items():
        result = probe(settings)
        fix = "" if result.healthy else (
            f"start the lab with `iotlab lab up`; if it is up, see `iotlab lab logs {service}`"
        )
        found = f"{result.version} {result.detail}".strip()
        checks.append(Check(f"{service} healthy ({settings.profile} profile)", result.healthy, found, fix))
    return checks


def run_checks() -> list[Check]:
    """Every check, machine first, then services."""
    machine = [_python_check(), _java_check(), _javac_check(), _maven_check(), _pyflink_check(), _connector_check(),
               _ports_check(), _loopback_check()]
    return machine + _service_checks()


def report_lines(checks: list[Check]) -> list[str]:
    width = max(len(check.name) for check in checks)
    lines = [f"{'check':<{width}}  ok    found"]
    for check in checks:
        mark = "OK  " if check.ok else "FAIL"
        line = f"{check.name:<{width}}  {mark}  {check.found}"
        if check.fix:
            line += f"\n{'':<{width}}        fix: {check.fix}"
        lines.append(line)
    return lines


def print_report(checks: list[Check], echo: Callable[[str], None] = print) -> None:
    for line in report_lines(checks):
        echo(line)
    failed = [check for check in checks if not check.ok]
    if failed:
        echo(f"{len(failed)} check(s) failed: apply the fixes above.")
    else:
        echo("All checks passed: the lab is ready.")
