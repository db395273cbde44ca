"""The data contract for a raw reading, as a JSON Schema, and a validator that says why a record fails.

A record is valid when it is UTF-8 JSON, an object, has every field with the right type, and holds
possible values (humidity 0-100 %, temperature -60..85 °C, a real UTC timestamp). The reason strings
are what the dead-letter topic carries.
"""

from __future__ import annotations

import json
from typing import Optional

from jsonschema import Draft202012Validator

from iotlab.core.timestamps import TIMESTAMP_PATTERN, parse_timestamp

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


def validate_reading(raw: bytes) -> tuple[Optional[dict], Optional[str]]:
    """``(reading, None)`` for a valid record, ``(None, reason)`` otherwise."""
    try:
        document = json.loads(raw)
    except UnicodeDecodeError:
        return None, "invalid_json: not UTF-8"
    except ValueError as error:
        return None, f"invalid_json: {error.msg}"
    errors = sorted(_VALIDATOR.iter_errors(document), key=lambda e: (list(e.path), e.validator))
    if errors:
        error = errors[0]
        field = ".".join(str(part) for part in error.path) or "record"
        if error.validator == "required":
            return None, f"missing_field: {error.message.split(chr(39))[1]}"
        if error.validator == "type":
            return None, f"wrong_type: {field} {error.message}"
        return None, f"impossible_value: {field} {error.message}"
    try:
        parse_timestamp(document["timestamp"])
    except ValueError:
        return None, f"impossible_value: timestamp {document['timestamp']!r} is not a real time"
    return document, None
