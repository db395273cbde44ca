"""The first taste of Flink: per-device averages over everything in a topic (a bounded batch job).

Source: a Kafka topic of readings (read from the earliest offset up to its current end).
Transformation: GROUP BY device_id with count, average/min/max temperature and average humidity.
Sink: collected into a pandas DataFrame, sorted by device.
"""

from __future__ import annotations

from typing import Optional

import pandas as pd

from iotlab.config import Settings
from iotlab.flink_env import table_environment
from iotlab.jobs.kafka_tables import readings_source_ddl

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


def device_averages(topic: str, remote: bool = False, settings: Optional[Settings] = None) -> pd.DataFrame:
    """Run the job on ``topic`` and return one row per device, sorted by device_id."""
    env = table_environment(batch=True, remote=remote, settings=settings)
    env.execute_sql(readings_source_ddl("readings", topic, bounded=True, settings=settings))
    result = env.sql_query(AVERAGES_SQL).to_pandas()
    return result.sort_values("device_id").reset_index(drop=True)
