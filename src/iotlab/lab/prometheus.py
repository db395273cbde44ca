"""PromQL from Python: the lab's Prometheus (`iotlab lab up --with monitoring`) answers as pandas tables.

Two kinds of query, as Prometheus's HTTP API has them:
- ``instant(promql)``: the value of each series now, one row per series (its labels as columns, then ``value``);
- ``series(promql, minutes)``: each series over the last minutes, one column per series, indexed by time, ready to
  ``.plot()``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Optional

import requests

from iotlab.core.errors import LabError
from iotlab.lab.monitoring import PROMETHEUS_URL, SCRAPE_INTERVAL_S

if TYPE_CHECKING:
    import pandas as pd


def _ask(path: str, params: dict[str, str], url: str) -> dict:
    """Prometheus's ``data`` for a query; a LabError that says why when it cannot answer."""
    try:
        answer = requests.get(f"{url}/api/v1/{path}", params=params, timeout=30)
    except requests.RequestException as error:
        raise LabError(f"Prometheus is not answering at {url} ({type(error).__name__})",
                       "start the lab with its monitoring profile: `iotlab lab up --with monitoring`") from error
    body = answer.json()
    if body.get("status") != "success":
        raise LabError(f"Prometheus refused the query {params['query']!r}: {body.get('error', answer.text)}",
                       "check the PromQL (try it at http://127.0.0.1:9090/graph)")
    return body["data"]


def instant(promql: str, url: str = PROMETHEUS_URL, at: Optional[float] = None) -> pd.DataFrame:
    """Each series of ``promql`` now (or at the epoch second ``at``: two queries asked at one ``at`` see the same
    samples): a row per series, a column per label (``__name__`` as ``metric``) and ``value``. Empty (with a
    ``value`` column) when nothing matches."""
    import pandas as pd  # here, not at the top: every `iotlab` command imports the lab room, few ask Prometheus

    rows = []
    params = {"query": promql} if at is None else {"query": promql, "time": str(at)}
    for result in _ask("query", params, url)["result"]:
        labels = {("metric" if key == "__name__" else key): value for key, value in result["metric"].items()}
        rows.append({**labels, "value": float(result["value"][1])})
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=["value"])


def series(promql: str, minutes: float = 5, step_s: Optional[float] = None, url: str = PROMETHEUS_URL,
           label: Optional[str] = None) -> pd.DataFrame:
    """Each series of ``promql`` over the last ``minutes``, sampled every ``step_s`` seconds (the scrape interval
    by default): a column per series, named by its ``label`` value (or all its labels), indexed by UTC time."""
    import pandas as pd  # as in instant()

    end = time.time()
    params = {"query": promql, "start": str(end - minutes * 60), "end": str(end),
              "step": str(step_s or SCRAPE_INTERVAL_S)}
    columns = {}
    for result in _ask("query_range", params, url)["result"]:
        labels = result["metric"]
        name = labels.get(label, "") if label else ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        times = pd.to_datetime([float(at) for at, _ in result["values"]], unit="s", utc=True)
        columns[name or promql] = pd.Series([float(value) for _, value in result["values"]], index=times)
    return pd.DataFrame(columns)
