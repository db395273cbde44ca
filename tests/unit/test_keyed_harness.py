"""The in-process harness of the keyed exercises' checks (``iotlab.course.keyed``): the first stage of a check.

It must behave as Flink does where the exercises can tell (state per key, a copy kept on update, event-time
timers fired in time order once the watermark passes them, every timer at the end of a bounded input), and a
wrong answer must fail in it, before a Flink job is started.
"""

from __future__ import annotations

import re

import pytest
from pyflink.common import Row, Types
from pyflink.datastream.functions import KeyedProcessFunction
from pyflink.datastream.state import ValueStateDescriptor

from iotlab.course import keyed
from iotlab.course.exercises import nb06, nb10
from tests.unit.test_exercises_nb10 import BothValuesTogether  # the old both-values stuck rule

T0 = 1_762_344_000_000
MINUTE = 60_000


def reading(device: str, minute: int) -> Row:
    return Row(device_id=device, event_ms=T0 + minute * MINUTE, temperature=20.0, humidity=40.0)


class CountAndEcho(KeyedProcessFunction):
    """Counts per key in a ValueState; a timer one minute after each reading yields (key, timer, count)."""

    def open(self, runtime_context):
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))
        self.seen = runtime_context.get_state(ValueStateDescriptor("seen", Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, value, ctx):
        self.count.update((self.count.value() or 0) + 1)
        seen = self.seen.value() or []
        seen.append(value.event_ms)  # changed after value(): Flink keeps nothing until update()
        ctx.timer_service().register_event_time_timer(value.event_ms + MINUTE)
        yield ("element", ctx.get_current_key(), ctx.timestamp(), ctx.timer_service().current_watermark())

    def on_timer(self, timestamp, ctx):
        yield ("timer", ctx.get_current_key(), timestamp, self.count.value(), self.seen.value())


def test_state_is_per_key_and_timers_fire_in_time_order_once_the_watermark_passes_them():
    readings = [reading("b", 0), reading("a", 0), reading("a", 5), reading("b", 1)]
    output = keyed.run_in_harness(CountAndEcho(), readings, out_of_orderness_ms=2 * MINUTE)
    assert output == [
        ("element", "b", T0, keyed.MIN_WATERMARK),
        ("element", "a", T0, T0 - 2 * MINUTE - 1),
        ("element", "a", T0 + 5 * MINUTE, T0 - 2 * MINUTE - 1),
        # the watermark reached T0 + 3 min - 1 after a's minute-5 reading: the timers at minute 1 fire
        ("timer", "a", T0 + MINUTE, 2, None),
        ("timer", "b", T0 + MINUTE, 1, None),
        ("element", "b", T0 + MINUTE, T0 + 3 * MINUTE - 1),  # behind the watermark, still processed
        ("timer", "b", T0 + 2 * MINUTE, 2, None),  # registered behind the watermark: fires at once
        ("timer", "a", T0 + 6 * MINUTE, 2, None),  # the end of the input: every remaining timer
    ]


def test_without_a_watermark_strategy_timestamps_are_none_and_timers_fire_at_the_end():
    output = keyed.run_in_harness(CountAndEcho(), [reading("a", 0), reading("a", 9)])
    assert [item[0] for item in output] == ["element", "element", "timer", "timer"]
    assert output[0][2] is None


class AlertsWithoutAGap(nb06.SilenceTimer):
    """Alerts at every reading's timer, whether or not a newer reading came in time."""

    def on_timer(self, timestamp, ctx):
        if self.pending.contains(timestamp):
            self.pending.remove(timestamp)
            self.last_seen.update(timestamp)
        else:
            yield Row(device_id=ctx.get_current_key(), silent_since_ms=timestamp - self.gap_ms, alert_at_ms=timestamp)


class ReleasesBeforeDeciding(nb06.SilenceTimer):
    """Releases a reading at the timer's moment before deciding: a gap of exactly gap_ms is missed."""

    def on_timer(self, timestamp, ctx):
        if self.pending.contains(timestamp):
            self.pending.remove(timestamp)
            self.last_seen.update(timestamp)
        if self.last_seen.value() + self.gap_ms == timestamp and list(self.pending.keys()):
            yield Row(device_id=ctx.get_current_key(), silent_since_ms=self.last_seen.value(), alert_at_ms=timestamp)


class AlertsAtTheEnd(nb06.SilenceTimer):
    """Takes the end of the input for a silence: every device's last reading alerts."""

    def on_timer(self, timestamp, ctx):
        last_seen = self.last_seen.value()
        if last_seen is not None and last_seen + self.gap_ms == timestamp:
            yield Row(device_id=ctx.get_current_key(), silent_since_ms=last_seen, alert_at_ms=timestamp)
        if self.pending.contains(timestamp):
            self.pending.remove(timestamp)
            self.last_seen.update(timestamp)


class TemperatureOnly(nb10.StuckSensor):
    """Watches the temperature alone: a stuck humidity probe goes unseen."""

    def process_element(self, reading, ctx):
        for row in super().process_element(reading, ctx):
            if row.quantity == "temperature":
                yield row


@pytest.mark.parametrize("check, wrong", [(nb06.check_silence_timer, AlertsWithoutAGap),
                                          (nb06.check_silence_timer, ReleasesBeforeDeciding),
                                          (nb06.check_silence_timer, AlertsAtTheEnd),
                                          (nb10.check_stuck_sensor, TemperatureOnly),
                                          (nb10.check_stuck_sensor, BothValuesTogether)])
def test_a_wrong_answer_fails_before_any_flink_job(monkeypatch, check, wrong):
    monkeypatch.setattr(keyed, "run_in_flink", lambda *a, **k: pytest.fail("a Flink job ran for a wrong answer"))
    result = check(wrong)
    assert not result.passed and not result.skipped
    assert not re.search(r"\d{13}", result.message), "times as UTC ISO 8601, not epoch milliseconds"
