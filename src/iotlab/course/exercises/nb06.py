"""Notebook 06 (state and checkpoints): keyed value state, silences found with timers, stopping a job with
a savepoint through the REST API."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import requests
from pyflink.common import Row, Types
from pyflink.datastream.functions import KeyedProcessFunction
from pyflink.datastream.state import ValueStateDescriptor

from iotlab.core.settings import load_settings
from iotlab.course.checks import CheckResult, check_cases, failed, is_skipped, passed, skipped
from iotlab.flink.records import PARSED_READING_TYPE
from iotlab.jobs.silence_alerts.reference import silences

MINUTE = 60_000

# ----------------------------------------------------------------------------- 06.1 RunningCount

RUNNING_COUNT_TYPE = Types.ROW_NAMED(["device_id", "event_ms", "count"], [Types.STRING(), Types.LONG(), Types.LONG()])


class RunningCount(KeyedProcessFunction):
    """Reference for 06.1: per device, the number of readings so far, kept in a ValueState."""

    def open(self, runtime_context) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, reading, ctx):
        count = (self.count.value() or 0) + 1
        self.count.update(count)
        yield Row(device_id=reading.device_id, event_ms=reading.event_ms, count=count)


def _running_count_is_skipped(function_class: type) -> bool:
    """The stub's ``open`` raises NotImplementedError before it touches the runtime context."""
    return is_skipped(lambda: function_class().open(None), ())


def class_or_reference(function_class: type, reference_class: type) -> type:
    """The learner's class if ``open`` is implemented, else the reference (and say so)."""
    if _running_count_is_skipped(function_class):
        print(f"Exercise not done yet: later cells use the reference {reference_class.__name__}.")
        return reference_class
    return function_class


def _count_cases() -> list[Row]:
    """Readings of 4 devices in an irregular arrival order (one device sends far more than the others)."""
    devices = ["device-a", "device-b", "device-c", "device-d"]
    readings = []
    for position in range(40):
        device = devices[0] if position % 3 == 0 else devices[(position * 7) % 4]
        readings.append(Row(device_id=device, event_ms=1_762_344_000_000 + position * MINUTE,
                            temperature=20.0 + position / 10, humidity=40.0))
    return readings


def expected_running_counts(readings: list[Row]) -> dict[str, list[tuple[int, int]]]:
    """Per device, (event_ms, count) in arrival order: what the keyed operator must emit."""
    counts: dict[str, int] = defaultdict(int)
    expected: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for reading in readings:
        counts[reading.device_id] += 1
        expected[reading.device_id].append((reading.event_ms, counts[reading.device_id]))
    return dict(expected)


def check_running_count(function_class: type, parallelism: int = 2) -> CheckResult:
    """Check 06.1: run the learner's KeyedProcessFunction in a real (in-process) Flink job."""
    from iotlab.flink.environments import stream_environment

    name = "RunningCount"
    if _running_count_is_skipped(function_class):
        return skipped(name)
    readings = _count_cases()
    env = stream_environment(options={"restart-strategy.type": "none"})
    env.set_parallelism(parallelism)  # several subtasks: the state must be per key, not per Python object
    counted = (env.from_collection(readings, type_info=PARSED_READING_TYPE)
               .key_by(lambda r: r.device_id, key_type=Types.STRING())
               .process(function_class(), output_type=RUNNING_COUNT_TYPE))
    try:
        rows = list(counted.execute_and_collect())
    except Exception as error:
        last_line = [line for line in str(error).splitlines() if "Error" in line][-1:] or [str(error)[:200]]
        return failed(name, f"the Flink job failed: {last_line[0].strip()[:300]}. Hint: in open(), "
                            "runtime_context.get_state(ValueStateDescriptor('count', Types.LONG())); in "
                            "process_element, read .value() (None at first), .update() it and yield a Row")
    actual: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for row in rows:
        actual[row.device_id].append((row.event_ms, row.count))
    expected = expected_running_counts(readings)
    for device, sequence in expected.items():
        if actual.get(device) != sequence:
            return failed(name, f"{device}: expected (event_ms, count) {sequence[:4]}..., got "
                                f"{actual.get(device, [])[:4]}... Hint: the count lives in keyed state (one value "
                                "per device, kept by Flink), starts at 1 for a device's first reading, and grows by "
                                "one per reading")
    return passed(name, f"{len(rows)} readings of {len(expected)} devices counted per device, "
                        f"in a job with parallelism {parallelism}")


# ----------------------------------------------------------------------------- 06.2 silences


T0 = 1_762_344_000_000
SILENCE_CASES = [
    ("no readings", ([], 10 * MINUTE, T0)),
    ("regular readings: only the end of the stream is a silence",
     ([("d1", T0 + m * MINUTE) for m in range(30)], 10 * MINUTE, T0 + 60 * MINUTE)),
    ("the end is not reached yet", ([("d1", T0 + m * MINUTE) for m in range(30)], 10 * MINUTE, T0 + 35 * MINUTE)),
    ("a 30-minute hole", ([("d1", T0 + m * MINUTE) for m in list(range(10)) + list(range(40, 50))],
                          10 * MINUTE, T0 + 49 * MINUTE)),
    ("a gap of exactly gap_ms is not a silence", ([("d1", T0), ("d1", T0 + 10 * MINUTE), ("d1", T0 + 21 * MINUTE)],
                                                   10 * MINUTE, T0 + 21 * MINUTE)),
    ("out-of-order arrival fills the hole", ([("d1", T0), ("d1", T0 + 20 * MINUTE), ("d1", T0 + 10 * MINUTE)],
                                             10 * MINUTE, T0 + 20 * MINUTE)),
    ("duplicates and two devices", ([("d2", T0), ("d1", T0), ("d1", T0), ("d2", T0 + 15 * MINUTE),
                                     ("d1", T0 + 30 * MINUTE)], 10 * MINUTE, T0 + 40 * MINUTE)),
    ("alerts sorted by time, then device", ([("d2", T0), ("d1", T0), ("d3", T0 - MINUTE)], 5 * MINUTE,
                                            T0 + 60 * MINUTE)),
]


def check_silences(function: Callable[[list, int, int], list]) -> CheckResult:
    return check_cases(
        "silences", lambda *args: [tuple(alert) for alert in function(*args)], silences, SILENCE_CASES,
        hint="per device, sort the distinct event times; after each one, if the next is more than gap_ms later "
             "(or there is none), the alert is (device, t, t + gap_ms) — kept only if t + gap_ms <= until_ms; "
             "sort by (alert_at, device)",
        probe_args=([], MINUTE, 0),
    )


# ----------------------------------------------------------------------------- 06.3 stop_with_savepoint


def stop_with_savepoint(rest_url: str, job_id: str, timeout_s: float = 120) -> str:
    """Reference for 06.3: stop the job with a savepoint (REST API) and return the savepoint's location."""
    trigger = requests.post(f"{rest_url}/jobs/{job_id}/stop", json={"drain": False}, timeout=10)
    trigger.raise_for_status()
    request_id = trigger.json()["request-id"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = requests.get(f"{rest_url}/jobs/{job_id}/savepoints/{request_id}", timeout=10).json()
        if status["status"]["id"] == "COMPLETED":
            operation = status["operation"]
            if "failure-cause" in operation:
                raise RuntimeError(f"the savepoint failed: {operation['failure-cause'].get('stack-trace', '')[:300]}")
            return operation["location"]
        time.sleep(0.5)
    raise TimeoutError(f"no savepoint for job {job_id} within {timeout_s:.0f} s")


def savepoint_folder(location: str) -> Path:
    """A savepoint location (``file:/...``) as a local folder."""
    return Path(urlparse(location).path)


def check_stop_with_savepoint(function: Callable[[str, str], str]) -> CheckResult:
    """Check 06.3 on the lab's session cluster: start a small streaming job, stop it with the learner's code."""
    from iotlab.flink import rest as flink_rest
    from iotlab.jobs import silence_alerts
    from iotlab.kafka import producer, recreate_topic
    from iotlab.sim.sensors import generate_readings, to_json_bytes

    name = "stop_with_savepoint"
    rest_url = load_settings().flink_rest_url
    if is_skipped(function, (rest_url, "0" * 32)):
        return skipped(name)
    topic = f"check.nb06.savepoint.{uuid.uuid4().hex[:8]}"
    recreate_topic(topic, partitions=1)
    silence_alerts.prepare_topics(topic)
    writer = producer()
    for reading in generate_readings(100, devices=5, seed=61):
        writer.produce(topic, key=reading["device_id"].encode(), value=to_json_bytes(reading))
    writer.flush(30)
    job_id = silence_alerts.submit(topic)
    try:
        flink_rest.wait_for_running(job_id)
        try:
            location = function(rest_url, job_id)
        except Exception as error:
            return failed(name, f"raised {type(error).__name__}: {str(error)[:200]}. Hint: POST "
                                f"{{rest_url}}/jobs/{{job_id}}/stop with json={{'drain': False}}, then poll "
                                "GET .../savepoints/<request-id> until status.id is COMPLETED")
        try:
            state = flink_rest.wait_for_state(job_id, flink_rest.TERMINAL_STATES, timeout_s=20)
        except TimeoutError:
            state = flink_rest.job_details(job_id)["state"]
        if not isinstance(location, str) or not (savepoint_folder(location) / "_metadata").exists():
            return failed(name, f"returned {location!r}, which is not a savepoint folder. Hint: return "
                                "operation.location from the COMPLETED status")
        if state != "FINISHED":
            return failed(name, f"the job is {state} after the call, expected FINISHED. Hint: /stop stops the "
                                "job; /savepoints only takes a savepoint and lets it run")
    finally:
        flink_rest.cancel(job_id)
    return passed(name, "the job stopped with a savepoint, and the returned location holds it")
