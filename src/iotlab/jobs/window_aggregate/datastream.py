"""The bounded window-aggregate job with the DataStream API: the same results as the SQL job (``sql``),
built from Python functions so every step is visible.

The graph (``build_graph``), from a stream of raw records (original key and bytes, partition, offset):
1. ``Validate`` (ProcessFunction, ``iotlab.flink``): the Python contract; bad records to a side output;
2. ``MarkLate`` (KeyedProcessFunction, keyed by device): keeps the device's newest event time in keyed
   state and applies the course's per-device lateness rule (``iotlab.core.is_late_for_device``);
   late readings → side output;
3. event-time timestamps, key by device, 5-minute tumbling windows, ``WindowStats`` (AggregateFunction)
   plus ``WindowRow`` (ProcessWindowFunction) for the window's bounds.
``run`` wires it to Kafka: the same source table and three sinks as the SQL job.

Every Python operator declares its output type, as PyFlink's examples do: faster serialisation, and a
wrong field fails at build time instead of mid-stream. The job ends when the bounded source does; the
end of input fires every window, so no reading is dropped by Flink's own watermark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pyflink.common import Row, Time, Types, WatermarkStrategy
from pyflink.datastream import DataStream, OutputTag
from pyflink.datastream.functions import AggregateFunction, KeyedProcessFunction, ProcessWindowFunction
from pyflink.datastream.state import ValueStateDescriptor
from pyflink.datastream.window import TumblingEventTimeWindows
from pyflink.table import StreamTableEnvironment

from iotlab.core.settings import Settings, load_settings
from iotlab.core.timestamps import format_epoch_ms
from iotlab.core.windows import WINDOW_MINUTES, is_late_for_device, window_end_ms
from iotlab.flink.environments import stream_environment
from iotlab.flink.records import DEAD_LETTER, READING_TYPE, SET_ASIDE_TYPE, EventTime, Validate
from iotlab.flink.tables import RAW_SOURCE_TABLE, raw_source_statement
from iotlab.jobs.window_aggregate.sql import sink_statements

WINDOW_TYPE = Types.ROW_NAMED(
    ["device_key", "device_id", "window_start", "window_end", "count", "avg_temp", "min_temp", "max_temp",
     "avg_humidity"],
    [Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(), Types.LONG(), Types.DOUBLE(), Types.DOUBLE(),
     Types.DOUBLE(), Types.DOUBLE()])

LATE = OutputTag("late", SET_ASIDE_TYPE)


class MarkLate(KeyedProcessFunction):
    """Per device: remember the newest event time; set aside readings whose window closed long before it."""

    def __init__(self, allowed_lateness_ms: int) -> None:
        self.allowed_lateness_ms = allowed_lateness_ms
        self.newest = None

    def open(self, runtime_context) -> None:
        self.newest = runtime_context.get_state(ValueStateDescriptor("newest_event_ms", Types.LONG()))

    def process_element(self, reading, ctx):
        newest = max(self.newest.value() or reading.event_ms, reading.event_ms)
        self.newest.update(newest)
        if is_late_for_device(reading.event_ms, newest, self.allowed_lateness_ms):
            headers = {"late.window_end": format_epoch_ms(window_end_ms(reading.event_ms)).encode(),
                       "late.device_newest": format_epoch_ms(newest).encode()}
            yield LATE, Row(record_key=reading.record_key, raw=reading.raw, headers=headers)
        else:
            yield reading


class WindowStats(AggregateFunction):
    """Accumulator: [count, sum of temperature, min, max, sum of humidity]."""

    def create_accumulator(self):
        return [0, 0.0, float("inf"), float("-inf"), 0.0]

    def add(self, reading, acc):
        return [acc[0] + 1, acc[1] + reading.temperature, min(acc[2], reading.temperature),
                max(acc[3], reading.temperature), acc[4] + reading.humidity]

    def get_result(self, acc):
        return acc

    def merge(self, a, b):
        return [a[0] + b[0], a[1] + b[1], min(a[2], b[2]), max(a[3], b[3]), a[4] + b[4]]


class WindowRow(ProcessWindowFunction):
    """The window's statistics plus its bounds, in the window topic's shape."""

    def process(self, device_id, context, accumulators):
        count, temperature_sum, low, high, humidity_sum = next(iter(accumulators))
        count = int(count)  # the accumulator travels as a list of doubles
        window = context.window()
        yield Row(device_key=device_id, device_id=device_id, window_start=format_epoch_ms(window.start),
                  window_end=format_epoch_ms(window.end), count=count, avg_temp=temperature_sum / count,
                  min_temp=low, max_temp=high, avg_humidity=humidity_sum / count)


@dataclass
class WindowOutputs:
    """The graph's three results."""

    windows: DataStream  # WINDOW_TYPE
    dead_letters: DataStream  # SET_ASIDE_TYPE
    late: DataStream  # SET_ASIDE_TYPE


def build_graph(raw: DataStream, topic: str, allowed_lateness_minutes: int = 10) -> WindowOutputs:
    """Validate, set late readings aside, and aggregate 5-minute windows per device.

    ``raw`` holds records in ``iotlab.flink.RAW_RECORD_TYPE`` (from Kafka in the job, from a collection in
    the unit tests); ``topic`` names their source in the dead-letter headers.
    """
    readings = raw.process(Validate(topic), output_type=READING_TYPE).name("validate")
    on_time = (readings.key_by(lambda r: r.device_id, key_type=Types.STRING())
               .process(MarkLate(allowed_lateness_minutes * 60_000), output_type=READING_TYPE).name("mark late"))
    windows = (on_time
               .assign_timestamps_and_watermarks(
                   WatermarkStrategy.no_watermarks().with_timestamp_assigner(EventTime()))
               .key_by(lambda r: r.device_id, key_type=Types.STRING())
               .window(TumblingEventTimeWindows.of(Time.minutes(WINDOW_MINUTES)))
               .aggregate(WindowStats(), WindowRow(),
                          accumulator_type=Types.LIST(Types.DOUBLE()), output_type=WINDOW_TYPE)
               .name("5-minute windows"))
    return WindowOutputs(windows, readings.get_side_output(DEAD_LETTER), on_time.get_side_output(LATE))


def run(topic: str, allowed_lateness_minutes: int = 10, settings: Optional[Settings] = None) -> None:
    """Build the job on Kafka and run it to completion (bounded), in this process's mini cluster."""
    settings = settings or load_settings()
    env = stream_environment(settings=settings)
    env.set_parallelism(1)
    tables = StreamTableEnvironment.create(env)
    tables.get_config().set("table.local-time-zone", "UTC")
    for statement in [raw_source_statement(topic, settings)] + sink_statements(topic, settings):
        tables.execute_sql(statement)

    outputs = build_graph(tables.to_data_stream(tables.from_path(RAW_SOURCE_TABLE)), topic, allowed_lateness_minutes)

    sinks = tables.create_statement_set()
    sinks.add_insert("window_sink", tables.from_data_stream(outputs.windows))
    sinks.add_insert("dead_letter_sink", tables.from_data_stream(outputs.dead_letters))
    sinks.add_insert("late_sink", tables.from_data_stream(outputs.late))
    sinks.attach_as_datastream()
    env.execute(f"window aggregate (DataStream API): {topic}")
