"""The Grafana dashboard's CQL (``lab_env/docker/grafana/provisioning/dashboards/iotlab-pipeline.json``), turned
into the statements the Cassandra data source plugin sends.

A panel's query is CQL with Grafana's placeholders: ``${name}`` (or ``$name``) for a dashboard variable, and the
plugin's time macros ``$__timeFrom`` / ``$__timeTo``: the panel's time range in epoch milliseconds (the plugin's
``buildQueryParameters`` sets them from ``range.from`` / ``range.to``), which a CQL ``timestamp`` accepts as an
integer literal. ``render_query`` replaces them as the plugin does, so a panel's query can be run and checked on
the node from Python (``tests/integration/test_dashboard_queries.py`` does the same for the dashboard's panels).
"""

from __future__ import annotations

import json
import re

from iotlab.core.paths import lab_env_dir
from iotlab.core.timestamps import Moment, epoch_ms

DASHBOARD_FILE = lab_env_dir() / "docker" / "grafana" / "provisioning" / "dashboards" / "iotlab-pipeline.json"
PLACEHOLDER = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def load_dashboard() -> dict:
    """The provisioned dashboard, as Grafana reads it."""
    return json.loads(DASHBOARD_FILE.read_text())


def render_query(cql: str, variables: dict[str, str], start: Moment, end: Moment) -> str:
    """The query as the plugin sends it for the time range [start, end): macros and variables replaced.

    A placeholder that is neither a macro nor one of ``variables`` raises KeyError: a typo in a variable
    must fail here, not show an empty panel in Grafana."""
    values = {"__timeFrom": str(epoch_ms(start)), "__timeTo": str(epoch_ms(end)), **variables}
    return PLACEHOLDER.sub(lambda match: values[match.group(1) or match.group(2)], cql)
