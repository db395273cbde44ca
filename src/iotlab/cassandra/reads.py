"""Reading Cassandra query results into pandas."""

from __future__ import annotations

from typing import Optional

import pandas as pd
from cassandra.cluster import Session


def query_frame(session: Session, cql: str, parameters: Optional[tuple] = None):
    """Run a CQL query and return the rows as a pandas DataFrame."""
    result = session.execute(cql, parameters)
    return pd.DataFrame(list(result), columns=result.column_names)
