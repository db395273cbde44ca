"""The simulator's records, remembering when each new newest event time was handed to the producer: what a
benchmark needs to turn an event time ("the window ending at 10:05 closed") into a wall-clock moment ("when
the first reading past 10:05 was sent")."""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from typing import Iterator, Optional

from iotlab.core.timestamps import epoch_ms
from iotlab.kafka import SendSummary, send_records
from iotlab.sim.sensors import SensorSimulator, SimulationConfig


class PacedStream:
    """The simulator's records with the wall-clock moment each new newest event time was sent; ``stop`` ends an
    endless stream (a configuration with a long ``duration_s``)."""

    def __init__(self, config: SimulationConfig, stop: Optional[threading.Event] = None) -> None:
        self.config = config
        self.stop = stop
        self.event_ms: list[int] = []  # increasing
        self.sent_at: list[float] = []  # time.time() when that event time was first sent

    def records(self) -> Iterator[tuple[int, bytes, bytes]]:
        newest = None
        for record in SensorSimulator(self.config).records():
            if self.stop is not None and self.stop.is_set():
                return
            moment = epoch_ms(record.event_time)
            if newest is None or moment > newest:
                newest = moment
                self.event_ms.append(moment)
                self.sent_at.append(time.time())
            yield record.seq, record.key, record.value

    def first_sent(self, event_ms: int) -> float:
        """When the first reading at or after ``event_ms`` was sent (IndexError when none was yet)."""
        return self.sent_at[bisect_left(self.event_ms, event_ms)]

    def was_sent(self, event_ms: int) -> bool:
        """Whether a reading at or after ``event_ms`` has been sent."""
        return bool(self.event_ms) and self.event_ms[-1] >= event_ms


class SteadyLoad:
    """The simulator's readings sent to ``topic`` at ``rate``/s in a background thread until ``stop()``: the
    steady load a fault drill or a metrics plot watches a running job under. Event time starts at the
    simulator's default start and advances one ``interval`` per device round, so at ``rate`` readings/s from
    ``devices`` devices it runs ``rate / devices`` times faster than the wall clock."""

    def __init__(self, topic: str, rate: int, devices: int, seed: int = 11, interval_s: float = 1) -> None:
        self.stop_event = threading.Event()
        self.topic = topic
        self.rate = rate
        config = SimulationConfig(devices=devices, interval_s=interval_s, duration_s=365 * 24 * 3600, seed=seed,
                                  anomaly_rate=0.002, malformed_rate=0.001)
        self.stream = PacedStream(config, stop=self.stop_event)
        self.sent: Optional[SendSummary] = None
        self.thread = threading.Thread(target=self._send, daemon=True)

    def _send(self) -> None:
        self.sent = send_records(self.stream.records(), self.topic, rate=self.rate, progress=False)

    def start(self) -> "SteadyLoad":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join()
