"""The data contract for a raw reading, as a JSON Schema, and a validator that says why a record fails.

A record is valid when it is UTF-8 JSON, an object, has every field with the right type, holds possible
values (humidity 0-100 %, temperature -60..85 °C, a real UTC timestamp), and its timestamp is not more than
``FUTURE_LIMIT_MS`` (one day) ahead of the wall clock. The reason strings are what the dead-letter topic carries.

The future rule is the contract's one rule of processing time, and it is there for Cassandra: the latest
reading is written ``USING TIMESTAMP`` of its event time, and of two writes to a cell the higher timestamp
wins. A reading stamped a year ahead (a device whose clock was never set) would win against every correct
write until that year comes. A day of margin covers any clock that is merely off, or a time zone written wrong.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Optional

from jsonschema import Draft202012Validator

from iotlab.core.timestamps import TIMESTAMP_PATTERN, epoch_ms, has_timestamp_shape, parse_timestamp

READING_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "IoT reading",
    "type": "object",
    "required": ["device_id", "timestamp", "temperature", "humidity", "status"],
    "properties": {
        "device_id": {"type": "string", "minLength": 1},
        "timestamp": {"type": "string", "pattern": TIMESTAMP_PATTERN},
        "temperature": {"type": "number", "minimum": -60, "maximum": 85},
        "humidity": {"type": "number", "minimum": 0, "maximum": 100},
        "status": {"type": "string"},
    },
}

_VALIDATOR = Draft202012Validator(READING_SCHEMA)

# How far ahead of the wall clock a reading's timestamp may be: one day, in milliseconds. The one definition:
# the SQL jobs pass it to the Java contract (``iotlab.jobs.window_aggregate.sql``).
FUTURE_LIMIT_MS = 24 * 60 * 60 * 1000


# When a record has several faults, the reason reported is the first in this order: the category
# (missing before wrong type before future timestamp before impossible value), then the field, in the
# contract's order. A future timestamp comes before impossible values so that a record refused as an
# impossible value always has a time that is not in the future: the out-of-range detector takes such records
# as events at that time, and an event from next year must not raise an alert.
CATEGORIES = ("missing_field", "wrong_type", "future_timestamp", "impossible_value")
FIELD_ORDER = tuple(READING_SCHEMA["required"])


def validate_reading(raw: bytes, now_ms: Optional[int] = None,
                     max_ahead_ms: int = FUTURE_LIMIT_MS) -> tuple[Optional[dict], Optional[str]]:
    """``(reading, None)`` for a valid reading, ``(None, reason)`` otherwise.

    A reason is ``category: field details``. Not JSON comes first (``invalid_json``), then a record that is not
    an object (``wrong_type: record``); among several faults of a record, missing fields before wrong types
    before a future timestamp before impossible values, and within a category the field that comes first in
    the contract (device_id, timestamp, temperature, humidity, status).

    ``future_timestamp``: the timestamp is more than ``max_ahead_ms`` ahead of ``now_ms``, the wall clock in
    milliseconds since the epoch (this process's clock when None; a test passes its own). Exactly the limit
    ahead is still accepted.
    """
    try:
        document = json.loads(raw)
    except UnicodeDecodeError:
        return None, "invalid_json: not UTF-8"
    except ValueError as error:
        return None, f"invalid_json: {error.msg}"
    if not isinstance(document, dict):
        return None, "wrong_type: record is not a JSON object"
    problems = [_problem(error) for error in _VALIDATOR.iter_errors(document)]
    stamp = document.get("timestamp")
    if has_timestamp_shape(stamp):
        try:
            event_ms = epoch_ms(parse_timestamp(stamp))
        except ValueError:
            reason = f"impossible_value: timestamp {stamp!r} is not a real time"
            problems.append((_rank("impossible_value"), FIELD_ORDER.index("timestamp"), reason))
        else:
            now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
            if event_ms - now_ms > max_ahead_ms:
                reason = (f"future_timestamp: timestamp {stamp!r} is {_seconds_up(event_ms - now_ms)} ahead of "
                          f"the wall clock (the limit is {timedelta(milliseconds=max_ahead_ms)})")
                problems.append((_rank("future_timestamp"), FIELD_ORDER.index("timestamp"), reason))
    if problems:
        return None, min(problems)[2]
    return document, None


def _rank(category: str) -> int:
    return CATEGORIES.index(category)


def _seconds_up(milliseconds: int) -> timedelta:
    """A span to the second, rounded up: printed as ``2 days, 0:00:00`` (the clock's milliseconds would only be
    noise), and a span just over the limit never reads as less than it."""
    return timedelta(seconds=-(-milliseconds // 1000))


def _problem(error) -> tuple[int, int, str]:
    """(category rank, field rank, reason) of one JSON Schema error."""
    if error.validator == "required":
        field = error.message.split(chr(39))[1]
        return _rank("missing_field"), FIELD_ORDER.index(field), f"missing_field: {field}"
    field = str(error.path[0])
    category = "wrong_type" if error.validator == "type" else "impossible_value"
    return _rank(category), FIELD_ORDER.index(field), f"{category}: {field} {error.message}"
