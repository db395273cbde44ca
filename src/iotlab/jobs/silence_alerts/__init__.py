"""Alert when a device has sent nothing for 10 minutes: keyed state and event-time timers (notebook 06).

``graph`` holds the detector and the job's graph, ``runner`` wires it to Kafka (bounded here, or unbounded on
the session cluster), ``reference`` computes the same alerts in plain Python.
"""

from iotlab.jobs.silence_alerts.graph import (
    ALERT_TYPE,
    SILENCE_OUT_OF_ORDERNESS_MINUTES,
    SilenceDetector,
    SilenceOutputs,
    build_graph,
)
from iotlab.jobs.silence_alerts.reference import alert_tuples, silences, valid_arrivals
from iotlab.jobs.silence_alerts.runner import build, output_topics, prepare_topics, read_alerts, run, submit

__all__ = [
    "ALERT_TYPE", "SILENCE_OUT_OF_ORDERNESS_MINUTES", "SilenceDetector", "SilenceOutputs",
    "alert_tuples", "build", "build_graph", "output_topics", "prepare_topics", "read_alerts", "run", "silences",
    "submit", "valid_arrivals",
]
