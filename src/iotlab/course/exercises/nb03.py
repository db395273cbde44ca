"""Notebook 03 (topics and contracts): a compacted registry topic, what compaction keeps, and
validating readings against the contract."""

from __future__ import annotations

import uuid
from typing import Callable, Optional

from confluent_kafka.admin import ConfigResource

from iotlab.core.contract import validate_reading as contract_validate
from iotlab.course.checks import CheckResult, check_cases, failed, is_skipped, passed, skipped
from iotlab.kafka import admin_client, recreate_topic

# ----------------------------------------------------------------------------- 03.1 registry_topic_config


def registry_topic_config() -> dict[str, str]:
    """Reference for 03.1: a device registry keeps the latest record per device, forever, and keeps
    tombstones (deletions) for a day so that slow consumers still see them."""
    return {"cleanup.policy": "compact", "delete.retention.ms": str(24 * 3600 * 1000)}


def check_registry_topic_config(function: Callable[[], dict]) -> CheckResult:
    """Check 03.1 on the broker: create a topic with the config and read back what the broker applied."""
    name = "registry_topic_config"
    if is_skipped(function, ()):
        return skipped(name)
    try:
        config = {key: str(value) for key, value in function().items()}
    except Exception as error:
        return failed(name, f"raised {type(error).__name__}: {error}")
    topic = f"check.nb03.registry.{uuid.uuid4().hex[:8]}"
    try:
        recreate_topic(topic, partitions=1, config=config)
    except Exception as error:
        return failed(name, f"the broker refused the topic: {error}. Hint: property names as in the topic configs docs")
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    admin = admin_client()  # keep the client alive while its futures resolve
    applied = admin.describe_configs([resource])[resource].result(timeout=10)
    admin.delete_topics([topic])[topic].result(timeout=10)
    if applied["cleanup.policy"].value != "compact":
        return failed(name, f"cleanup.policy is {applied['cleanup.policy'].value!r}: old versions of a device must "
                            "be removed, but never a device's latest record. Hint: only 'compact'")
    if int(applied["delete.retention.ms"].value) < 3_600_000:
        return failed(name, "tombstones vanish too soon for a consumer that is an hour behind. "
                            "Hint: delete.retention.ms of at least an hour")
    return passed(name, "the broker created a compacted topic that keeps tombstones long enough")


# ----------------------------------------------------------------------------- 03.2 latest_per_key


def latest_per_key(messages: list[tuple[bytes, Optional[bytes]]]) -> dict[bytes, bytes]:
    """Reference for 03.2: what a compacted topic converges to — the last value of each key; a tombstone
    (value None) deletes the key."""
    table: dict[bytes, bytes] = {}
    for key, value in messages:
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return table


LATEST_CASES = [
    ("updates", ([(b"d1", b"v1"), (b"d2", b"v1"), (b"d1", b"v2")],)),
    ("a tombstone deletes", ([(b"d1", b"v1"), (b"d2", b"v1"), (b"d1", None)],)),
    ("re-created after a tombstone", ([(b"d1", b"v1"), (b"d1", None), (b"d1", b"v3")],)),
    ("a tombstone for an unknown key", ([(b"d9", None), (b"d2", b"x")],)),
    ("nothing", ([],)),
    ("an empty value is not a tombstone", ([(b"d1", b"v1"), (b"d1", b"")],)),
]


def check_latest_per_key(function: Callable[[list], dict]) -> CheckResult:
    return check_cases(
        "latest_per_key", lambda messages: function(list(messages)), latest_per_key, LATEST_CASES,
        hint="walk the messages in order: a value sets the key, None (a tombstone) removes it; "
             "b'' is a value, not a tombstone",
        probe_args=([],),
    )


# ----------------------------------------------------------------------------- 03.3 validate_reading

REASONS = ("invalid_json", "missing_field", "wrong_type", "impossible_value")


def validate_reading(raw: bytes) -> Optional[str]:
    """Reference for 03.3: None for a valid reading, else the reason category (one of REASONS)."""
    _, reason = contract_validate(raw)
    return None if reason is None else reason.split(":")[0]


def _raw(**fields) -> bytes:
    import json

    base = {"device_id": "device-01", "timestamp": "2025-11-05T12:00:00Z", "temperature": 21.5,
            "humidity": 40.0, "status": "OK"}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


VALIDATE_CASES = [
    ("a valid reading", (_raw(),)),
    ("truncated JSON", (_raw()[:30],)),
    ("no humidity", (_raw(humidity=...),)),
    ("temperature as text", (_raw(temperature="21.5"),)),
    ("humidity of 130 %", (_raw(humidity=130.0),)),
    ("integer temperature is fine", (_raw(temperature=21),)),
    ("a JSON list, not an object", (b"[1, 2, 3]",)),
    ("not UTF-8", (b"\xff\xfe\x00",)),
    ("negative humidity", (_raw(humidity=-0.5),)),
    ("boolean temperature", (_raw(temperature=True),)),
    ("timestamp without a zone", (_raw(timestamp="2025-11-05T12:00:00"),)),
    ("no device_id", (_raw(device_id=...),)),
    ("temperature of 500 degrees", (_raw(temperature=500),)),
    ("null status", (_raw(status=None),)),
    ("an offset instead of Z", (_raw(timestamp="2025-11-05T13:00:00+01:00"),)),
    ("February 30", (_raw(timestamp="2025-02-30T12:00:00Z"),)),
    ("hour 24", (_raw(timestamp="2025-11-05T24:00:00Z"),)),
    ("an empty device_id", (_raw(device_id=""),)),
    ("no status and humidity as text: missing_field wins", (_raw(status=..., humidity="x"),)),
    ("humidity 130 and temperature as text: wrong_type wins", (_raw(humidity=130.0, temperature="hot"),)),
    ("February 30 and temperature 500: both impossible", (_raw(timestamp="2025-02-30T12:00:00Z", temperature=500),)),
    ("a list of readings: not an object, whatever it holds", (b'[{"device_id": 1}]',)),
]


def check_validate_reading(function: Callable[[bytes], Optional[str]]) -> CheckResult:
    return check_cases(
        "validate_reading", function, validate_reading, VALIDATE_CASES,
        hint="check in this order, the first that applies wins: json.loads inside try/except -> invalid_json; "
             "not a dict -> wrong_type; a field missing -> missing_field; a field of the wrong type (numbers are "
             "int/float but not bool) -> wrong_type; empty device_id, humidity outside 0..100, temperature "
             "outside -60..85, a timestamp parse_timestamp refuses -> impossible_value",
        probe_args=(_raw(),),
    )
