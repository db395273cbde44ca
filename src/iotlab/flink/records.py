"""Record types and parsing for PyFlink programs: the rows the course's DataStream jobs pass around.

Every Python operator declares its output type with these, as PyFlink's own examples do: faster
serialisation, and a wrong field fails when the job is built instead of mid-stream.
"""

from __future__ import annotations

from pyflink.common import Row, Types
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import ProcessFunction

from iotlab.core.contract import validate_reading
from iotlab.core.timestamps import timestamp_ms
from iotlab.core.topics import dead_letter_headers

BYTES = Types.PRIMITIVE_ARRAY(Types.BYTE())

# A record as read from Kafka by ``iotlab.flink.tables.raw_source_statement``: original key and bytes,
# and where it was.
RAW_RECORD_TYPE = Types.ROW_NAMED(["record_key", "raw", "partition", "offset"],
                                  [BYTES, BYTES, Types.INT(), Types.LONG()])

# A record set aside (dead letter or late): original key and bytes, plus headers saying why.
SET_ASIDE_TYPE = Types.ROW_NAMED(["record_key", "raw", "headers"], [BYTES, BYTES, Types.MAP(Types.STRING(), BYTES)])

# A valid reading, typed, with the original key and bytes kept (a late reading is set aside as it came).
READING_TYPE = Types.ROW_NAMED(
    ["device_id", "event_ms", "temperature", "humidity", "record_key", "raw"],
    [Types.STRING(), Types.LONG(), Types.DOUBLE(), Types.DOUBLE(), BYTES, BYTES])

# The reading alone, as notebook 04 parses it.
PARSED_READING_TYPE = Types.ROW_NAMED(["device_id", "event_ms", "temperature", "humidity"],
                                      [Types.STRING(), Types.LONG(), Types.DOUBLE(), Types.DOUBLE()])

DEAD_LETTER = OutputTag("dead-letter", SET_ASIDE_TYPE)


def parse_reading(raw: bytes) -> Row:
    """A typed Row(device_id, event_ms, temperature, humidity), or ValueError with the contract's reason."""
    reading, reason = validate_reading(raw)
    if reason is not None:
        raise ValueError(reason)
    return Row(device_id=reading["device_id"], event_ms=timestamp_ms(reading["timestamp"]),
               temperature=float(reading["temperature"]), humidity=float(reading["humidity"]))


class Validate(ProcessFunction):
    """Raw bytes → a typed reading (``READING_TYPE``), or the record with its reason to ``DEAD_LETTER``."""

    def __init__(self, topic: str) -> None:
        self.topic = topic

    def process_element(self, row, ctx):
        try:
            reading = parse_reading(row.raw or b"")
        except ValueError as error:
            headers = dead_letter_headers(str(error), self.topic, row.partition, row.offset)
            yield DEAD_LETTER, Row(record_key=row.record_key, raw=row.raw, headers=headers)
            return
        yield Row(device_id=reading.device_id, event_ms=reading.event_ms, temperature=reading.temperature,
                  humidity=reading.humidity, record_key=row.record_key, raw=row.raw)


class EventTime(TimestampAssigner):
    """A reading's event time is its ``event_ms``."""

    def extract_timestamp(self, reading, record_timestamp) -> int:
        return reading.event_ms
