"""Anomaly detection per device (notebook 10): the detectors, the ground truth as spans, and honest scoring.

- ``detectors``: one small class per kind (spike, stuck, drift, offline, out_of_range), parameters in minutes;
- ``labels``: the simulator's labels as one span per anomalous episode;
- ``reference``: the detectors over a recorded stream, in plain Python (``iotlab detect``);
- ``evaluation``: event-level precision, recall and delay per kind, with baselines.
"""

from iotlab.jobs.anomalies import evaluation, labels, reference, sql
from iotlab.jobs.anomalies.detectors import DeviceDetectors, Ewma
from iotlab.jobs.anomalies.evaluation import TOLERANCE_MINUTES, score
from iotlab.jobs.anomalies.labels import KINDS, Span, labelled_spans, read_labels
from iotlab.jobs.anomalies.reference import detect
from iotlab.jobs.anomalies.runner import detect_topic, spike_alerts_by_threshold

__all__ = ["DeviceDetectors", "Ewma", "KINDS", "Span", "TOLERANCE_MINUTES", "detect", "detect_topic", "evaluation",
           "labelled_spans", "labels", "read_labels", "reference", "score", "spike_alerts_by_threshold", "sql"]
