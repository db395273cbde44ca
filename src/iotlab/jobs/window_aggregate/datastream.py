"""The window-aggregate job with the DataStream API: with no allowed lateness, the same results as the SQL
job (``sql``), built from Python functions so every step is visible.

The graph (``build_graph``), from a stream of raw records (original key and bytes, partition, offset) that
already carries event-time timestamps and watermarks:
1. ``Validate`` (ProcessFunction, ``iotlab.flink``): the Python contract; bad records to a side output;
2. key by device, 5-minute ``TumblingEventTimeWindows`` with ``allowed_lateness`` and
   ``side_output_late_data``: a window fires when the watermark passes its end; a late reading within the
   allowed lateness fires it again with the updated result; a reading later than that goes to the late
   side output (without a side output, Flink would drop it and count it in ``numLateRecordsDropped``);
3. ``WindowStats`` (AggregateFunction) plus ``WindowRow`` (ProcessWindowFunction) for the window's bounds.
``run`` wires it to Kafka: the SQL job's source table (its event time and on-event watermarks travel with
each row into the DataStream) and the same three sinks.

Every Python operator declares its output type, as PyFlink's examples do: faster serialisation, and a
wrong field fails at build time instead of mid-stream. Its speed is bounded by the Python operators:
every record crosses from the JVM to a Python worker and back, twice (validation, then the window).

Fed the same rows and watermarks, this job's window operator (which runs in the Python worker) admitted
in our runs some readings that the SQL job calls late, so its late readings are not compared exactly with
the SQL job's; its windows are, under a bound larger than the stream's disorder (nothing late).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pyflink.common import Row, Time, Types
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import DataStream, OutputTag
from pyflink.datastream.functions import AggregateFunction, ProcessFunction, ProcessWindowFunction
from pyflink.datastream.window import TumblingEventTimeWindows

from iotlab.core.settings import Settings, load_settings
from iotlab.core.timestamps import MINUTE_MS, format_epoch_ms
from iotlab.core.windows import WINDOW_MINUTES
from iotlab.flink.environments import stream_environment, stream_table_environment
from iotlab.flink.functions import function_statements
from iotlab.flink.records import DEAD_LETTER, READING_TYPE, SET_ASIDE_TYPE, Validate
from iotlab.flink.tables import RAW_SOURCE_TABLE
from iotlab.jobs.window_aggregate.reference import source_event_ms
from iotlab.jobs.window_aggregate.sql import OUT_OF_ORDERNESS_MINUTES, sink_statements, source_statement

WINDOW_TYPE = Types.ROW_NAMED(
    ["device_key", "device_id", "window_start", "window_end", "count", "avg_temp", "min_temp", "max_temp",
     "avg_humidity"],
    [Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(), Types.LONG(), Types.DOUBLE(), Types.DOUBLE(),
     Types.DOUBLE(), Types.DOUBLE()])

# Untyped (pickled rows): PyFlink pickles a window's late-data tag with the job, and a typed tag whose
# field types were already used elsewhere carries Java objects that cannot be pickled.
LATE = OutputTag("late")


class SourceEventTime(TimestampAssigner):
    """A raw record's event time as the SQL source reads it (``reference.source_event_ms``): for jobs that
    read raw records without the SQL source, such as the unit tests. Unreadable: the start of the epoch."""

    def extract_timestamp(self, record, record_timestamp) -> int:
        event_ms = source_event_ms(record.raw)
        return event_ms if event_ms is not None else 0


class SetAsideLate(ProcessFunction):
    """A late reading → the record set aside as it came, with its event time and the watermark it met."""

    def process_element(self, reading, ctx):
        headers = {"late.event_time": format_epoch_ms(reading.event_ms).encode(),
                   "late.watermark": format_epoch_ms(ctx.timer_service().current_watermark()).encode()}
        yield Row(record_key=reading.record_key, raw=reading.raw, headers=headers)


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


def build_graph(raw: DataStream, topic: str, allowed_lateness_minutes: int = 0) -> WindowOutputs:
    """Validate, then aggregate 5-minute windows per device on event time; late readings to a side output.

    ``raw`` holds records in ``iotlab.flink.RAW_RECORD_TYPE`` with event-time timestamps and watermarks
    (from the SQL source in the job, from a ``WatermarkStrategy`` in the unit tests); ``topic`` names their
    source in the dead-letter headers.
    """
    readings = raw.process(Validate(topic), output_type=READING_TYPE).name("validate")
    windows = (readings
               .key_by(lambda r: r.device_id, key_type=Types.STRING())
               .window(TumblingEventTimeWindows.of(Time.minutes(WINDOW_MINUTES)))
               .allowed_lateness(allowed_lateness_minutes * MINUTE_MS)
               .side_output_late_data(LATE)
               .aggregate(WindowStats(), WindowRow(),
                          accumulator_type=Types.LIST(Types.DOUBLE()), output_type=WINDOW_TYPE)
               .name("5-minute windows"))
    late = windows.get_side_output(LATE).process(SetAsideLate(), output_type=SET_ASIDE_TYPE).name("late readings")
    return WindowOutputs(windows, readings.get_side_output(DEAD_LETTER), late)


def run(topic: str, out_of_orderness_minutes: int = OUT_OF_ORDERNESS_MINUTES, allowed_lateness_minutes: int = 0,
        settings: Optional[Settings] = None, parallelism: int = 1) -> float:
    """Build the job on Kafka and run it bounded (to the topic's current end), in this process's mini cluster."""
    settings = settings or load_settings()
    env = stream_environment(settings=settings)
    env.set_parallelism(parallelism)
    tables = stream_table_environment(env)
    for statement in function_statements() + \
            [source_statement(topic, settings, out_of_orderness_minutes=out_of_orderness_minutes)] + \
            sink_statements(topic, settings):
        tables.execute_sql(statement)

    # to_data_stream keeps the table's rowtime (event_time) as each record's timestamp, and its watermarks
    raw = tables.to_data_stream(tables.from_path(RAW_SOURCE_TABLE))
    outputs = build_graph(raw, topic, allowed_lateness_minutes)

    sinks = tables.create_statement_set()
    sinks.add_insert("window_sink", tables.from_data_stream(outputs.windows))
    sinks.add_insert("dead_letter_sink", tables.from_data_stream(outputs.dead_letters))
    sinks.add_insert("late_sink", tables.from_data_stream(outputs.late))
    sinks.attach_as_datastream()
    result = env.execute(f"window aggregate (DataStream API): {topic}")
    return result.get_net_runtime() / 1000
