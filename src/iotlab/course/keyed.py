"""Running a learner's KeyedProcessFunction for a check: first in process, then once in real Flink.

Exercises 06.1, 06.3, 10.1 and 10.2 ask for a ``KeyedProcessFunction`` with keyed state (and, for 06.3,
event-time timers). Their checks run it in two stages, as flink-training's tests do with Flink's test harness:

1. in process (:func:`run_in_harness`): a small harness of keyed state and event-time timers calls the
   function's ``open``, ``process_element`` and ``on_timer`` directly, one reading at a time, so a wrong answer
   fails in milliseconds with the function's own Python error;
2. once in a real (in-process) Flink job with parallelism 2 (:func:`run_in_flink`): what passes the harness
   must also pass where Flink serializes the function, keeps the state and fires the timers.

Both stages wrap the function with :func:`guarded`, which fails it when a plain Python attribute changes after
``open``: per-device data kept there is shared by every key of a subtask and lost on restart.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Callable, Iterable, Optional

from pyflink.common import Duration, Row, Types, WatermarkStrategy
from pyflink.datastream.functions import KeyedProcessFunction
from pyflink.datastream.state import (
    ListState,
    ListStateDescriptor,
    MapState,
    MapStateDescriptor,
    State,
    ValueState,
    ValueStateDescriptor,
)
from pyflink.datastream.time_domain import TimeDomain
from pyflink.datastream.timerservice import TimerService

from iotlab.core.offline import END_OF_INPUT
from iotlab.course.checks import CheckResult, error_reason, failed, open_is_stub, passed, skipped
from iotlab.flink import PARSED_READING_TYPE, EventTime, stream_environment

MIN_WATERMARK = -(2**63)  # Flink's watermark before any is emitted (Long.MIN_VALUE)
PLAIN_ATTRIBUTE_MARK = "IOTLAB-PLAIN-ATTRIBUTE"

# ----------------------------------------------------------------------------- plain attributes


def _plain_attributes(function) -> dict:
    """A copy of the function's attributes that are not Flink state (state handles are Flink's to change)."""
    plain = {}
    for attribute, value in vars(function).items():
        if attribute.startswith("_iotlab") or isinstance(value, State):
            continue
        try:
            plain[attribute] = copy.deepcopy(value)
        except Exception:  # an object that cannot be copied cannot be compared either: leave it out
            continue
    return plain


def guarded(function_class: type) -> type:
    """The learner's KeyedProcessFunction, failing the job when a plain Python attribute changes after open().

    Per-key data kept in ``self.something`` is shared by every key of the subtask and lost when the job
    restarts from a checkpoint; a test stream cannot always show that, so the check looks at the attributes.
    """

    class Guarded(function_class):
        def open(self, runtime_context):
            super().open(runtime_context)
            self._iotlab_plain = _plain_attributes(self)

        def process_element(self, value, ctx):
            yield from super().process_element(value, ctx) or ()
            self._iotlab_compare(ctx)

        def on_timer(self, timestamp, ctx):
            yield from super().on_timer(timestamp, ctx) or ()
            self._iotlab_compare(ctx)

        def _iotlab_compare(self, ctx) -> None:
            now = _plain_attributes(self)
            for attribute in sorted(set(now) | set(self._iotlab_plain)):
                if now.get(attribute, "<absent>") != self._iotlab_plain.get(attribute, "<absent>"):
                    raise RuntimeError(f"{PLAIN_ATTRIBUTE_MARK} self.{attribute} changed while handling key "
                                       f"{ctx.get_current_key()!r} {PLAIN_ATTRIBUTE_MARK}")

    Guarded.__name__ = Guarded.__qualname__ = function_class.__name__
    return Guarded


def job_failure(error: BaseException, hint: str, in_flink: bool = True) -> str:
    """Why the learner's function failed, in one line, with the hint (or the plain-attribute explanation)."""
    text = str(error)
    marked = re.search(f"{PLAIN_ATTRIBUTE_MARK} (.*?) {PLAIN_ATTRIBUTE_MARK}", text)
    if marked:
        return (f"{marked.group(1)}: per-device data must live in keyed state (ValueState, MapState), not in a "
                "Python attribute, which is shared by all the keys of a subtask and lost when the job restarts")
    if not in_flink:
        return f"your function raised {type(error).__name__}: {text.strip()[:300]}. Hint: {hint}"
    python_errors = re.findall(r"^\s*(\w+(?:Error|Exception): .*)$", text, flags=re.MULTILINE)
    reason = python_errors[0] if python_errors else error_reason(error)
    return f"the Flink job failed: {reason.strip()[:300]}. Hint: {hint}"


# ----------------------------------------------------------------------------- stage 1: the harness


class _KeyedValue(ValueState):
    def __init__(self, harness: "KeyedHarness", name: str) -> None:
        self._harness, self._name = harness, name

    def value(self):
        return self._harness.state_of(self._name).get(self._harness.current_key)

    def update(self, value) -> None:
        # Flink keeps a serialized copy: changing the object afterwards without update() changes nothing there.
        self._harness.state_of(self._name)[self._harness.current_key] = copy.deepcopy(value)

    def clear(self) -> None:
        self._harness.state_of(self._name).pop(self._harness.current_key, None)


class _KeyedMap(MapState):
    def __init__(self, harness: "KeyedHarness", name: str) -> None:
        self._harness, self._name = harness, name

    def _entries(self) -> dict:
        return self._harness.state_of(self._name).setdefault(self._harness.current_key, {})

    def get(self, key):
        return self._entries().get(key)

    def put(self, key, value) -> None:
        self._entries()[key] = copy.deepcopy(value)

    def put_all(self, dict_value) -> None:
        for key, value in dict_value.items():
            self.put(key, value)

    def remove(self, key) -> None:
        self._entries().pop(key, None)

    def contains(self, key) -> bool:
        return key in self._entries()

    def items(self):
        return list(self._entries().items())

    def keys(self):
        return list(self._entries().keys())

    def values(self):
        return list(self._entries().values())

    def is_empty(self) -> bool:
        return not self._entries()

    def clear(self) -> None:
        self._harness.state_of(self._name).pop(self._harness.current_key, None)


class _KeyedList(ListState):
    def __init__(self, harness: "KeyedHarness", name: str) -> None:
        self._harness, self._name = harness, name

    def _items(self) -> list:
        return self._harness.state_of(self._name).setdefault(self._harness.current_key, [])

    def get(self):
        return list(self._items())

    def add(self, value) -> None:
        self._items().append(copy.deepcopy(value))

    def add_all(self, values) -> None:
        for value in values:
            self.add(value)

    def update(self, values) -> None:
        self._harness.state_of(self._name)[self._harness.current_key] = [copy.deepcopy(v) for v in values]

    def clear(self) -> None:
        self._harness.state_of(self._name).pop(self._harness.current_key, None)


class _RuntimeContext:
    """What ``open`` may ask for: keyed state, by descriptor."""

    def __init__(self, harness: "KeyedHarness") -> None:
        self._harness = harness

    def get_state(self, descriptor: ValueStateDescriptor) -> ValueState:
        return _KeyedValue(self._harness, descriptor.get_name())

    def get_map_state(self, descriptor: MapStateDescriptor) -> MapState:
        return _KeyedMap(self._harness, descriptor.get_name())

    def get_list_state(self, descriptor: ListStateDescriptor) -> ListState:
        return _KeyedList(self._harness, descriptor.get_name())

    def get_index_of_this_subtask(self) -> int:
        return 0

    def get_number_of_parallel_subtasks(self) -> int:
        return 1


class _Timers(TimerService):
    def __init__(self, harness: "KeyedHarness") -> None:
        self._harness = harness

    def current_processing_time(self) -> int:
        raise NotImplementedError("the course's keyed exercises use event time only")

    def current_watermark(self) -> int:
        return self._harness.watermark

    def register_processing_time_timer(self, timestamp: int) -> None:
        raise NotImplementedError("the course's keyed exercises use event-time timers only")

    def register_event_time_timer(self, timestamp: int) -> None:
        self._harness.timers.add((int(timestamp), self._harness.current_key))

    def delete_processing_time_timer(self, timestamp: int) -> None:
        raise NotImplementedError("the course's keyed exercises use event-time timers only")

    def delete_event_time_timer(self, timestamp: int) -> None:
        self._harness.timers.discard((int(timestamp), self._harness.current_key))


class _Context(KeyedProcessFunction.OnTimerContext):
    def __init__(self, harness: "KeyedHarness", timestamp: Optional[int]) -> None:
        self._harness, self._timestamp = harness, timestamp

    def get_current_key(self):
        return self._harness.current_key

    def timer_service(self) -> TimerService:
        return _Timers(self._harness)

    def timestamp(self) -> Optional[int]:
        return self._timestamp

    def time_domain(self) -> TimeDomain:
        return TimeDomain.EVENT_TIME


class KeyedHarness:
    """One KeyedProcessFunction, keyed by ``device_id``, fed one reading at a time in this process.

    Keyed state is a dictionary per state name, from key to value. Event time, when ``out_of_orderness_ms``
    is given, is each reading's ``event_ms``; after each reading the watermark becomes the largest event time
    seen minus the bound minus 1 ms (Flink's bounded-out-of-orderness rule), and every timer at or before it
    fires, in time order. At the end of the input the watermark jumps to the end of time, as in a bounded Flink
    job, and the remaining timers fire.
    """

    def __init__(self, function: KeyedProcessFunction, out_of_orderness_ms: Optional[int] = None) -> None:
        self.function = function
        self.out_of_orderness_ms = out_of_orderness_ms
        self.states: dict[str, dict] = {}
        self.timers: set[tuple[int, Any]] = set()
        self.watermark = MIN_WATERMARK
        self.current_key: Any = None
        self.output: list = []
        function.open(_RuntimeContext(self))

    def state_of(self, name: str) -> dict:
        return self.states.setdefault(name, {})

    def process(self, reading: Row) -> None:
        self.current_key = reading.device_id
        timestamp = reading.event_ms if self.out_of_orderness_ms is not None else None
        self.output += list(self.function.process_element(reading, _Context(self, timestamp)) or ())
        if self.out_of_orderness_ms is not None:
            self.advance(max(self.watermark, reading.event_ms - self.out_of_orderness_ms - 1))

    def advance(self, watermark: int) -> None:
        """Move the watermark forward and fire the due timers (a timer set while firing fires too, if due)."""
        self.watermark = watermark
        while True:
            due = [timer for timer in self.timers if timer[0] <= watermark]
            if not due:
                return
            timestamp, key = min(due, key=lambda timer: (timer[0], str(timer[1])))
            self.timers.discard((timestamp, key))
            self.current_key = key
            self.output += list(self.function.on_timer(timestamp, _Context(self, timestamp)) or ())

    def finish(self) -> list:
        self.advance(END_OF_INPUT)
        return self.output


def run_in_harness(function: KeyedProcessFunction, readings: Iterable[Row],
                   out_of_orderness_ms: Optional[int] = None) -> list:
    """Stage 1: the function over ``readings`` in this process (see ``KeyedHarness``); what it yields."""
    harness = KeyedHarness(function, out_of_orderness_ms)
    for reading in readings:
        harness.process(reading)
    return harness.finish()


# ----------------------------------------------------------------------------- stage 2: real Flink


def run_in_flink(function: KeyedProcessFunction, readings: list[Row], output_type, parallelism: int,
                 out_of_orderness_ms: Optional[int] = None) -> list[Row]:
    """Stage 2: a KeyedProcessFunction over ``readings`` (keyed by device) in a real in-process Flink job; with
    ``out_of_orderness_ms``, event time comes from ``event_ms`` with a bounded-out-of-orderness watermark."""
    # A job fed from a collection needs no Kafka connector: it runs without the lab.
    env = stream_environment(options={"restart-strategy.type": "none"}, kafka=False)
    env.set_parallelism(parallelism)  # several subtasks: the state must be per key, not per Python object
    stream = env.from_collection(readings, type_info=PARSED_READING_TYPE)
    if out_of_orderness_ms is not None:
        strategy = (WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(out_of_orderness_ms))
                    .with_timestamp_assigner(EventTime()))
        stream = stream.assign_timestamps_and_watermarks(strategy)
    keyed = stream.key_by(lambda r: r.device_id, key_type=Types.STRING())
    return list(keyed.process(function, output_type=output_type).execute_and_collect())


def check_keyed(name: str, function_class: type, readings: list[Row], output_type,
                verify: Callable[[list], Optional[str]], hint: str, success: str, constructor_args: tuple = (),
                parallelism: int = 2,
                out_of_orderness_ms: Optional[int] = None) -> CheckResult:
    """The check of a keyed exercise: skipped while its ``open`` is the skeleton; else the (guarded) function
    runs in the harness, then in Flink, and ``verify`` turns what it yielded into a failure message or None.
    Failed with the first failure (the function's error, with ``hint``, or ``verify``'s); else passed with
    ``success``."""
    if open_is_stub(function_class, *constructor_args):
        return skipped(name)

    def make_function() -> KeyedProcessFunction:
        return guarded(function_class)(*constructor_args)

    stages = ((False, lambda: run_in_harness(make_function(), readings, out_of_orderness_ms)),
              (True, lambda: run_in_flink(make_function(), readings, output_type, parallelism, out_of_orderness_ms)))
    for in_flink, run in stages:
        try:
            rows = run()
        except Exception as error:
            return failed(name, job_failure(error, hint, in_flink))
        problem = verify(rows)
        if problem is not None:
            return failed(name, problem)
    return passed(name, f"{success}, in process and in a Flink job with parallelism {parallelism}")
