"""Anomaly detection per device (notebook 10): the detectors, the ground truth as spans, and honest scoring.

- ``detectors``: one small class per kind (spike, stuck, drift, offline, out_of_range), parameters in minutes;
- ``labels``: the simulator's labels as one span per anomalous episode;
- ``reference``: the detectors over a recorded stream, in plain Python (``iotlab detect``);
- ``evaluation``: event-level precision, recall and delay per kind, with baselines.
"""

from iotlab.jobs.anomalies import evaluation, labels, reference
from iotlab.jobs.anomalies.detectors import DeviceDetectors
from iotlab.jobs.anomalies.evaluation import score
from iotlab.jobs.anomalies.labels import KINDS, Span, labelled_spans, read_labels
from iotlab.jobs.anomalies.reference import detect

__all__ = ["DeviceDetectors", "KINDS", "Span", "detect", "evaluation", "labelled_spans", "labels", "read_labels",
           "reference", "score"]
