"""Notebook 06 (state and checkpoints): keyed value state, silences in plain Python and then with keyed state
and event-time timers, stopping a job with a savepoint through the REST API."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import urlparse

import requests
from pyflink.common import Row, Types
from pyflink.datastream.functions import KeyedProcessFunction
from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

from iotlab.core.offline import END_OF_INPUT
from iotlab.core.settings import load_settings
from iotlab.core.timestamps import timestamp_text
from iotlab.course.checks import (  # noqa: F401 (class_or_reference: the notebook calls nb06.class_or_reference)
    CheckResult,
    check_cases,
    class_or_reference,
    failed,
    is_skipped,
    passed,
    skipped,
)
from iotlab.course.keyed import check_keyed
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
    """Check 06.1: the learner's KeyedProcessFunction in process, then in a real (in-process) Flink job."""
    readings = _count_cases()
    expected = expected_running_counts(readings)

    def verify(rows: list) -> Optional[str]:
        actual: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for row in rows:
            actual[row.device_id].append((row.event_ms, row.count))
        for device, sequence in expected.items():
            if actual.get(device) != sequence:
                return (f"{device}: expected (event_ms, count) {sequence[:4]}..., got {actual.get(device, [])[:4]}... "
                        "Hint: the count lives in keyed state (one value per device, kept by Flink), starts at 1 "
                        "for a device's first reading, and grows by one per reading")
        return None

    return check_keyed("RunningCount", function_class, readings, RUNNING_COUNT_TYPE, verify,
                       "in open(), runtime_context.get_state(ValueStateDescriptor('count', Types.LONG())); in "
                       "process_element, read .value() (None at first), .update() it and yield a Row",
                       f"{len(readings)} readings of {len(expected)} devices counted per device, in keyed state",
                       parallelism=parallelism)


# ----------------------------------------------------------------------------- 06.2 silences


T0 = 1_762_344_000_000
SILENCE_CASES = [
    ("no readings", ([], 10 * MINUTE, T0)),
    ("regular readings, the watermark 60 minutes on: silent since the last one",
     ([("d1", T0 + m * MINUTE) for m in range(30)], 10 * MINUTE, T0 + 60 * MINUTE)),
    ("the watermark has not reached last reading + gap yet",
     ([("d1", T0 + m * MINUTE) for m in range(30)], 10 * MINUTE, T0 + 35 * MINUTE)),
    ("the input has ended (END_OF_INPUT): the end of a recording is not a silence",
     ([("d1", T0 + m * MINUTE) for m in range(30)], 10 * MINUTE, END_OF_INPUT)),
    ("a 30-minute hole", ([("d1", T0 + m * MINUTE) for m in list(range(10)) + list(range(40, 50))],
                          10 * MINUTE, T0 + 49 * MINUTE)),
    ("a 30-minute hole, then the input ends: the later reading proves the hole",
     ([("d1", T0 + m * MINUTE) for m in list(range(10)) + list(range(40, 50))], 10 * MINUTE, END_OF_INPUT)),
    ("a gap of exactly gap_ms is a silence, one shorter is not",
     ([("d1", T0), ("d1", T0 + 10 * MINUTE), ("d1", T0 + 19 * MINUTE)], 10 * MINUTE, T0 + 21 * MINUTE)),
    ("out-of-order arrival fills the hole", ([("d1", T0), ("d1", T0 + 20 * MINUTE), ("d1", T0 + 9 * MINUTE)],
                                             10 * MINUTE, T0 + 20 * MINUTE)),
    ("duplicates and two devices", ([("d2", T0), ("d1", T0), ("d1", T0), ("d2", T0 + 15 * MINUTE),
                                     ("d1", T0 + 30 * MINUTE)], 10 * MINUTE, T0 + 40 * MINUTE)),
    ("alerts sorted by time, then device", ([("d2", T0), ("d1", T0), ("d3", T0 - MINUTE)], 5 * MINUTE,
                                            T0 + 60 * MINUTE)),
]


def check_silences(function: Callable[[list, int, int], list]) -> CheckResult:
    return check_cases(
        "silences", lambda *args: [tuple(alert) for alert in function(*args)], silences, SILENCE_CASES,
        hint="per device, sort the distinct event times; after each t whose next time is gap_ms or more later "
             "(or that has none), the alert is (device, t, t + gap_ms); it is raised if t + gap_ms <= watermark_ms, "
             "or, when watermark_ms is END_OF_INPUT, only if a next time exists; sort by (alert_at, device)",
        probe_args=([], MINUTE, 0),
    )


# ----------------------------------------------------------------------------- 06.3 SilenceTimer

SILENCE_TYPE = Types.ROW_NAMED(["device_id", "silent_since_ms", "alert_at_ms"],
                               [Types.STRING(), Types.LONG(), Types.LONG()])
TIMER_OUT_OF_ORDERNESS_MS = 30 * MINUTE


class SilenceTimer(KeyedProcessFunction):
    """Reference for 06.3: per device, Row(device_id, silent_since_ms, alert_at_ms) after ``gap_ms`` without a
    reading. ``iotlab.jobs.silence_alerts.SilenceDetector`` is the same, plus late readings to a side output."""

    def __init__(self, gap_ms: int) -> None:
        self.gap_ms = gap_ms

    def open(self, runtime_context) -> None:
        self.pending = runtime_context.get_map_state(MapStateDescriptor("pending", Types.LONG(), Types.INT()))
        self.last_seen = runtime_context.get_state(ValueStateDescriptor("last_seen", Types.LONG()))

    def process_element(self, reading, ctx):
        already = self.pending.get(reading.event_ms) if self.pending.contains(reading.event_ms) else 0
        self.pending.put(reading.event_ms, already + 1)
        ctx.timer_service().register_event_time_timer(reading.event_ms)
        ctx.timer_service().register_event_time_timer(reading.event_ms + self.gap_ms)
        return iter(())

    def on_timer(self, timestamp, ctx):
        last_seen = self.last_seen.value()
        if last_seen is not None and last_seen + self.gap_ms == timestamp:
            ended = ctx.timer_service().current_watermark() == END_OF_INPUT
            if not ended or list(self.pending.keys()):  # not is_empty(): see silence_alerts.SilenceDetector
                yield Row(device_id=ctx.get_current_key(), silent_since_ms=last_seen, alert_at_ms=timestamp)
        if self.pending.contains(timestamp):
            self.pending.remove(timestamp)
            self.last_seen.update(timestamp)


def _timer_cases() -> list[Row]:
    """Readings of four devices, one every minute or so, in the order a partition would deliver them.

    device-a is silent for 25 minutes; device-b reports every 10 minutes, exactly the gap, so it is silent
    after each reading; device-e every 9 minutes, so never; device-c has a 30-minute hole, and the reading that
    ends it arrives 10 minutes early (before the silence is due); device-d's readings all arrive 15 minutes late,
    with a hole of its own. No reading is more than 15 minutes behind the newest one read before it: none is
    late for a 30-minute bound. Every device reports until the last 15 minutes, so no real watermark (at most
    the newest time - 30 minutes) reaches a last reading + gap: only the end of the input does, and that is no
    silence, whenever Flink happens to emit its watermarks.
    """
    sent: list[tuple[int, str, int]] = []  # (arrival minute, device, event minute)
    for minute in range(90):
        if not 20 <= minute < 45:
            sent.append((minute, "device-a", minute))
        if minute % 10 == 0:
            sent.append((minute, "device-b", minute))
        if minute % 9 == 0:
            sent.append((minute, "device-e", minute))
        if minute < 30 or minute >= 60:
            sent.append((minute - 10 if minute == 60 else minute, "device-c", minute))
        if minute % 3 == 0 and not 30 <= minute < 50:
            sent.append((minute + 15, "device-d", minute))
    sent.sort(key=lambda arrival: arrival[0])  # stable: same-minute arrivals keep their order
    return [Row(device_id=device, event_ms=T0 + minute * MINUTE, temperature=20.0, humidity=40.0)
            for _, device, minute in sent]


def check_silence_timer(function_class: type, parallelism: int = 2) -> CheckResult:
    """Check 06.3: the learner's KeyedProcessFunction with keyed state and event-time timers, in process and then
    in a real Flink job with watermarks, against ``silences`` on the same readings."""
    gap_ms = 10 * MINUTE
    readings = _timer_cases()
    expected = silences([(r.device_id, r.event_ms) for r in readings], gap_ms, END_OF_INPUT)

    def verify(rows: list) -> Optional[str]:
        actual = sorted(((row.device_id, row.silent_since_ms, row.alert_at_ms) for row in rows),
                        key=lambda alert: (alert[2], alert[0]))
        if actual == expected:
            return None
        missing = [alert for alert in expected if alert not in actual]
        extra = [alert for alert in actual if alert not in expected]
        return (f"{len(actual)} alerts, expected {len(expected)}; missing {_alerts_text(missing)}, not expected "
                f"{_alerts_text(extra)} (device, silent since, alert at). Hint: release readings in "
                "event-time order with a timer at each reading's time; when the timer at t + gap finds last_seen still "
                "at t, alert (before releasing a reading at that moment: a gap of exactly gap_ms is a silence), "
                "except at the end of the input (watermark END_OF_INPUT) with nothing left in pending (ask "
                "list(self.pending.keys()): PyFlink's MapState.is_empty() can answer False after the last remove)")

    return check_keyed("SilenceTimer", function_class, readings, SILENCE_TYPE, verify,
                       "open() gets a MapState and a ValueState from runtime_context; process_element counts the "
                       "reading in pending and registers two event-time timers; on_timer yields a Row",
                       f"{len(expected)} alerts for {len({r.device_id for r in readings})} devices, equal to "
                       "silences(), from keyed state and event-time timers", constructor_args=(gap_ms,),
                       parallelism=parallelism, out_of_orderness_ms=TIMER_OUT_OF_ORDERNESS_MS)


def _alerts_text(alerts: list[tuple[str, int, int]]) -> str:
    """The first three alerts, their times as UTC ISO 8601 text."""
    shown = [f"({device}, {timestamp_text(since)}, {timestamp_text(at)})" for device, since, at in alerts[:3]]
    return f"[{', '.join(shown)}{', ...' if len(alerts) > 3 else ''}]" if alerts else "none"


# ----------------------------------------------------------------------------- 06.4 stop_with_savepoint


def stop_with_savepoint(rest_url: str, job_id: str, timeout_s: float = 120) -> str:
    """Reference for 06.4: stop the job with a savepoint (REST API) and return the savepoint's location."""
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
    """Check 06.4 on the lab's session cluster: start a small streaming job, stop it with the learner's code."""
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
