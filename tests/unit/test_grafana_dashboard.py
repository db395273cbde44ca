"""The compose lab's Grafana cannot run here: parse its provisioning (data source, dashboard provider, dashboard)
and check they fit together and the compose file's mount. The dashboard's queries run against the real node in
tests/integration/test_dashboard_queries.py."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

import yaml

from iotlab.cassandra.buckets import all_buckets
from iotlab.core.paths import lab_env_dir
from iotlab.core.versions import pinned

PROVISIONING = lab_env_dir() / "docker" / "grafana" / "provisioning"
COMPOSE = yaml.safe_load((lab_env_dir() / "docker-compose.yml").read_text())
SOURCES = {source["uid"]: source for path in sorted((PROVISIONING / "datasources").glob("*.yaml"))
           for source in yaml.safe_load(path.read_text())["datasources"]}
CASSANDRA = SOURCES["iotlab-cassandra"]
PROVIDERS = yaml.safe_load((PROVISIONING / "dashboards" / "dashboards.yaml").read_text())["providers"]
DASHBOARD_FILES = sorted((PROVISIONING / "dashboards").glob("*.json"))
DASHBOARDS = [json.loads(path.read_text()) for path in DASHBOARD_FILES]
# The dashboards whose panels send CQL (the Cassandra plugin), and those that send PromQL.
CQL_DASHBOARDS = [dashboard for dashboard in DASHBOARDS
                  if dashboard["panels"][0]["datasource"]["uid"] == CASSANDRA["uid"]]
PROMQL_DASHBOARDS = [dashboard for dashboard in DASHBOARDS if dashboard not in CQL_DASHBOARDS]


def provisioning_mount() -> tuple[Path, PurePosixPath]:
    """(host folder, container folder) of the volume that holds Grafana's provisioning."""
    for volume in COMPOSE["services"]["grafana"]["volumes"]:
        host, container, *_ = volume.split(":")
        if container == "/etc/grafana/provisioning":
            return (lab_env_dir() / host).resolve(), PurePosixPath(container)
    raise AssertionError("compose mounts no folder at /etc/grafana/provisioning")


def host_path(container_path: str) -> Path:
    """The host folder a path inside the Grafana container comes from, through the provisioning mount."""
    host, container = provisioning_mount()
    relative = PurePosixPath(container_path).relative_to(container)  # ValueError: outside the mount
    return host.joinpath(*relative.parts)


def test_the_mounted_folder_is_the_provisioning_folder():
    assert provisioning_mount()[0] == PROVISIONING.resolve()


def test_the_provider_reads_the_dashboards_folder_inside_the_mount():
    assert len(PROVIDERS) == 1
    provider = PROVIDERS[0]
    assert provider["type"] == "file"
    folder = host_path(provider["options"]["path"])
    assert folder == (PROVISIONING / "dashboards").resolve()
    assert folder.is_relative_to(PROVISIONING.resolve()) and DASHBOARD_FILES, "no dashboard JSON in the folder"


def test_every_panel_and_query_variable_uses_one_provisioned_source():
    """A panel that names another uid (or none) would show "data source not found" in the lab's Grafana."""
    for dashboard in DASHBOARDS:
        source = SOURCES[dashboard["panels"][0]["datasource"]["uid"]]
        expected = {"type": source["type"], "uid": source["uid"]}
        for panel in dashboard["panels"]:
            assert panel["datasource"] == expected, panel["title"]
            for target in panel["targets"]:
                assert target["datasource"] == expected, panel["title"]
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query":
                assert variable["datasource"] == expected, variable["name"]


def test_there_is_a_cql_dashboard_and_a_promql_dashboard():
    assert [dashboard["uid"] for dashboard in CQL_DASHBOARDS] == ["iotlab-pipeline"]
    assert [dashboard["uid"] for dashboard in PROMQL_DASHBOARDS] == ["iotlab-metrics"]


def test_the_prometheus_source_is_the_monitoring_files_prometheus():
    from iotlab.lab.monitoring import PROMETHEUS_PORT, SCRAPE_INTERVAL_S

    monitoring = yaml.safe_load((lab_env_dir() / "docker-compose.monitoring.yml").read_text())["services"]
    source = SOURCES["iotlab-prometheus"]
    assert source["type"] == "prometheus" and "prometheus" in monitoring
    assert source["url"] == f"http://prometheus:{PROMETHEUS_PORT}"
    # Grafana's $__rate_interval and its step never go below the scrape interval it is told
    assert source["jsonData"]["timeInterval"] == f"{SCRAPE_INTERVAL_S}s"


def test_promql_panels_name_an_expression_and_a_legend():
    for dashboard in PROMQL_DASHBOARDS:
        for panel in dashboard["panels"]:
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["expr"].strip() and "{{" in target["legendFormat"], panel["title"]


def test_panels_send_raw_cql_with_the_plugin_fields():
    """The plugin runs ``target`` as CQL when ``rawQuery`` is true (its query editor mode), for ``queryType``
    "query"; otherwise it builds a query from the configurator's fields, which these panels do not fill."""
    for dashboard in CQL_DASHBOARDS:
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                assert target["rawQuery"] is True and target["queryType"] == "query", panel["title"]
                assert target["target"].lstrip().upper().startswith("SELECT "), panel["title"]
                assert "ALLOW FILTERING" not in target["target"].upper(), panel["title"]


def test_time_bucketed_tables_are_read_for_the_dashboard_time_range():
    """Windows and alerts are kept per UTC day: a query without the time macros would read whole days."""
    for dashboard in CQL_DASHBOARDS:
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                if "windows_by_device_day" in target["target"] or "alerts_by_day" in target["target"]:
                    assert "$__timeFrom" in target["target"] and "$__timeTo" in target["target"], panel["title"]


def test_dashboards_have_unique_uids_and_panel_ids():
    assert len({dashboard["uid"] for dashboard in DASHBOARDS}) == len(DASHBOARDS)
    for dashboard in DASHBOARDS:
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(ids) == len(set(ids)), dashboard["title"]


def test_the_pinned_plugin_interpolates_variables_in_variable_queries():
    """The ``device`` variable's query names ``${keyspace}``; the plugin interpolates variables in variable
    queries from 3.2.0 on (its changelog, issue #182), so an older pin would query a keyspace called
    "${keyspace}"."""
    version = tuple(int(part) for part in pinned()["GRAFANA_CASSANDRA_PLUGIN_VERSION"].split("."))
    uses_variables = any("$" in variable["query"]["query"] for dashboard in CQL_DASHBOARDS
                         for variable in dashboard["templating"]["list"] if variable["type"] == "query")
    assert not uses_variables or version >= (3, 2, 0)


def test_device_bucketed_tables_are_read_in_every_bucket():
    """alerts_by_day and latest_reading_by_fleet split the fleet in device buckets: a panel that names fewer
    buckets than ``DEVICE_BUCKETS`` shows part of the fleet, silently."""
    queries = [target["target"] for dashboard in CQL_DASHBOARDS for panel in dashboard["panels"]
               for target in panel["targets"]]
    queries += [variable["query"]["query"] for dashboard in CQL_DASHBOARDS
                for variable in dashboard["templating"]["list"] if variable["type"] == "query"]
    bucketed = [query for query in queries if "alerts_by_day" in query or "latest_reading_by_fleet" in query]
    assert bucketed
    for query in bucketed:
        found = re.search(r"bucket IN \(([\d, ]+)\)", query)
        assert found, query
        assert [int(number) for number in found.group(1).split(",")] == all_buckets(), query
