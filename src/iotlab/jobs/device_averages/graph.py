"""The first taste of Flink: per-device averages over everything in a topic (a bounded batch job).

Transformation: GROUP BY device_id with count, average/min/max temperature and average humidity, over
a table of readings. ``run`` wires it to a Kafka topic (read from the earliest offset up to its current
end) and collects the result into a pandas DataFrame sorted by device.
"""

from __future__ import annotations

from typing import Optional

import pandas as pd
from pyflink.table import Table, TableEnvironment

from iotlab.core.settings import Settings
from iotlab.flink.environments import table_environment
from iotlab.flink.tables import readings_source_ddl

AVERAGES_SQL = """
SELECT device_id,
       COUNT(*)         AS readings,
       AVG(temperature) AS avg_temp,
       MIN(temperature) AS min_temp,
       MAX(temperature) AS max_temp,
       AVG(humidity)    AS avg_humidity
FROM readings
GROUP BY device_id
"""


def build_graph(env: TableEnvironment) -> Table:
    """The averages over the table ``readings`` (device_id, temperature, humidity, ...) registered in ``env``."""
    return env.sql_query(AVERAGES_SQL)


def to_frame(result: Table) -> pd.DataFrame:
    """The result as a DataFrame, one row per device, sorted by device_id."""
    return result.to_pandas().sort_values("device_id").reset_index(drop=True)


def device_averages(topic: str, remote: bool = False, settings: Optional[Settings] = None) -> pd.DataFrame:
    """Run the job on ``topic`` and return one row per device, sorted by device_id."""
    env = table_environment(batch=True, remote=remote, settings=settings)
    env.execute_sql(readings_source_ddl("readings", topic, bounded=True, settings=settings))
    return to_frame(build_graph(env))
