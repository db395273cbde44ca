"""A deterministic IoT sensor simulator: the same seed and settings always give the same bytes.

Each device has its own baseline temperature and humidity; temperature follows a daily cycle
(warmest mid-afternoon) plus Gaussian noise. Readings follow the data contract in DESIGN.md:

    {"device_id": "device-01", "timestamp": "2025-11-05T12:00:00Z",
     "temperature": 27.5, "humidity": 40.2, "status": "OK"}

On top of that, at configurable rates, it injects what real fleets do, and records each injection as a
ground-truth **label**, kept apart from the readings (a label never travels inside a record):

| label | what happens |
|---|---|
| spike | one reading 12-20 °C off its normal value |
| drift | a device's temperature creeps up by up to 8 °C over 30 readings |
| stuck | a device repeats its last temperature and humidity for 20 readings |
| offline | a device sends nothing for 30 readings (the label holds the silent interval) |
| humidity_out_of_range | humidity outside 0-100 %: an impossible value |
| out_of_order | a reading sent 1-5 reporting intervals after its event time |
| late | a reading sent 15-30 minutes after its event time (behind any sane watermark) |
| duplicate | the same bytes sent a second time |
| malformed | bytes that break the contract: invalid JSON, a missing field or a wrong type |

Every label carries ``seq``: the position (0-based) of the record it describes in the emitted stream
(``None`` for ``offline``, which describes records that were never sent).

**Faults in one quantity** (``SimulationConfig.faults``, a ``QuantityFaults``): the table above is the course's
classic mix, measured in readings and always on temperature (a stuck sensor freezes both values). With
``faults`` set, spikes, drifts and stuck spans hit ONE quantity, temperature or humidity, drawn at random; their
lengths are in minutes, so they look the same at any reporting interval (1 s to 5 min); and their sizes are
drawn from ranges the caller chooses (the detectors were not tuned on them). Such labels carry ``quantity``.
"""

from __future__ import annotations

import heapq
import json
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterator, Optional

from iotlab.core.timestamps import format_timestamp, parse_timestamp

DEFAULT_START = datetime(2025, 11, 5, 12, 0, tzinfo=timezone.utc)
FIELDS = ("device_id", "timestamp", "temperature", "humidity", "status")
ANOMALY_TYPES = ("spike", "drift", "stuck", "offline", "humidity_out_of_range")
MALFORMED_TYPES = ("invalid_json", "missing_field", "wrong_type")

DRIFT_READINGS, STUCK_READINGS, OFFLINE_READINGS = 30, 20, 30
NOISE = {"temperature": 0.5, "humidity": 1.5}  # the standard deviation of each quantity's noise


@dataclass(frozen=True)
class QuantityFaults:
    """Faults in one quantity at a time, sized in minutes and in each quantity's noise (standard deviations).

    A spike is one reading ``spike_sigmas`` off; a drift creeps ``drift_sigmas`` over ``drift_minutes``; a stuck
    sensor repeats one value for ``stuck_minutes``; an offline device is silent for ``offline_minutes``.
    Each is a (low, high) range drawn from uniformly per episode."""

    quantities: tuple[str, ...] = ("temperature", "humidity")
    spike_sigmas: tuple[float, float] = (10.0, 30.0)
    drift_sigmas: tuple[float, float] = (6.0, 12.0)
    drift_minutes: tuple[float, float] = (60.0, 240.0)
    stuck_minutes: tuple[float, float] = (15.0, 60.0)
    offline_minutes: tuple[float, float] = (15.0, 60.0)

    def __post_init__(self) -> None:
        unknown = set(self.quantities) - set(NOISE)
        if not self.quantities or unknown:
            raise ValueError(f"faults.quantities must be some of {sorted(NOISE)}, not {sorted(unknown) or 'none'}")


def to_json_bytes(reading: dict) -> bytes:
    """The wire format: compact JSON, keys in contract order."""
    return json.dumps(reading, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Device:
    device_id: str
    base_temperature: float
    base_humidity: float


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. Rates are probabilities per reading (0.01 = about 1 reading in 100)."""

    devices: int = 5
    seed: int = 7
    start: datetime = DEFAULT_START
    interval_s: float = 10.0  # event time between two readings of one device
    count: Optional[int] = None  # stop after this many records (else after `duration_s`)
    duration_s: Optional[float] = None  # event-time span to simulate
    anomaly_rate: float = 0.0
    out_of_order_rate: float = 0.0
    late_rate: float = 0.0
    duplicate_rate: float = 0.0
    malformed_rate: float = 0.0
    faults: Optional[QuantityFaults] = None  # None: the classic faults of the table above

    def __post_init__(self) -> None:
        if self.devices < 1:
            raise ValueError("devices must be at least 1")
        if self.interval_s <= 0:
            raise ValueError("interval_s must be positive")
        if self.count is None and self.duration_s is None:
            raise ValueError("give a count or a duration")
        if (self.count is not None and self.count < 0) or (self.duration_s is not None and self.duration_s < 0):
            raise ValueError("count and duration must not be negative")
        for name in ("anomaly_rate", "out_of_order_rate", "late_rate", "duplicate_rate", "malformed_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")

    @property
    def milliseconds(self) -> bool:
        return not float(self.interval_s).is_integer()


@dataclass
class Record:
    """One record to send: ``value`` is exactly the bytes for Kafka (or a line of a .jsonl file)."""

    seq: int
    key: Optional[bytes]
    value: bytes
    event_time: datetime


@dataclass
class _DeviceState:
    device: Device
    episode: Optional[str] = None
    remaining: int = 0
    step: int = 0
    stuck_values: tuple[float, float] = (0.0, 0.0)
    last_values: tuple[float, float] = (0.0, 0.0)
    quantity: str = "temperature"  # the quantity the current episode hits (faults in one quantity)
    size: float = 0.0  # the episode's full drift, in the quantity's units


@dataclass(order=True)
class _Pending:
    send_time: datetime
    order: int
    reading: dict = field(compare=False)
    labels: list = field(compare=False)


def make_devices(count: int, rng: random.Random) -> list[Device]:
    """``count`` devices named device-01, device-02, ... with their own baselines."""
    return [
        Device(f"device-{number:02d}", round(rng.uniform(18.0, 28.0), 1), round(rng.uniform(30.0, 60.0), 1))
        for number in range(1, count + 1)
    ]


class SensorSimulator:
    """Iterate over ``records()``; afterwards ``labels`` holds the ground truth for what was emitted."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.fleet = [_DeviceState(device) for device in make_devices(config.devices, self.rng)]
        self.labels: list[dict] = []

    # ------------------------------------------------------------------ normal behaviour

    def _normal_values(self, device: Device, moment: datetime) -> tuple[float, float]:
        hour = moment.hour + moment.minute / 60 + moment.second / 3600
        daily = 3.0 * math.sin((hour - 9.0) / 24.0 * 2 * math.pi)  # peaks at 15:00
        temperature = device.base_temperature + daily + self.rng.gauss(0.0, 0.5)
        humidity = min(100.0, max(0.0, device.base_humidity + self.rng.gauss(0.0, 1.5)))
        return round(temperature, 2), round(humidity, 2)

    # ------------------------------------------------------------------ anomalies

    def _maybe_start_episode(self, state: _DeviceState) -> Optional[str]:
        if state.episode is not None or self.rng.random() >= self.config.anomaly_rate:
            return None
        kind = self.rng.choice(ANOMALY_TYPES)
        if kind in ("drift", "stuck", "offline"):
            state.episode, state.step = kind, 0
            state.remaining = {"drift": DRIFT_READINGS, "stuck": STUCK_READINGS, "offline": OFFLINE_READINGS}[kind]
            state.stuck_values = state.last_values
        return kind

    def _readings_in(self, minutes: tuple[float, float]) -> int:
        """How many readings an episode of ``minutes`` (a range, drawn from) lasts at this interval: at least 1."""
        return max(1, round(self.rng.uniform(*minutes) * 60 / self.config.interval_s))

    def _quantity_reading(self, state: _DeviceState, moment: datetime) -> tuple[Optional[dict], Optional[str]]:
        """Like ``_reading``, with the faults of ``config.faults``: each hits one quantity only."""
        faults = self.config.faults
        values = dict(zip(("temperature", "humidity"), self._normal_values(state.device, moment)))
        anomaly = None
        if state.episode is None and self.rng.random() < self.config.anomaly_rate:
            kind = self.rng.choice(ANOMALY_TYPES)
            state.quantity = self.rng.choice(faults.quantities)
            noise = NOISE[state.quantity]
            if kind == "spike":
                anomaly = "spike"
                values[state.quantity] += self.rng.choice((-1, 1)) * self.rng.uniform(*faults.spike_sigmas) * noise
            elif kind == "humidity_out_of_range":
                anomaly = kind
                values["humidity"] = self.rng.choice((self.rng.uniform(101.0, 140.0), self.rng.uniform(-40.0, -1.0)))
            else:
                state.episode, state.step = kind, 0
                state.remaining = self._readings_in({"drift": faults.drift_minutes, "stuck": faults.stuck_minutes,
                                                     "offline": faults.offline_minutes}[kind])
                state.size = self.rng.choice((-1, 1)) * self.rng.uniform(*faults.drift_sigmas) * noise
                state.stuck_values = state.last_values
        if state.episode is not None:
            anomaly = state.episode
            state.step += 1
            index = ("temperature", "humidity").index(state.quantity)
            if state.episode == "drift":
                values[state.quantity] += state.size * state.step / (state.step + state.remaining - 1)
            elif state.episode == "stuck":
                values[state.quantity] = state.stuck_values[index]
            state.remaining -= 1
            if state.remaining == 0:
                state.episode = None
        if anomaly == "offline":
            if state.step == 1:
                end = moment + timedelta(seconds=self.config.interval_s * state.remaining)
                self.labels.append(self._label(None, state.device.device_id, moment, "offline",
                                               f"silent until {format_timestamp(end, self.config.milliseconds)}"))
            return None, None
        temperature = round(values["temperature"], 2)
        humidity = round(min(100.0, max(0.0, values["humidity"])) if anomaly != "humidity_out_of_range"
                         else values["humidity"], 2)
        if anomaly is None:
            state.last_values = (temperature, humidity)
        return {"device_id": state.device.device_id, "timestamp": format_timestamp(moment, self.config.milliseconds),
                "temperature": temperature, "humidity": humidity, "status": "OK"}, anomaly

    def _reading(self, state: _DeviceState, moment: datetime) -> tuple[Optional[dict], Optional[str]]:
        """The device's reading at ``moment`` (None while offline) and the anomaly it shows, if any."""
        if self.config.faults is not None:
            return self._quantity_reading(state, moment)
        started = self._maybe_start_episode(state)
        temperature, humidity = self._normal_values(state.device, moment)
        anomaly = None
        if state.episode is not None:
            anomaly = state.episode
            state.step += 1
            if state.episode == "drift":
                temperature = round(temperature + 8.0 * state.step / DRIFT_READINGS, 2)
            elif state.episode == "stuck":
                temperature, humidity = state.stuck_values
            state.remaining -= 1
            if state.remaining == 0:
                state.episode = None
        elif started == "spike":
            anomaly = "spike"
            temperature = round(temperature + self.rng.choice((-1, 1)) * self.rng.uniform(12.0, 20.0), 2)
        elif started == "humidity_out_of_range":
            anomaly = "humidity_out_of_range"
            humidity = round(self.rng.choice((self.rng.uniform(101.0, 140.0), self.rng.uniform(-40.0, -1.0))), 2)
        if anomaly == "offline":
            if state.step == 1:
                end = moment + timedelta(seconds=self.config.interval_s * (OFFLINE_READINGS - 1))
                self.labels.append(self._label(None, state.device.device_id, moment, "offline",
                                               f"silent until {format_timestamp(end, self.config.milliseconds)}"))
            return None, None
        if anomaly is None:  # a stuck sensor freezes at its last normal values
            state.last_values = (temperature, humidity)
        status = "OK"
        reading = {
            "device_id": state.device.device_id,
            "timestamp": format_timestamp(moment, self.config.milliseconds),
            "temperature": temperature,
            "humidity": humidity,
            "status": status,
        }
        return reading, anomaly

    # ------------------------------------------------------------------ transport faults

    def _malformed(self, reading: dict) -> tuple[bytes, str]:
        kind = self.rng.choice(MALFORMED_TYPES)
        if kind == "invalid_json":
            text = to_json_bytes(reading).decode()
            return text[: self.rng.randint(5, len(text) - 2)].encode(), "invalid_json: truncated"
        if kind == "missing_field":
            missing = self.rng.choice(FIELDS)
            return to_json_bytes({k: v for k, v in reading.items() if k != missing}), f"missing_field: {missing}"
        wrong = dict(reading)
        target = self.rng.choice(("temperature", "humidity", "timestamp"))
        wrong[target] = {"temperature": "hot", "humidity": "wet", "timestamp": 1762344000}[target]
        return to_json_bytes(wrong), f"wrong_type: {target}"

    def _fault_quantity(self, state: _DeviceState, anomaly: str) -> Optional[str]:
        """The quantity a fault in one quantity hit (None for the classic faults, whose labels do not say)."""
        if self.config.faults is None:
            return None
        return "humidity" if anomaly == "humidity_out_of_range" else state.quantity

    @staticmethod
    def _label(seq: Optional[int], device_id: str, moment: datetime, label: str, detail: str = "",
               quantity: Optional[str] = None) -> dict:
        found = {"seq": seq, "device_id": device_id, "timestamp": format_timestamp(moment, True),
                 "label": label, "detail": detail}
        if quantity is not None:
            found["quantity"] = quantity
        return found

    # ------------------------------------------------------------------ the stream

    def records(self) -> Iterator[Record]:
        """Yield records in send order (which differs from event order for out-of-order and late ones)."""
        config = self.config
        pending: list[_Pending] = []
        order = 0
        seq = 0
        tick = 0
        end_time = None if config.duration_s is None else config.start + timedelta(seconds=config.duration_s)

        def emit(item: _Pending) -> Iterator[Record]:
            nonlocal seq
            reading = item.reading
            key = reading["device_id"].encode()
            if self.rng.random() < config.malformed_rate:
                value, detail = self._malformed(reading)
                item.labels.append(("malformed", detail))
            else:
                value = to_json_bytes(reading)
            moment = parse_timestamp(reading["timestamp"])
            copies = 2 if self.rng.random() < config.duplicate_rate else 1
            for copy in range(copies):
                if config.count is not None and seq >= config.count:
                    return
                for label, detail, *quantity in item.labels:
                    self.labels.append(self._label(seq, reading["device_id"], moment, label, detail, *quantity))
                if copy == 1:
                    self.labels.append(self._label(seq, reading["device_id"], moment, "duplicate",
                                                   f"copy of seq {seq - 1}"))
                yield Record(seq, key, value, moment)
                seq += 1

        while True:
            moment = config.start + timedelta(seconds=tick * config.interval_s)
            if end_time is not None and moment >= end_time:
                break
            if config.count is not None and seq >= config.count:
                break
            for state in self.fleet:
                reading, anomaly = self._reading(state, moment)
                if reading is None:
                    continue
                labels = [(anomaly, "", self._fault_quantity(state, anomaly))] if anomaly else []
                send_time = moment
                draw = self.rng.random()
                if draw < config.late_rate:
                    delay = self.rng.uniform(15 * 60, 30 * 60)
                    send_time = moment + timedelta(seconds=delay)
                    labels.append(("late", f"sent {delay / 60:.1f} min after its event time"))
                elif draw < config.late_rate + config.out_of_order_rate:
                    steps = self.rng.randint(1, 5)
                    send_time = moment + timedelta(seconds=steps * config.interval_s + config.interval_s / 2)
                    labels.append(("out_of_order", f"sent {steps} interval(s) late"))
                heapq.heappush(pending, _Pending(send_time, order, reading, labels))
                order += 1
            while pending and pending[0].send_time <= moment:
                yield from emit(heapq.heappop(pending))
            tick += 1
        while pending and (config.count is None or seq < config.count):
            yield from emit(heapq.heappop(pending))


def generate_readings(
    count: int, devices: int = 5, seed: int = 7, start: datetime = DEFAULT_START, interval_s: int = 10
) -> Iterator[dict]:
    """``count`` clean readings as dicts, round-robin over ``devices``: the simplest use of the simulator."""
    config = SimulationConfig(devices=devices, seed=seed, start=start, interval_s=interval_s, count=count)
    for record in SensorSimulator(config).records():
        yield json.loads(record.value)
