"""The detectors in Flink: keyed state and event-time timers per device (``iotlab detect``).

The graph (``build_graph``), from raw records (``RAW_RECORD_TYPE``) →
1. ``ToEvent``: a valid reading, or a record refused for an impossible value that still names a device and a
   time (the out-of-range detector's input); every other bad record is only counted (the pipeline
   dead-letters them);
2. event time and a watermark of bounded out-of-orderness, from the source: one per Kafka partition, the
   minimum over them downstream (``runner`` reads the topic through the SQL table of the window job, whose
   ``WATERMARK`` clause does that);
3. key by device → ``DetectAnomalies`` (KeyedProcessFunction):
   - ``pending`` (MapState event_ms → events): what arrived but is not released yet. A timer at each event's
     time releases it **in event-time order** once the watermark passes it, into
   - ``detectors`` (ValueState, pickled): the device's ``DeviceDetectors`` (their EWMA baselines, CUSUM sums,
     open spans), which raise the alerts;
   - a timer at last reading + gap raises "offline" while the device stays silent, unless the watermark that
     fired it is the end of a bounded input (``Long.MAX_VALUE``): the end of a recording is not a silence.
   An event whose time the watermark has already passed is late: counted in the ``late`` side output.
→ alerts as JSON (the data contract's shape).

With an out-of-orderness bound larger than the stream's disorder nothing is late and the alerts equal
``reference.detect`` exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from pyflink.common import Duration, Row, Types, WatermarkStrategy
from pyflink.datastream import DataStream, OutputTag
from pyflink.datastream.functions import KeyedProcessFunction, ProcessFunction
from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

from iotlab.core.contract import validate_reading
from iotlab.core.offline import END_OF_INPUT
from iotlab.core.timestamps import timestamp_ms
from iotlab.flink.records import EventTime
from iotlab.jobs.anomalies.detectors import DeviceDetectors
from iotlab.jobs.anomalies.reference import impossible_event

DETECTOR_OUT_OF_ORDERNESS_MINUTES = 35  # above the course datasets' disorder (29 minutes on the anomaly day)

EVENT_TYPE = Types.ROW_NAMED(["device_id", "event_ms", "temperature", "humidity", "reason"],
                             [Types.STRING(), Types.LONG(), Types.DOUBLE(), Types.DOUBLE(), Types.STRING()])
SKIPPED = OutputTag("skipped", Types.STRING())  # bad records (not an impossible value): their reason
LATE = OutputTag("late", Types.LONG())  # events behind the watermark: their event time


class ToEvent(ProcessFunction):
    """Raw bytes → an event: a valid reading (reason None), or an impossible value (reason set)."""

    def process_element(self, row, ctx):
        reading, reason = validate_reading(row.raw or b"")
        if reading is not None:
            yield Row(device_id=reading["device_id"], event_ms=timestamp_ms(reading["timestamp"]),
                      temperature=float(reading["temperature"]), humidity=float(reading["humidity"]), reason=None)
            return
        found = impossible_event(row.raw or b"", reason)
        if found is None:
            yield SKIPPED, reason
            return
        yield Row(device_id=found[0], event_ms=found[1], temperature=None, humidity=None, reason=reason)


class DetectAnomalies(KeyedProcessFunction):
    """Per device: release events in event-time order into the device's detectors; raise silences on timers."""

    def __init__(self, make_detectors=DeviceDetectors) -> None:
        self.make_detectors = make_detectors
        self.pending = None
        self.detectors = None
        self.last_reading = None

    def open(self, runtime_context) -> None:
        self.pending = runtime_context.get_map_state(
            MapStateDescriptor("pending", Types.LONG(), Types.PICKLED_BYTE_ARRAY()))
        self.detectors = runtime_context.get_state(ValueStateDescriptor("detectors", Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, event, ctx):
        if event.event_ms <= ctx.timer_service().current_watermark():  # its moment has passed: late
            yield LATE, event.event_ms
            return
        waiting = self.pending.get(event.event_ms) if self.pending.contains(event.event_ms) else []
        if event.reason is None and any(e[3] is None for e in waiting):
            return  # a duplicate reading of a moment already waiting: the batch reference skips it too
        self.pending.put(event.event_ms, waiting + [(event.device_id, event.temperature, event.humidity,
                                                     event.reason)])
        ctx.timer_service().register_event_time_timer(event.event_ms)

    def on_timer(self, timestamp, ctx):
        detectors: Optional[DeviceDetectors] = self.detectors.value() or self.make_detectors()
        device = ctx.get_current_key()
        alerts = []
        if self.pending.contains(timestamp):
            for _, temperature, humidity, reason in self.pending.get(timestamp):
                if reason is None:
                    if detectors.offline.last_ms is not None and timestamp <= detectors.offline.last_ms:
                        continue  # a duplicate of a moment already released
                    alerts += detectors.reading(device, timestamp, temperature, humidity)
                    ctx.timer_service().register_event_time_timer(timestamp + detectors.offline.gap_ms)
                else:
                    alerts += detectors.impossible(device, timestamp, reason)
            self.pending.remove(timestamp)
        if ctx.timer_service().current_watermark() != END_OF_INPUT:
            alerts += detectors.timer(device, timestamp)
        self.detectors.update(detectors)
        for alert in alerts:
            yield json.dumps(alert, sort_keys=True)


@dataclass
class DetectionOutputs:
    """The graph's results. (PyFlink routes a yielded ``(tag, value)`` to a side output only once that side
    output is asked for: these fields ask for both.)"""

    alerts: DataStream  # JSON strings
    skipped: DataStream  # reasons of bad records that are not impossible values
    late: DataStream  # event times of events behind the watermark


def build_graph(raw: DataStream, out_of_orderness_minutes: Optional[int] = None) -> DetectionOutputs:
    """Raw records → alerts, plus what was skipped and what came late.

    A Kafka source should assign event time and watermarks itself, per partition (the job's table does:
    ``runner``); leave ``out_of_orderness_minutes`` None then. Watermarks assigned after the source, by this
    graph when given a bound, are one per source subtask over all the partitions it reads, interleaved as
    they come: right for a collection or a one-partition topic only.
    """
    to_events = raw.process(ToEvent(), output_type=EVENT_TYPE).name("to events").uid("to-events")
    skipped = to_events.get_side_output(SKIPPED)
    events = to_events
    if out_of_orderness_minutes is not None:
        events = to_events.assign_timestamps_and_watermarks(
            WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_minutes(out_of_orderness_minutes))
            .with_timestamp_assigner(EventTime()))
    alerts = (events.key_by(lambda event: event.device_id, key_type=Types.STRING())
              .process(DetectAnomalies(), output_type=Types.STRING())
              .name("anomaly detectors").uid("anomaly-detectors"))
    return DetectionOutputs(alerts, skipped, alerts.get_side_output(LATE))
