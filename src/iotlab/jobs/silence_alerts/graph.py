"""Keyed state and event-time timers: alert when a device has sent nothing for ``gap`` minutes.

The graph (``build_graph``), from a stream of raw records (topic T in the job: read from the earliest
offset, bounded in a notebook cell or unbounded on the session cluster, see ``runner``) →
1. ``Validate`` (the same as the window job's): bad records to ``T.dlq`` with the reason;
2. event-time timestamps and a watermark with bounded out-of-orderness;
3. key by device → ``SilenceDetector`` (KeyedProcessFunction) with two kinds of keyed state:
   - ``pending`` (MapState event_ms → count): readings that arrived but whose time the watermark has not
     passed yet. A timer at each reading's time releases them **in event-time order**, so out-of-order
     arrivals are handled as if they had come in order;
   - ``last_seen`` (ValueState): the device's newest reading released so far. A reading at t also sets a
     timer at t + gap. When that timer fires and ``last_seen`` is still t, nothing came in between: the
     device has been silent for ``gap`` → one alert (the course's offline rule, ``iotlab.core.offline``: a
     reading exactly at t + gap is released after the check, so a gap of exactly ``gap`` is a silence).
     Timers of superseded readings find a newer ``last_seen`` and do nothing.
   A reading whose time the watermark has already passed cannot be released in order: it is late and goes
   to ``T.late``, counted, never silently dropped.
→ alerts as JSON lines to ``T.alerts`` (key = device):
  ``{"device_id": ..., "silent_since": <last reading>, "alert_at": <silent_since + gap>}``.

Why the result does not depend on timing: a timer fires only once the watermark passes it, and with an
out-of-orderness larger than any reading's delay no reading is late, so every reading is released in
event-time order whatever moment the watermark happens to be emitted. The alerts are a pure function of
the data: ``reference.silences`` computes the same list in plain Python.

At the end of a bounded input Flink sends a final watermark at the end of time (``END_OF_INPUT``) and every
timer fires. That is the recording ending, not the devices going quiet: a silence timer fired by it alerts only
when a later reading of the device is still pending, which proves the gap. So a device that reported until the
end gets no last alert.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyflink.common import Duration, Row, Types, WatermarkStrategy
from pyflink.datastream import DataStream, OutputTag
from pyflink.datastream.functions import KeyedProcessFunction
from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

from iotlab.core.offline import END_OF_INPUT, OFFLINE_GAP_MINUTES
from iotlab.core.timestamps import MINUTE_MS, format_epoch_ms
from iotlab.flink.records import DEAD_LETTER, READING_TYPE, SET_ASIDE_TYPE, EventTime, Validate

SILENCE_OUT_OF_ORDERNESS_MINUTES = 30

ALERT_TYPE = Types.ROW_NAMED(["device_key", "device_id", "silent_since", "alert_at"],
                             [Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING()])
LATE = OutputTag("late", SET_ASIDE_TYPE)


class SilenceDetector(KeyedProcessFunction):
    """Per device: release readings in event-time order, and alert after ``gap_ms`` without a reading."""

    def __init__(self, gap_ms: int) -> None:
        self.gap_ms = gap_ms
        self.pending = None
        self.last_seen = None

    def open(self, runtime_context) -> None:
        self.pending = runtime_context.get_map_state(MapStateDescriptor("pending", Types.LONG(), Types.INT()))
        self.last_seen = runtime_context.get_state(ValueStateDescriptor("last_seen", Types.LONG()))

    def process_element(self, reading, ctx):
        watermark = ctx.timer_service().current_watermark()
        if reading.event_ms <= watermark:  # its moment has passed: it can no longer be put in order
            headers = {"late.event_time": format_epoch_ms(reading.event_ms).encode(),
                       "late.watermark": format_epoch_ms(watermark).encode()}
            yield LATE, Row(record_key=reading.record_key, raw=reading.raw, headers=headers)
            return
        already = self.pending.get(reading.event_ms) if self.pending.contains(reading.event_ms) else 0
        self.pending.put(reading.event_ms, already + 1)
        # Both timers are registered now, on arrival: a timer registered later, inside on_timer, could come
        # after the watermark has already jumped past it and fire out of order.
        ctx.timer_service().register_event_time_timer(reading.event_ms)  # release the reading
        ctx.timer_service().register_event_time_timer(reading.event_ms + self.gap_ms)  # silent since then?

    def on_timer(self, timestamp, ctx):
        # Timers fire in timestamp order, once the watermark has passed them: every reading up to
        # ``timestamp`` has arrived, and all earlier ones are already released.
        last_seen = self.last_seen.value()
        if last_seen is not None and last_seen + self.gap_ms == timestamp:  # the newest reading is gap old
            ended = ctx.timer_service().current_watermark() == END_OF_INPUT
            # At the end, only a later reading still pending proves the gap. (keys(), not is_empty(): PyFlink
            # 2.2's MapState.is_empty() can still answer False after the last key was removed in another call.)
            if not ended or list(self.pending.keys()):
                device = ctx.get_current_key()
                yield Row(device_key=device, device_id=device, silent_since=format_epoch_ms(last_seen),
                          alert_at=format_epoch_ms(timestamp))
        if self.pending.contains(timestamp):  # readings at this moment: the device was heard from
            self.pending.remove(timestamp)
            self.last_seen.update(timestamp)


@dataclass
class SilenceOutputs:
    """The graph's three results."""

    alerts: DataStream  # ALERT_TYPE
    dead_letters: DataStream  # SET_ASIDE_TYPE
    late: DataStream  # SET_ASIDE_TYPE


def build_graph(raw: DataStream, topic: str, gap_minutes: int = OFFLINE_GAP_MINUTES,
                out_of_orderness_minutes: int = SILENCE_OUT_OF_ORDERNESS_MINUTES) -> SilenceOutputs:
    """Validate, assign event time and watermarks, and detect silences per device.

    ``raw`` holds records in ``iotlab.flink.RAW_RECORD_TYPE``; ``topic`` names their source in the
    dead-letter headers.
    """
    readings = raw.process(Validate(topic), output_type=READING_TYPE).name("validate").uid("validate")
    watermarks = (WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_minutes(out_of_orderness_minutes))
                  .with_timestamp_assigner(EventTime()))
    alerts = (readings.assign_timestamps_and_watermarks(watermarks)
              .key_by(lambda r: r.device_id, key_type=Types.STRING())
              .process(SilenceDetector(gap_minutes * MINUTE_MS), output_type=ALERT_TYPE)
              .name("silence detector").uid("silence-detector"))
    return SilenceOutputs(alerts, readings.get_side_output(DEAD_LETTER), alerts.get_side_output(LATE))
