"""Reading Cassandra query results into pandas."""

from __future__ import annotations

from typing import Optional

import pandas as pd
from cassandra.cluster import Session


def query_frame(session: Session, cql: str, parameters: Optional[tuple] = None) -> pd.DataFrame:
    """Run a CQL query and return the rows as a pandas DataFrame, its timestamps UTC-aware.

    Cassandra stores a ``timestamp`` as milliseconds since the epoch, and cassandra-driver hands it back as a
    *naive* datetime in UTC. Everywhere else the course's times are UTC-aware, and pandas refuses to compare
    naive with aware times, so the timestamp columns are marked UTC here (the instants do not change)."""
    result = session.execute(cql, parameters)
    frame = pd.DataFrame(list(result), columns=result.column_names)
    for column in naive_time_columns(frame):
        frame[column] = frame[column].dt.tz_localize("UTC")
    return frame


def naive_time_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` that hold times without a time zone (what cassandra-driver returns)."""
    return [column for column in frame.columns
            if pd.api.types.is_datetime64_dtype(frame[column]) and frame[column].dt.tz is None]
