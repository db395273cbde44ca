"""The provisioned Grafana dashboard's CQL against the lab's real Cassandra node.

The compose lab's Grafana cannot run here, so this test does what the Cassandra data source plugin does before
it sends a query: it puts the dashboard's time range and variables into each query (``$__timeFrom`` and
``$__timeTo`` as epoch milliseconds, ``$__unixEpochFrom`` and ``$__unixEpochTo`` as epoch seconds, ``${name}``
as the variable's value), then runs the query on the node. A query Cassandra refuses (a partition key left
open, a bad literal, a function that does not exist) or one that finds nothing in data that covers the
dashboard's time range fails the test.
"""

from __future__ import annotations

import json
import re
from typing import Iterator

import pytest
from cassandra.cluster import Session
from cassandra.query import SimpleStatement

from iotlab.cassandra import cassandra_session
from iotlab.core.paths import lab_env_dir
from iotlab.core.timestamps import parse_timestamp

pytestmark = pytest.mark.integration

DASHBOARD_FILE = lab_env_dir() / "docker" / "grafana" / "provisioning" / "dashboards" / "iotlab-pipeline.json"
DASHBOARD = json.loads(DASHBOARD_FILE.read_text())
def panel_queries() -> list[tuple[str, str]]:
    """``(what, cql)`` for every panel target and every query variable of the dashboard."""
    queries = [(panel["title"], target["target"]) for panel in DASHBOARD["panels"] for target in panel["targets"]]
    queries += [(f"variable {variable['name']}", variable["query"]["query"])
                for variable in DASHBOARD["templating"]["list"] if variable["type"] == "query"]
    return queries


def epoch_ms(text: str) -> int:
    """Milliseconds since the epoch of an RFC 3339 time (the dashboard's absolute time range)."""
    return int(parse_timestamp(text).timestamp() * 1000)


def render(cql: str, variables: dict[str, str], start_ms: int, end_ms: int) -> str:
    """The query as the plugin sends it: macros and ``$name`` / ``${name}`` variables replaced by values.

    The plugin replaces ``$__timeFrom``/``$__timeTo`` with the range in epoch milliseconds (a CQL timestamp
    accepts an integer literal) and ``$__unixEpochFrom``/``$__unixEpochTo`` with epoch seconds. A name this
    dashboard does not define raises KeyError: a typo in a variable must fail here, not in Grafana.
    """
    values = {"__timeFrom": str(start_ms), "__timeTo": str(end_ms),
              "__unixEpochFrom": str(start_ms // 1000), "__unixEpochTo": str(end_ms // 1000), **variables}
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda match: values[match.group(1) or match.group(2)], cql)


@pytest.fixture(scope="module")
def cql_session(lab_settings) -> Iterator[Session]:
    session = cassandra_session(lab_settings)
    yield session
    session.cluster.shutdown()


@pytest.fixture(scope="module")
def dashboard_keyspace(anomaly_day_pipeline) -> str:
    """The keyspace a real pipeline run wrote: the anomaly day (it covers the dashboard's default time range
    and crosses midnight, so the queries must read two day buckets) through Kafka, Flink and Cassandra."""
    return anomaly_day_pipeline.keyspace


@pytest.fixture(scope="module")
def dashboard_variables(dashboard_keyspace: str) -> dict[str, str]:
    """The dashboard's variables at their saved values, the keyspace pointed at the test's data."""
    variables = {variable["name"]: variable["current"]["value"] for variable in DASHBOARD["templating"]["list"]}
    return {**variables, "keyspace": dashboard_keyspace}


def partition_key(session: Session, keyspace: str, table: str) -> list[str]:
    """The table's partition key columns, read from the node's schema."""
    rows = session.execute("SELECT column_name, kind FROM system_schema.columns WHERE keyspace_name = %s "
                           "AND table_name = %s", (keyspace, table))
    return [row.column_name for row in rows if row.kind == "partition_key"]


@pytest.mark.parametrize("what,cql", panel_queries(), ids=[what for what, _ in panel_queries()])
def test_dashboard_query_runs_and_finds_rows(cql_session: Session, dashboard_variables: dict[str, str],
                                             what: str, cql: str) -> None:
    start_ms, end_ms = epoch_ms(DASHBOARD["time"]["from"]), epoch_ms(DASHBOARD["time"]["to"])
    statement = render(cql, dashboard_variables, start_ms, end_ms)
    assert "ALLOW FILTERING" not in statement.upper(), f"{what}: a dashboard query must read whole partitions"
    keyspace, table = re.search(r"\bFROM\s+(\w+)\.(\w+)", statement).groups()
    where = statement.split(" WHERE ", 1)[1]
    for column in partition_key(cql_session, keyspace, table):  # a full scan is legal CQL: refuse it here
        assert re.search(rf"\b{column}\s*(=|IN\b)", where), f"{what}: partition key {column} is not restricted"
    rows = list(cql_session.execute(SimpleStatement(statement, fetch_size=1000), timeout=30))
    print(f"{what}: {len(rows)} rows")
    assert rows, f"{what} found no row in {keyspace} for {DASHBOARD['time']}:\n{statement}"


def test_the_device_variable_offers_its_saved_value(cql_session: Session, dashboard_variables: dict[str, str]) -> None:
    """Grafana keeps a query variable's saved value only while the query still returns it."""
    variable = next(v for v in DASHBOARD["templating"]["list"] if v["name"] == "device")
    statement = render(variable["query"]["query"], dashboard_variables, 0, 0)
    devices = {row.device_id for row in cql_session.execute(statement)}
    assert dashboard_variables["device"] in devices
