"""Keyed state and event-time timers: alert when a device has sent nothing for ``gap`` minutes.

Source: topic T of raw readings, from the earliest offset (bounded in a notebook cell, unbounded on the
session cluster) →
1. ``Validate`` (the same as the window job's): bad records to ``T.dlq`` with the reason;
2. event-time timestamps and a watermark with bounded out-of-orderness;
3. key by device → ``SilenceDetector`` (KeyedProcessFunction) with two kinds of keyed state:
   - ``pending`` (MapState event_ms → count): readings that arrived but whose time the watermark has not
     passed yet. A timer at each reading's time releases them **in event-time order**, so out-of-order
     arrivals are handled as if they had come in order;
   - ``last_seen`` (ValueState): the device's newest reading released so far. A reading at t also sets a
     timer at t + gap. When that timer fires and ``last_seen`` is still t, nothing came in between: the
     device has been silent for ``gap`` → one alert. (Timers of superseded readings find a newer
     ``last_seen`` and do nothing.)
   A reading whose time the watermark has already passed cannot be released in order: it is late and goes
   to ``T.late``, counted, never silently dropped.
→ alerts as JSON lines to ``T.alerts`` (key = device):
  ``{"device_id": ..., "silent_since": <last reading>, "alert_at": <silent_since + gap>}``.

Why the result does not depend on timing: a timer fires only once the watermark passes it, and with an
out-of-orderness larger than any reading's delay no reading is late, so every reading is released in
event-time order whatever moment the watermark happens to be emitted. The alerts are a pure function of
the data: ``iotlab.exercises.nb06.silences`` computes the same list in plain Python.

At the end of a bounded input Flink sends a final watermark at the end of time: every device's last
silence timer fires, so each device gets a last alert "silent since its final reading".
"""

from __future__ import annotations

import json
from typing import Optional

import pandas as pd
from pyflink.common import Duration, Row, Types, WatermarkStrategy
from pyflink.datastream import OutputTag, StreamExecutionEnvironment
from pyflink.datastream.functions import KeyedProcessFunction
from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor
from pyflink.table import StreamTableEnvironment

from iotlab.config import Settings, load_settings
from iotlab.contract import validate_reading
from iotlab.flink_env import stream_environment
from iotlab.jobs.window_aggregate_datastream import (
    DEAD_LETTER,
    READING_TYPE,
    SET_ASIDE_TYPE,
    EventTime,
    Validate,
    epoch_ms,
    iso,
)
from iotlab.jobs.window_aggregate_sql import (
    json_sink_statement,
    set_aside_sink_statement,
    source_statement,
)
from iotlab.jobs.window_aggregate_sql import output_topics as window_job_topics
from iotlab.kafka_clients import read_topic, recreate_topic
from iotlab.sensors import parse_timestamp

GAP_MINUTES = 10
OUT_OF_ORDERNESS_MINUTES = 30

ALERT_TYPE = Types.ROW_NAMED(["device_key", "device_id", "silent_since", "alert_at"],
                             [Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING()])
LATE = OutputTag("late", SET_ASIDE_TYPE)


def alerts_topic(topic: str) -> str:
    return f"{topic}.alerts"


def output_topics(topic: str) -> list[str]:
    """Where the job writes: alerts, and (named as by the window job) dead letters and late readings."""
    shared = window_job_topics(topic)
    return [alerts_topic(topic), shared.dead_letter, shared.late]


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
            headers = {"late.event_time": iso(reading.event_ms).encode(), "late.watermark": iso(watermark).encode()}
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
        if self.pending.contains(timestamp):  # readings at this moment: the device was heard from
            self.pending.remove(timestamp)
            self.last_seen.update(timestamp)
        last_seen = self.last_seen.value()
        if last_seen is not None and last_seen + self.gap_ms == timestamp:  # the newest reading is gap old
            device = ctx.get_current_key()
            yield Row(device_key=device, device_id=device, silent_since=iso(last_seen), alert_at=iso(timestamp))


def build(
    env: StreamExecutionEnvironment, topic: str, bounded: bool, gap_minutes: int = GAP_MINUTES,
    out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES, settings: Optional[Settings] = None,
) -> None:
    """Add the job (source, validation, detector, three sinks) to ``env``; run it with ``env.execute``."""
    settings = settings or load_settings()
    tables = StreamTableEnvironment.create(env)
    tables.execute_sql(source_statement(topic, settings, bounded=bounded, group_id="iotlab-silence"))
    alerts_out, dead_letters_out, late_out = output_topics(topic)
    tables.execute_sql(json_sink_statement("alert_sink", "device_id STRING, silent_since STRING, alert_at STRING",
                                           alerts_out, settings))
    tables.execute_sql(set_aside_sink_statement("dead_letter_sink", dead_letters_out, settings))
    tables.execute_sql(set_aside_sink_statement("late_sink", late_out, settings))

    raw = tables.to_data_stream(tables.from_path("raw_readings"))
    readings = raw.process(Validate(topic), output_type=READING_TYPE).name("validate").uid("validate")
    watermarks = (WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_minutes(out_of_orderness_minutes))
                  .with_timestamp_assigner(EventTime()))
    alerts = (readings.assign_timestamps_and_watermarks(watermarks)
              .key_by(lambda r: r.device_id, key_type=Types.STRING())
              .process(SilenceDetector(gap_minutes * 60_000), output_type=ALERT_TYPE)
              .name("silence detector").uid("silence-detector"))

    sinks = tables.create_statement_set()
    sinks.add_insert("alert_sink", tables.from_data_stream(alerts))
    sinks.add_insert("dead_letter_sink", tables.from_data_stream(readings.get_side_output(DEAD_LETTER)))
    sinks.add_insert("late_sink", tables.from_data_stream(alerts.get_side_output(LATE)))
    sinks.attach_as_datastream()


def prepare_topics(topic: str, settings: Optional[Settings] = None) -> None:
    """Empty output topics for a fresh run (one partition each: alerts keep their order)."""
    for name in output_topics(topic):
        recreate_topic(name, partitions=1, settings=settings)


def run(topic: str, gap_minutes: int = GAP_MINUTES, out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES,
        settings: Optional[Settings] = None) -> pd.DataFrame:
    """Run the job bounded, in this process, on fresh output topics; return the alerts."""
    prepare_topics(topic, settings)
    env = stream_environment(settings=settings)
    env.set_parallelism(1)
    build(env, topic, bounded=True, gap_minutes=gap_minutes, out_of_orderness_minutes=out_of_orderness_minutes,
          settings=settings)
    env.execute(f"silence alerts: {topic}")
    return read_alerts(topic, settings)


def submit(topic: str, savepoint_path: Optional[str] = None, gap_minutes: int = GAP_MINUTES,
           out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES, checkpoint_interval_ms: int = 2_000,
           settings: Optional[Settings] = None) -> str:
    """Start the job unbounded on the lab's session cluster (from a savepoint if given); return its job id."""
    options = {"execution.savepoint.path": savepoint_path} if savepoint_path else {}
    env = stream_environment(remote=True, settings=settings, checkpoint_interval_ms=checkpoint_interval_ms,
                             options=options)
    env.set_parallelism(1)
    build(env, topic, bounded=False, gap_minutes=gap_minutes, out_of_orderness_minutes=out_of_orderness_minutes,
          settings=settings)
    client = env.execute_async(f"silence alerts: {topic}")
    return str(client.get_job_id())


def read_alerts(topic: str, settings: Optional[Settings] = None) -> pd.DataFrame:
    """The alerts written so far, in the order written: device_id, silent_since, alert_at."""
    columns = ["device_id", "silent_since", "alert_at"]
    rows = [json.loads(message.value) for message in read_topic(alerts_topic(topic), settings)]
    return pd.DataFrame(rows, columns=columns)


def alert_tuples(alerts: pd.DataFrame) -> list[tuple[str, int, int]]:
    """Alerts as (device_id, silent_since_ms, alert_at_ms), sorted by alert time then device — the shape of
    ``iotlab.exercises.nb06.silences``, so the two can be compared with ``==``."""
    rows = ((row.device_id, epoch_ms(parse_timestamp(row.silent_since)), epoch_ms(parse_timestamp(row.alert_at)))
            for row in alerts.itertuples())
    return sorted(rows, key=lambda alert: (alert[2], alert[0]))


def valid_arrivals(lines: list[bytes]) -> list[tuple[str, int]]:
    """(device_id, event_ms) of each valid reading among ``lines``, in their order (bad ones left out)."""
    readings = (validate_reading(line)[0] for line in lines)
    return [(r["device_id"], epoch_ms(parse_timestamp(r["timestamp"]))) for r in readings if r is not None]
