"""Notebook 01 (Kafka producers): serialising readings, producing with delivery reports, producer settings."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Callable

from confluent_kafka import Producer

from iotlab.core.contract import READING_SCHEMA
from iotlab.core.settings import load_settings
from iotlab.course.checks import CheckResult, check_cases, failed, is_skipped, passed, skipped
from iotlab.kafka import read_topic, recreate_topic
from iotlab.sim.sensors import generate_readings

CONTRACT_FIELDS = tuple(READING_SCHEMA["required"])


# ----------------------------------------------------------------------------- 01.1 serialize_reading

def serialize_reading(reading: dict) -> bytes:
    """Reference for 01.1: compact UTF-8 JSON with the contract's fields in contract order.

    Raises ValueError naming the first missing field: a producer should refuse to send a broken record.
    """
    missing = [name for name in CONTRACT_FIELDS if name not in reading]
    if missing:
        raise ValueError(f"reading lacks {missing[0]}")
    ordered = {name: reading[name] for name in CONTRACT_FIELDS}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _outcome(function: Callable, reading: dict):
    try:
        return ("bytes", function(dict(reading)))
    except ValueError as error:
        return ("ValueError", str(error).split()[-1])


SERIALIZE_CASES = [
    ("a reading in contract order", ({"device_id": "device-01", "timestamp": "2025-11-05T12:00:00Z",
                                      "temperature": 27.5, "humidity": 40.2, "status": "OK"},)),
    ("fields in another order", ({"status": "OK", "humidity": 40.0, "temperature": -3.25,
                                  "timestamp": "2025-11-05T12:00:10Z", "device_id": "device-02"},)),
    ("an extra field is dropped", ({"device_id": "d", "timestamp": "2025-11-05T12:00:00Z", "temperature": 1.0,
                                    "humidity": 2.0, "status": "OK", "firmware": "1.2"},)),
    ("a non-ASCII device id stays readable UTF-8", ({"device_id": "capteur-été", "timestamp": "2025-11-05T12:00:00Z",
                                                     "temperature": 20.0, "humidity": 50.0, "status": "OK"},)),
    ("a missing humidity is refused", ({"device_id": "d", "timestamp": "2025-11-05T12:00:00Z",
                                        "temperature": 1.0, "status": "OK"},)),
    ("a missing device_id is refused", ({"timestamp": "2025-11-05T12:00:00Z", "temperature": 1.0,
                                         "humidity": 2.0, "status": "OK"},)),
]


def check_serialize_reading(function: Callable[[dict], bytes]) -> CheckResult:
    """Check 01.1: exact bytes for good readings, ValueError naming the field for broken ones."""
    return check_cases(
        "serialize_reading", lambda reading: _outcome(function, reading), lambda reading: _outcome(
            serialize_reading, reading), SERIALIZE_CASES,
        hint="build a dict with the five contract fields in order, json.dumps(..., separators=(',', ':'), "
             "ensure_ascii=False).encode('utf-8'); raise ValueError(f'reading lacks {field}') for a missing one",
        probe_args=(SERIALIZE_CASES[0][1][0],),
    )


# ----------------------------------------------------------------------------- 01.2 produce_readings

def produce_readings(producer: Producer, topic: str, readings: list[dict]) -> dict[int, int]:
    """Reference for 01.2: send each reading keyed by device_id, wait for every delivery report,
    return {partition: delivered count}; raise RuntimeError if any delivery failed."""
    per_partition: Counter = Counter()
    errors: list = []

    def on_delivery(error, message) -> None:
        if error is not None:
            errors.append(error)
        else:
            per_partition[message.partition()] += 1

    for reading in readings:
        producer.produce(topic, key=reading["device_id"].encode(), value=serialize_reading(reading),
                         on_delivery=on_delivery)
        producer.poll(0)
    producer.flush(30)
    if errors:
        raise RuntimeError(f"{len(errors)} deliveries failed, first: {errors[0]}")
    return dict(per_partition)


def check_produce_readings(function: Callable[[Producer, str, list[dict]], dict]) -> CheckResult:
    """Check 01.2 against the lab's broker: the topic must hold exactly the readings, keyed, in order
    per device, and the returned counts must match where they landed."""
    name = "produce_readings"
    settings = load_settings()
    topic = f"check.nb01.produce.{uuid.uuid4().hex[:8]}"
    recreate_topic(topic, partitions=3, settings=settings)
    producer = Producer(settings.kafka_client_config())
    readings = list(generate_readings(120, devices=7, seed=99))
    try:
        returned = function(producer, topic, [dict(r) for r in readings])
    except NotImplementedError:
        return skipped(name)
    except Exception as error:
        return failed(name, f"raised {type(error).__name__}: {error}. Hint: produce each reading, then flush()")
    stored = read_topic(topic, settings)
    actual_counts = dict(Counter(m.partition for m in stored))
    if len(stored) != len(readings):
        return failed(name, f"the topic holds {len(stored)} messages, expected {len(readings)}. "
                            "Hint: call producer.flush() before returning, so every message is delivered")
    if any(m.key is None or json.loads(m.value)["device_id"] != m.key.decode() for m in stored):
        return failed(name, "every message needs its device_id as the key. Hint: key=reading['device_id']")
    if not isinstance(returned, dict) or returned != actual_counts:
        return failed(name, f"returned {returned!r}, but the messages landed {actual_counts}. "
                            "Hint: count message.partition() in the delivery callback")
    for device in {r["device_id"] for r in readings}:
        sent = [serialize_reading(r) for r in readings if r["device_id"] == device]
        if [m.value for m in stored if m.key == device.encode()] != sent:
            return failed(name, f"{device}'s readings are not in order, or not serialised as in 01.1")
    refused = _refused_delivery_outcome(function, settings)
    if refused:
        return failed(name, refused)
    placement = dict(sorted(actual_counts.items()))
    return passed(name, f"{len(readings)} readings delivered, keyed and in order: {placement}; "
                        "a refused delivery raised RuntimeError")


def _refused_delivery_outcome(function: Callable, settings) -> str:
    """Make one delivery fail for real, as in section 3: a topic that takes at most 1,000-byte messages and
    one reading far bigger. The function must raise RuntimeError; "" when it does, else what went wrong."""
    topic = f"check.nb01.refused.{uuid.uuid4().hex[:8]}"
    recreate_topic(topic, partitions=1, config={"max.message.bytes": "1000"}, settings=settings)
    # batch.size at the topic's limit, so the big reading fails alone
    producer = Producer({**settings.kafka_client_config(), "batch.size": 1000, "linger.ms": 0})
    readings = list(generate_readings(3, devices=1, seed=7))
    readings[1] = dict(readings[1], status="X" * 5000)
    try:
        returned = function(producer, topic, readings)
    except RuntimeError:
        return ""
    except Exception as error:
        return (f"when the broker refuses a delivery, it raised {type(error).__name__}: {error}. Hint: collect "
                "the errors in on_delivery, and raise RuntimeError after flush()")
    return (f"the broker refused one delivery (a 5 kB reading on a topic that takes 1,000 bytes), but it "
            f"returned {returned!r}. Hint: an error in on_delivery means a failed delivery: raise RuntimeError "
            "after flush()")


# ----------------------------------------------------------------------------- 01.3 producer_settings

def producer_settings(goal: str) -> dict:
    """Reference for 01.3: producer properties for a goal, "durable" or "throughput"."""
    if goal == "durable":
        return {"acks": "all", "enable.idempotence": True}
    if goal == "throughput":
        return {"acks": "1", "enable.idempotence": False, "linger.ms": 20, "batch.size": 1_000_000,
                "compression.type": "lz4"}
    raise ValueError(f"unknown goal {goal!r}")


def _delivers_everything(producer: Producer, count: int) -> bool:
    """Produce ``count`` readings; True when every delivery report came back without an error."""
    outcomes: list = []
    for reading in generate_readings(count, devices=4, seed=1):
        producer.produce("check.nb01.settings", value=serialize_reading(reading),
                         on_delivery=lambda error, _message: outcomes.append(error))
    producer.flush(30)
    return len(outcomes) == count and not any(outcomes)


def _as_int(value) -> int:
    return int(value) if str(value).lstrip("-").isdigit() else -10**9


def check_producer_settings(function: Callable[[str], dict]) -> CheckResult:
    """Check 01.3: the settings say what the goal needs, and the real client accepts and uses them."""
    name = "producer_settings"
    if is_skipped(function, ("durable",)):
        return skipped(name)
    settings = load_settings()
    for goal in ("durable", "throughput"):
        try:
            config = function(goal)
        except Exception as error:
            return failed(name, f"{goal!r} raised {type(error).__name__}: {error}")
        if not isinstance(config, dict):
            return failed(name, f"{goal!r} should give a dict of producer properties, got {type(config).__name__}")
        if goal == "durable":
            if str(config.get("acks")) not in ("all", "-1"):
                return failed(name, "durable: the leader must wait for all in-sync replicas. Hint: acks")
            if str(config.get("enable.idempotence")).lower() != "true":
                return failed(name, "durable: a retry must not write a duplicate. Hint: enable.idempotence")
        else:
            if _as_int(config.get("linger.ms", 5)) < 10:
                return failed(name, "throughput: wait a little to fill bigger batches. Hint: linger.ms of 10 or more")
            if config.get("compression.type") not in ("lz4", "zstd", "snappy", "gzip"):
                return failed(name, "throughput: compress batches. Hint: compression.type")
        try:
            producer = Producer({**settings.kafka_client_config(), **config})
        except Exception as error:
            return failed(name, f"{goal!r}: the client refuses these settings: {error}")
        if not _delivers_everything(producer, 200):
            return failed(name, f"{goal!r}: not every message was delivered with these settings")
    return passed(name, "durable and throughput settings are right, and the broker took 200 messages with each")
