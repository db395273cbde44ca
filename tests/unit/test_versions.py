"""Versions are pinned once (lab_env/versions.env); everything else must agree with it."""

import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.9 and 3.10
    import tomli as tomllib

import yaml

from iotlab.core.paths import lab_env_dir, project_root
from iotlab.core.versions import maven_properties, pinned

ROOT = project_root()


def test_versions_file_pins_what_the_course_needs():
    versions = pinned()
    assert re.fullmatch(r"2\.2\.\d+", versions["FLINK_VERSION"])
    assert re.fullmatch(r"4\.[12]\.\d+", versions["KAFKA_VERSION"])
    major, minor, patch = map(int, versions["CASSANDRA_VERSION"].split("."))
    assert (major, minor) == (5, 0) and patch >= 5, "Cassandra 5.0.5+ is needed on Java 17"
    for key, value in versions.items():
        assert value and value.lower() != "latest", f"{key} must be a fixed version"


def test_kafka_connector_is_built_for_the_pinned_flink():
    versions = pinned()
    flink_minor = ".".join(versions["FLINK_VERSION"].split(".")[:2])
    assert versions["FLINK_KAFKA_CONNECTOR_VERSION"].endswith("-" + flink_minor)


def test_pyproject_pins_pyflink_to_the_lab_flink():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"apache-flink=={pinned()['FLINK_VERSION']}" in project["dependencies"]
    assert project["requires-python"] == ">=3.9,<3.13"


def test_constraints_agree_with_pyproject_and_versions():
    constraints = dict(
        line.split("==") for line in (ROOT / "constraints-py311.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert constraints["apache-flink"] == pinned()["FLINK_VERSION"]
    assert constraints["apache-flink-libraries"] == pinned()["FLINK_VERSION"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    def normalized(name: str) -> str:  # PEP 503: pip freeze writes prometheus_client for prometheus-client
        return re.sub(r"[-_.]+", "-", name).lower()

    required = [normalized(re.split(r"[<>=!;\[ ]", dep, maxsplit=1)[0]) for dep in project["dependencies"]]
    lowered = {normalized(name) for name in constraints}
    missing = [name for name in required if name not in lowered]
    assert not missing, f"constraints-py311.txt lacks {missing}: regenerate it"


def test_environment_yml_matches_the_project():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    dependencies = environment["dependencies"]
    assert f"python={pinned()['PYTHON_VERSION']}" in dependencies
    assert "openjdk=17" in dependencies and "maven" in dependencies
    pip_section = next(d for d in dependencies if isinstance(d, dict))["pip"]
    assert '-e ".[dev]"' in pip_section, "conda users install the same package and extras as pip users"


def test_pom_takes_every_version_as_a_property():
    pom = (lab_env_dir() / "pom.xml").read_text()
    for profile in ("kafka", "cassandra", "flink-connectors"):
        assert f"<id>{profile}</id>" in pom
    used = set(re.findall(r"<version>\$\{([a-z0-9.]+)\}</version>", pom))
    assert used == set(maven_properties()), "the pom must read exactly the versions iotlab passes"
    assert not re.search(r"<artifactId>(kafka_2.13|cassandra-all|flink-sql-connector-kafka)</artifactId>\s*"
                         r"<version>\d", pom), "service versions belong in versions.env, not the pom"


def test_readme_states_the_pinned_versions():
    readme = (ROOT / "README.md").read_text()
    versions = pinned()
    for key in ("FLINK_VERSION", "KAFKA_VERSION", "CASSANDRA_VERSION", "FLINK_KAFKA_CONNECTOR_VERSION"):
        assert versions[key] in readme, f"README does not mention {key}={versions[key]}"
