"""The bounded window-aggregate job with the DataStream API: the same results as the SQL job
(``window_aggregate_sql``), built from Python functions so every step is visible.

Source (the same Kafka table of original bytes as the SQL job) →
1. ``Validate`` (ProcessFunction): the Python contract (``iotlab.contract``); bad records to a side output;
2. ``MarkLate`` (KeyedProcessFunction, keyed by device): keeps the device's newest event time in keyed state;
   a reading whose window ended more than ``allowed_lateness`` before it is late → side output;
3. event-time timestamps, key by device, 5-minute tumbling windows, ``WindowStats`` (AggregateFunction)
   plus ``WindowRow`` (ProcessWindowFunction) for the window's bounds;
→ the same three sinks as the SQL job (windows, dead letters, late readings).

Every Python operator declares its output type, as PyFlink's examples do: faster serialisation, and a
wrong field fails at build time instead of mid-stream. The job ends when the bounded source does; the
end of input fires every window, so no reading is dropped by Flink's own watermark.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

from pyflink.common import Row, Time, Types, WatermarkStrategy
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import AggregateFunction, KeyedProcessFunction, ProcessFunction, ProcessWindowFunction
from pyflink.datastream.state import ValueStateDescriptor
from pyflink.datastream.window import TumblingEventTimeWindows
from pyflink.table import StreamTableEnvironment

from iotlab.config import Settings, load_settings
from iotlab.contract import validate_reading
from iotlab.flink_env import stream_environment
from iotlab.jobs.window_aggregate_sql import WINDOW_MINUTES, sink_statements, source_statement
from iotlab.sensors import format_timestamp, parse_timestamp

WINDOW_MS = WINDOW_MINUTES * 60_000
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

BYTES = Types.PRIMITIVE_ARRAY(Types.BYTE())
# A record set aside (dead letter or late): original key and bytes, plus headers saying why.
SET_ASIDE_TYPE = Types.ROW_NAMED(["record_key", "raw", "headers"], [BYTES, BYTES, Types.MAP(Types.STRING(), BYTES)])
READING_TYPE = Types.ROW_NAMED(
    ["device_id", "event_ms", "temperature", "humidity", "record_key", "raw"],
    [Types.STRING(), Types.LONG(), Types.DOUBLE(), Types.DOUBLE(), BYTES, BYTES])
WINDOW_TYPE = Types.ROW_NAMED(
    ["device_key", "device_id", "window_start", "window_end", "count", "avg_temp", "min_temp", "max_temp",
     "avg_humidity"],
    [Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(), Types.LONG(), Types.DOUBLE(), Types.DOUBLE(),
     Types.DOUBLE(), Types.DOUBLE()])

DEAD_LETTER = OutputTag("dead-letter", SET_ASIDE_TYPE)
LATE = OutputTag("late", SET_ASIDE_TYPE)


def epoch_ms(moment: datetime) -> int:
    """Exact milliseconds since the epoch (integer arithmetic: no float rounding)."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def iso(milliseconds: int) -> str:
    return format_timestamp(EPOCH + timedelta(milliseconds=milliseconds))


class Validate(ProcessFunction):
    """Raw bytes → a typed reading, or the record with its reason to the dead-letter side output."""

    def __init__(self, topic: str) -> None:
        self.topic = topic

    def process_element(self, row, ctx):
        reading, reason = validate_reading(row.raw or b"")
        if reason is not None:
            headers = {"dlq.reason": reason.encode(), "dlq.source.topic": self.topic.encode(),
                       "dlq.source.partition": str(row.partition).encode(),
                       "dlq.source.offset": str(row.offset).encode()}
            yield DEAD_LETTER, Row(record_key=row.record_key, raw=row.raw, headers=headers)
            return
        yield Row(device_id=reading["device_id"], event_ms=epoch_ms(parse_timestamp(reading["timestamp"])),
                  temperature=float(reading["temperature"]), humidity=float(reading["humidity"]),
                  record_key=row.record_key, raw=row.raw)


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
        window_end = reading.event_ms - reading.event_ms % WINDOW_MS + WINDOW_MS
        if window_end <= newest - self.allowed_lateness_ms:
            headers = {"late.window_end": iso(window_end).encode(), "late.device_newest": iso(newest).encode()}
            yield LATE, Row(record_key=reading.record_key, raw=reading.raw, headers=headers)
        else:
            yield reading


class EventTime(TimestampAssigner):
    def extract_timestamp(self, reading, record_timestamp) -> int:
        return reading.event_ms


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
        yield Row(device_key=device_id, device_id=device_id, window_start=iso(window.start),
                  window_end=iso(window.end), count=count, avg_temp=temperature_sum / count,
                  min_temp=low, max_temp=high, avg_humidity=humidity_sum / count)


def run(topic: str, allowed_lateness_minutes: int = 10, settings: Optional[Settings] = None) -> None:
    """Build and run the job to completion (bounded), in this process's mini cluster."""
    settings = settings or load_settings()
    env = stream_environment(settings=settings)
    env.set_parallelism(1)
    tables = StreamTableEnvironment.create(env)
    tables.get_config().set("table.local-time-zone", "UTC")
    for statement in [source_statement(topic, settings)] + sink_statements(topic, settings):
        tables.execute_sql(statement)

    raw = tables.to_data_stream(tables.from_path("raw_readings"))
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

    sinks = tables.create_statement_set()
    sinks.add_insert("window_sink", tables.from_data_stream(windows))
    sinks.add_insert("dead_letter_sink", tables.from_data_stream(readings.get_side_output(DEAD_LETTER)))
    sinks.add_insert("late_sink", tables.from_data_stream(on_time.get_side_output(LATE)))
    sinks.attach_as_datastream()
    env.execute(f"window aggregate (DataStream API): {topic}")
