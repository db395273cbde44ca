"""The hot detectors in Flink SQL: OVER aggregates that keep each device's detector state in the JVM.

Why: the Python detectors (``job``) handle about a thousand readings a second, each reading crossing to a Python
worker and back; the pipeline reads tens of thousands. Here each detector is a Java aggregate function
(``src/iotlab/flink/java/org/iotlab/flink/anomalies``) used as an OVER aggregate::

    SPIKE_ALERT(device_id, event_ms, 'humidity', humidity, <parameters>) OVER (
        PARTITION BY device_id ORDER BY event_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)

Spike, stuck and drift are called once per quantity (``QUANTITIES``), each with its own accumulator.

An OVER aggregate ordered by event time holds each row until the watermark passes it, then feeds the device's
rows to the function in event-time order; the function's accumulator (Flink keeps it in keyed state, so it is
checkpointed) is the detector's state, and its value for a row is the alert that row raised, or NULL. The Java
code is the Python detectors' rules with the same arithmetic, so both raise the same alerts (a test checks).
The parameters come from the Python detectors' defaults (``detectors``): one definition.

Offline is a session window per device (``silence_statement``): a session closes ``gap`` minutes after its last
reading. Its rows are candidates (the end of a bounded input closes every device's last session too), which
``silences.ConfirmSilences`` decides.

Input: the window job's ``parsed`` view (``iotlab.jobs.window_aggregate.sql``): every record with its event
time, parsed fields and reason. Result: the view ``detector_alerts`` (device_id, alert JSON).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from iotlab.core.offline import OFFLINE_GAP_MINUTES
from iotlab.jobs.anomalies.detectors import (
    ALL_QUANTITIES,
    QUANTITIES,
    DriftDetector,
    OutOfRangeDetector,
    SpikeDetector,
    StuckDetector,
)

SILENCE = "silence"  # the kind of an offline candidate, until a watermark decides it (``silences``)
ISO_MS = "'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''"  # SQL literal: the contract's timestamp with milliseconds
OVER_DEVICE = ("PARTITION BY device_id ORDER BY event_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW")


def _double(value: float) -> str:
    """A SQL DOUBLE literal (``30.0`` alone would be a DECIMAL)."""
    return f"CAST({float(value)!r} AS DOUBLE)"


def spike_call(spike: SpikeDetector, quantity: str) -> str:
    parameters = (spike.half_life_minutes, spike.threshold, spike.max_span_minutes, spike.warm_up_minutes,
                  spike.min_std)
    return f"SPIKE_ALERT(device_id, event_ms, '{quantity}', {quantity}, {', '.join(map(_double, parameters))})"


def stuck_call(stuck: StuckDetector, quantity: str) -> str:
    return f"STUCK_ALERT(device_id, event_ms, '{quantity}', {quantity}, {_double(stuck.min_minutes)})"


def drift_call(drift: DriftDetector, quantity: str) -> str:
    parameters = (drift.half_life_minutes, drift.slack, drift.limit, drift.clip, drift.warm_up_minutes,
                  drift.noise_std, drift.hold, drift.max_hold_minutes)
    return f"DRIFT_ALERT(device_id, event_ms, '{quantity}', {quantity}, {', '.join(map(_double, parameters))})"


def out_of_range_call(out_of_range: OutOfRangeDetector) -> str:
    return f"OUT_OF_RANGE_ALERT(device_id, event_ms, reason, {_double(out_of_range.join_minutes)})"


def detector_statements(spike: Optional[SpikeDetector] = None, stuck: Optional[StuckDetector] = None,
                        drift: Optional[DriftDetector] = None,
                        out_of_range: Optional[OutOfRangeDetector] = None) -> list[str]:
    """Views over ``parsed``: ``reading_alerts`` (one row per valid reading, a column per detector and quantity) and
    ``detector_alerts`` (device_id, alert): every alert raised, as JSON in the data contract's shape.

    Each detector's parameters are those of the given Python detector (its defaults when None)."""
    spike, stuck, drift = spike or SpikeDetector(), stuck or StuckDetector(), drift or DriftDetector()
    out_of_range = out_of_range or OutOfRangeDetector()
    calls = [(f"{kind}_{quantity}", call(detector, quantity)) for quantity in QUANTITIES
             for kind, call, detector in (("spike", spike_call, spike), ("stuck", stuck_call, stuck),
                                          ("drift", drift_call, drift))]
    columns = ",\n  ".join(f"{call} OVER w AS {name}" for name, call in calls)
    return [
        # ---- valid readings, per device in event-time order: spike, stuck and drift of each quantity
        f"""CREATE TEMPORARY VIEW reading_alerts AS
SELECT device_id,
  {columns}
FROM parsed
WHERE reason IS NULL
WINDOW w AS ({OVER_DEVICE})""",
        # ---- records refused for an impossible value that still name a device and a real time
        f"""CREATE TEMPORARY VIEW impossible_alerts AS
SELECT device_id, {out_of_range_call(out_of_range)} OVER ({OVER_DEVICE}) AS alert
FROM parsed
WHERE {IMPOSSIBLE_EVENT}""",
        f"""CREATE TEMPORARY VIEW detector_alerts AS
SELECT device_id, alert FROM reading_alerts
CROSS JOIN UNNEST(ARRAY[{', '.join(name for name, _ in calls)}]) AS raised(alert)
WHERE alert IS NOT NULL
UNION ALL
SELECT device_id, alert FROM impossible_alerts WHERE alert IS NOT NULL""",
    ]


def silence_statement(readings_view: str, gap_minutes: int = OFFLINE_GAP_MINUTES) -> str:
    """The view ``silence_candidates`` (device_id, alert): one offline alert per session of ``readings_view``
    (device_id, event_time) per device, raised at its last reading + gap. The course's rule counts a gap of
    exactly ``gap`` as a silence; Flink merges session windows that only touch, so this view does not (the
    course's data sets have no gap of exactly ``gap``: a known difference, to be fixed)."""
    return f"""CREATE TEMPORARY VIEW silence_candidates AS
SELECT device_id, JSON_OBJECT(
  KEY 'device_id' VALUE device_id, KEY 'kind' VALUE 'offline', KEY 'quantity' VALUE '{ALL_QUANTITIES}',
  KEY 'alert_at' VALUE DATE_FORMAT(window_end, {ISO_MS}),
  KEY 'start' VALUE DATE_FORMAT(MAX(event_time), {ISO_MS}), KEY 'end' VALUE DATE_FORMAT(window_end, {ISO_MS}),
  KEY 'score' VALUE CAST({gap_minutes} AS DOUBLE),
  KEY 'details' VALUE JSON('{{"gap_minutes": {float(gap_minutes)}}}')) AS alert
FROM TABLE(SESSION(TABLE {readings_view} PARTITION BY device_id, DESCRIPTOR(event_time),
                   INTERVAL '{gap_minutes}' MINUTE))
GROUP BY device_id, window_start, window_end"""


IMPOSSIBLE_EVENT = ("reason LIKE 'impossible_value%' AND reason NOT LIKE '%timestamp%' AND device_id IS NOT NULL "
                    "AND event_ms IS NOT NULL")  # a refused record the out-of-range detector takes


def detection_statements(gap_minutes: int = OFFLINE_GAP_MINUTES) -> list[str]:
    """The detectors alone (``iotlab detect``), over ``parsed``: the view ``detection_outputs`` (kind,
    device_id, row) with kind ``alert`` (row: its JSON), ``silence`` (an offline candidate, for
    ``silences.confirm_silences``), ``skipped`` (a bad record that is not an impossible value; row: the reason)
    and ``late`` (a valid reading behind the watermark, which the OVER aggregates drop)."""
    return detector_statements() + [
        "CREATE TEMPORARY VIEW valid_readings AS SELECT device_id, event_time FROM parsed WHERE reason IS NULL",
        silence_statement("valid_readings", gap_minutes),
        f"""CREATE TEMPORARY VIEW detection_outputs AS
SELECT 'alert' AS kind, device_id, alert AS `row` FROM detector_alerts
UNION ALL
SELECT '{SILENCE}' AS kind, device_id, alert AS `row` FROM silence_candidates
UNION ALL
SELECT 'skipped' AS kind, device_id, reason AS `row` FROM parsed WHERE reason IS NOT NULL AND NOT ({IMPOSSIBLE_EVENT})
UNION ALL
SELECT 'late' AS kind, device_id, CAST(event_ms AS STRING) AS `row` FROM parsed
WHERE reason IS NULL AND event_time <= CURRENT_WATERMARK(event_time)""",
    ]


def spike_sweep_statement(thresholds: list[float], spike: Optional[SpikeDetector] = None) -> str:
    """The view ``spike_sweep`` (device_id, alert): the spike detector at every one of ``thresholds`` at once,
    over ``parsed``: one OVER window, one aggregate per threshold, one pass over the data. Each alert's details
    say its threshold. For a precision-recall curve from one real run."""
    spike = spike or SpikeDetector()
    calls = [f"{spike_call(replace(spike, threshold=threshold), quantity)} OVER w AS t{number}_{quantity}"
             for number, threshold in enumerate(thresholds) for quantity in QUANTITIES]
    columns = ", ".join(f"t{number}_{quantity}" for number in range(len(thresholds)) for quantity in QUANTITIES)
    return f"""CREATE TEMPORARY VIEW spike_sweep AS
SELECT device_id, alert FROM (
  SELECT device_id, {', '.join(calls)}
  FROM parsed WHERE reason IS NULL
  WINDOW w AS ({OVER_DEVICE}))
CROSS JOIN UNNEST(ARRAY[{columns}]) AS raised(alert)
WHERE alert IS NOT NULL"""
