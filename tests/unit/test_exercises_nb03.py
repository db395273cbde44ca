"""Notebook 03's pure checks pass the references and fail wrong answers."""

import json

import pytest

from iotlab.course.exercises import nb03


def test_references_pass():
    assert nb03.check_latest_per_key(nb03.latest_per_key).passed
    assert nb03.check_validate_reading(nb03.validate_reading).passed


def first_value_wins(messages):
    table = {}
    for key, value in messages:
        table.setdefault(key, value)
    return table


def tombstones_kept_as_none(messages):
    return dict(messages)


def empty_value_is_a_tombstone(messages):
    table = {}
    for key, value in messages:
        if not value:
            table.pop(key, None)
        else:
            table[key] = value
    return table


def tombstone_forgotten_forever(messages):
    deleted, table = set(), {}
    for key, value in messages:
        if value is None:
            deleted.add(key)
            table.pop(key, None)
        elif key not in deleted:
            table[key] = value
    return table


@pytest.mark.parametrize("wrong", [first_value_wins, tombstones_kept_as_none, empty_value_is_a_tombstone,
                                   tombstone_forgotten_forever])
def test_latest_per_key_wrong_answers_fail(wrong):
    result = nb03.check_latest_per_key(wrong)
    assert not result.passed and not result.skipped


def accepts_booleans(raw):
    try:
        record = json.loads(raw)
    except ValueError:
        return "invalid_json"
    if not isinstance(record, dict):
        return "wrong_type"
    if any(f not in record for f in ("device_id", "timestamp", "temperature", "humidity", "status")):
        return "missing_field"
    if not isinstance(record["temperature"], (int, float)) or not isinstance(record["humidity"], (int, float)):
        return "wrong_type"
    if not isinstance(record["status"], str):
        return "wrong_type"
    if not 0 <= record["humidity"] <= 100 or not -60 <= record["temperature"] <= 85:
        return "impossible_value"
    return None if record["timestamp"].endswith("Z") else "impossible_value"


def only_checks_json(raw):
    try:
        json.loads(raw)
        return None
    except ValueError:
        return "invalid_json"


def crashes_on_non_utf8(raw):
    return nb03.validate_reading(raw.decode("utf-8").encode())


def no_range_checks(raw):
    reason = nb03.validate_reading(raw)
    return None if reason == "impossible_value" else reason


def values_before_types(raw):
    """Checks humidity's range before temperature's type: humidity 130 with temperature as text says
    impossible_value, where the contract says wrong_type."""
    record = json.loads(raw) if nb03.validate_reading(raw) not in ("invalid_json", "missing_field") else None
    if isinstance(record, dict) and isinstance(record.get("humidity"), (int, float)) and record["humidity"] > 100:
        return "impossible_value"
    return nb03.validate_reading(raw)


def pattern_only_timestamps(raw):
    """Only the shape of the timestamp, as the course's first version did: February 30 passes."""
    import re

    reason = nb03.validate_reading(raw)
    if reason == "impossible_value":
        record = json.loads(raw)
        shape = re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", record["timestamp"])
        if shape and record["device_id"] and 0 <= record["humidity"] <= 100 and -60 <= record["temperature"] <= 85:
            return None
    return reason


def z_only_timestamps(raw):
    """Refuses an offset instead of Z (what the course's first contract did)."""
    reason = nb03.validate_reading(raw)
    if reason is None and not json.loads(raw)["timestamp"].endswith("Z"):
        return "impossible_value"
    return reason


@pytest.mark.parametrize("wrong", [accepts_booleans, only_checks_json, crashes_on_non_utf8, no_range_checks,
                                   values_before_types, pattern_only_timestamps, z_only_timestamps])
def test_validate_reading_wrong_answers_fail(wrong):
    result = nb03.check_validate_reading(wrong)
    assert not result.passed and not result.skipped


def test_stubs_are_skipped():
    def stub(*_):
        raise NotImplementedError()

    assert nb03.check_latest_per_key(stub).skipped and nb03.check_validate_reading(stub).skipped
