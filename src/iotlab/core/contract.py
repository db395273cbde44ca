"""The data contract for a raw reading, as a JSON Schema, and a validator that says why a record fails.

A record is valid when it is UTF-8 JSON, an object, has every field with the right type, and holds
possible values (humidity 0-100 %, temperature -60..85 °C, a real UTC timestamp). The reason strings
are what the dead-letter topic carries.
"""

from __future__ import annotations

import json
from typing import Optional

from jsonschema import Draft202012Validator

from iotlab.core.timestamps import TIMESTAMP_PATTERN, has_timestamp_shape, parse_timestamp

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


# When a record has several faults, the reason reported is the first in this order: the category
# (missing before wrong type before impossible value), then the field, in the contract's order.
CATEGORIES = ("missing_field", "wrong_type", "impossible_value")
FIELD_ORDER = tuple(READING_SCHEMA["required"])


def validate_reading(raw: bytes) -> tuple[Optional[dict], Optional[str]]:
    """``(reading, None)`` for a valid reading, ``(None, reason)`` otherwise.

    A reason is ``category: field details``. Not JSON comes first (``invalid_json``), then a record that is not
    an object (``wrong_type: record``); among several faults of a record, missing fields before wrong types
    before impossible values, and within a category the field that comes first in the contract
    (device_id, timestamp, temperature, humidity, status).
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
            parse_timestamp(stamp)
        except ValueError:
            reason = f"impossible_value: timestamp {stamp!r} is not a real time"
            problems.append((2, FIELD_ORDER.index("timestamp"), reason))
    if problems:
        return None, min(problems)[2]
    return document, None



def _problem(error) -> tuple[int, int, str]:
    """(category rank, field rank, reason) of one JSON Schema error."""
    if error.validator == "required":
        field = error.message.split(chr(39))[1]
        return 0, FIELD_ORDER.index(field), f"missing_field: {field}"
    field = str(error.path[0])
    category = 1 if error.validator == "type" else 2
    return category, FIELD_ORDER.index(field), f"{CATEGORIES[category]}: {field} {error.message}"
