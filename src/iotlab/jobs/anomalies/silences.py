"""Offline alerts the end of an input did not cause: the session windows' candidates, confirmed or dropped.

A session window closes when the watermark passes the device's last reading + gap. In a live stream that
watermark is real: the other readings moved past that moment while the device said nothing. At the end of a
bounded input, Flink sends one last watermark, ``Long.MAX_VALUE``, which closes every device's last session
too: that is the recording ending, not a device going silent, and no alert may come of it.

The window's rows reach the next operator before the watermark that closed them, so nothing downstream of
the window can tell which watermark that was when a row arrives. ``ConfirmSilences`` (keyed by device) holds
each candidate in state with an event-time timer at its alert time, and decides when the timer fires:

- fired by a real watermark: the silence happened; the alert goes on;
- fired by the end of the input: only if the device has a later candidate (then a later reading ended
  this silence, and the batch reference raises it too); its last session is dropped.

Only the candidates cross to Python (one per silence and per device at the end): a few rows.
"""

from __future__ import annotations

import json

from pyflink.common import Row, Types
from pyflink.datastream import DataStream
from pyflink.datastream.functions import KeyedProcessFunction
from pyflink.datastream.state import MapStateDescriptor

from iotlab.core.offline import END_OF_INPUT
from iotlab.core.timestamps import timestamp_ms, timestamp_text
from iotlab.jobs.anomalies.sql import SILENCE

# A store row, as the Cassandra writer takes it: kind (window, latest, alert), device_id, the row as JSON.
STORE_ROW_TYPE = Types.ROW_NAMED(["kind", "device_id", "row"], [Types.STRING(), Types.STRING(), Types.STRING()])


class ConfirmSilences(KeyedProcessFunction):
    """Per device: hold each offline candidate (kind ``silence``) until a watermark passes its alert time (see
    the module); it leaves as kind ``alert``. Any other row passes at once, as it is."""

    def __init__(self) -> None:
        self.held = None

    def open(self, runtime_context) -> None:
        self.held = runtime_context.get_map_state(MapStateDescriptor("held", Types.LONG(), Types.STRING()))

    def process_element(self, candidate, ctx):
        if candidate.kind != SILENCE:
            yield Row(kind=candidate.kind, device_id=candidate.device_id, row=candidate.row)
            return
        alert = json.loads(candidate.row)
        alert_ms = timestamp_ms(alert["alert_at"])
        self.held.put(alert_ms, json.dumps(in_contract_times(alert), sort_keys=True))
        ctx.timer_service().register_event_time_timer(alert_ms)

    def on_timer(self, timestamp, ctx):
        row = self.held.get(timestamp)
        self.held.remove(timestamp)
        if row is None:
            return
        end_of_input = ctx.timer_service().current_watermark() == END_OF_INPUT
        if end_of_input and not any(later > timestamp for later in self.held.keys()):
            return  # the device's last session, closed by the end of the recording
        yield Row(kind="alert", device_id=ctx.get_current_key(), row=row)


def in_contract_times(alert: dict) -> dict:
    """The alert's times as the detectors write them (``timestamp_text``: milliseconds only when some)."""
    return {**alert, **{key: timestamp_text(timestamp_ms(alert[key])) for key in ("alert_at", "start", "end")}}


def confirm_silences(candidates: DataStream) -> DataStream:
    """(kind, device_id, row) rows, offline candidates among them → the same rows, each candidate confirmed (as
    kind ``alert``) or dropped."""
    return (candidates.key_by(lambda candidate: candidate.device_id, key_type=Types.STRING())
            .process(ConfirmSilences(), output_type=STORE_ROW_TYPE)
            .name("confirm silences").uid("confirm-silences"))
