"""The simulator: deterministic bytes, realistic statistics, and labels that match what was injected."""

import json
import statistics
from collections import defaultdict
from datetime import timedelta

import pytest

from iotlab.core import parse_timestamp
from iotlab.core.contract import validate_reading
from iotlab.sim.sensors import (
    SensorSimulator,
    SimulationConfig,
    generate_readings,
    to_json_bytes,
)

FAULTY = SimulationConfig(devices=20, seed=7, interval_s=60, duration_s=86400, anomaly_rate=0.004,
                          out_of_order_rate=0.01, late_rate=0.003, duplicate_rate=0.005, malformed_rate=0.005)


@pytest.fixture(scope="module")
def faulty_day():
    simulator = SensorSimulator(FAULTY)
    records = list(simulator.records())
    labels = defaultdict(list)
    for label in simulator.labels:
        labels[label["seq"]].append(label)
    return records, labels, simulator.labels


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not():
    def run(seed):
        simulator = SensorSimulator(SimulationConfig(**{**FAULTY.__dict__, "seed": seed, "duration_s": 7200}))
        return [record.value for record in simulator.records()], simulator.labels

    assert run(3) == run(3)
    assert run(3)[0] != run(4)[0]


def test_clean_readings_follow_the_contract_and_look_like_sensors():
    readings = list(generate_readings(20 * 24 * 60, devices=20, interval_s=60))
    assert all(validate_reading(to_json_bytes(r))[1] is None for r in readings)
    assert {r["device_id"] for r in readings} == {f"device-{n:02d}" for n in range(1, 21)}
    per_device = defaultdict(list)
    for reading in readings:
        per_device[reading["device_id"]].append(reading["temperature"])
    means = [statistics.mean(values) for values in per_device.values()]
    assert 16 < min(means) and max(means) < 30, "baselines are in a room-temperature range"
    assert len({round(m) for m in means}) >= 5, "devices have different baselines"
    for values in per_device.values():
        # A daily cycle of +/-3 degrees plus noise: the day's spread is several degrees, not 0 and not 30.
        assert 4 < max(values) - min(values) < 12


def test_daily_cycle_peaks_in_the_afternoon():
    readings = list(generate_readings(24 * 60, devices=1, interval_s=60))
    by_hour = defaultdict(list)
    for reading in readings:
        by_hour[int(reading["timestamp"][11:13])].append(reading["temperature"])
    warmest = max(by_hour, key=lambda hour: statistics.mean(by_hour[hour]))
    assert 13 <= warmest <= 17


def test_every_record_that_breaks_the_contract_is_labelled_and_vice_versa(faulty_day):
    records, labels, _ = faulty_day
    for record in records:
        _, reason = validate_reading(record.value)
        kinds = {label["label"] for label in labels.get(record.seq, [])}
        if reason is not None:
            assert kinds & {"malformed", "humidity_out_of_range"}, (record.seq, reason)
        if "malformed" in kinds:
            assert reason is not None and reason.split(":")[0] in ("invalid_json", "missing_field", "wrong_type",
                                                                   "impossible_value")
        if "humidity_out_of_range" in kinds and "malformed" not in kinds:
            humidity = json.loads(record.value)["humidity"]
            assert humidity < 0 or humidity > 100


def test_duplicates_repeat_the_previous_bytes(faulty_day):
    records, labels, _ = faulty_day
    duplicates = [seq for seq, items in labels.items() if any(i["label"] == "duplicate" for i in items)]
    assert len(duplicates) > 50
    for seq in duplicates:
        assert records[seq].value == records[seq - 1].value


def test_out_of_order_and_late_records_arrive_after_newer_ones(faulty_day):
    records, labels, _ = faulty_day
    newest = []
    latest = records[0].event_time
    for record in records:
        latest = max(latest, record.event_time)
        newest.append(latest)
    lags = {"out_of_order": [], "late": []}
    for seq, items in labels.items():
        for item in items:
            if item["label"] in lags:
                lags[item["label"]].append(newest[seq] - records[seq].event_time)
    assert len(lags["out_of_order"]) > 100 and len(lags["late"]) > 20
    assert all(timedelta(seconds=60) <= lag <= timedelta(minutes=6) for lag in lags["out_of_order"])
    assert sum(lag >= timedelta(minutes=15) for lag in lags["late"]) >= 0.9 * len(lags["late"])


def test_anomalies_show_in_the_values(faulty_day):
    records, labels, all_labels = faulty_day
    values = {r.seq: json.loads(r.value) for r in records if validate_reading(r.value)[1] is None}
    by_type = defaultdict(list)
    for seq, items in labels.items():
        for item in items:
            if seq in values:
                by_type[item["label"]].append(values[seq])
    assert set(by_type) >= {"spike", "drift", "stuck"}

    # stuck: consecutive labelled readings of a device repeat the same temperature and humidity
    stuck = sorted(by_type["stuck"], key=lambda r: (r["device_id"], r["timestamp"]))
    consecutive = [(a, b) for a, b in zip(stuck, stuck[1:]) if a["device_id"] == b["device_id"]
                   and parse_timestamp(b["timestamp"]) - parse_timestamp(a["timestamp"]) == timedelta(seconds=60)]
    assert len(consecutive) > 50
    assert all((a["temperature"], a["humidity"]) == (b["temperature"], b["humidity"]) for a, b in consecutive)

    # spike: far from the device's typical temperature
    typical = defaultdict(list)
    for reading in values.values():
        typical[reading["device_id"]].append(reading["temperature"])
    medians = {device: statistics.median(temps) for device, temps in typical.items()}
    assert all(abs(r["temperature"] - medians[r["device_id"]]) > 7 for r in by_type["spike"])

    # offline: the device sends nothing inside its labelled silence
    offline = [label for label in all_labels if label["label"] == "offline"]
    assert offline
    for label in offline:
        start = parse_timestamp(label["timestamp"])
        end = parse_timestamp(label["detail"].removeprefix("silent until "))
        sent = [r for r in values.values() if r["device_id"] == label["device_id"]
                and start <= parse_timestamp(r["timestamp"]) <= end]
        assert sent == []


def test_labels_are_kept_apart_from_the_records(faulty_day):
    records, _, _ = faulty_day
    for record in records[:2000]:
        assert b"label" not in record.value and b"anomaly" not in record.value


def test_sub_second_intervals_use_millisecond_timestamps():
    config = SimulationConfig(devices=50, interval_s=0.05, count=200)
    timestamps = [json.loads(r.value)["timestamp"] for r in SensorSimulator(config).records()]
    assert timestamps[0] == "2025-11-05T12:00:00.000Z" and timestamps[-1] == "2025-11-05T12:00:00.150Z"


@pytest.mark.parametrize("kwargs", [{"count": -1}, {"count": 1, "devices": 0}, {"count": 1, "interval_s": 0}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        list(generate_readings(**kwargs))


def test_config_needs_a_length_and_sane_rates():
    with pytest.raises(ValueError, match="count or a duration"):
        SimulationConfig()
    with pytest.raises(ValueError, match="between 0 and 1"):
        SimulationConfig(count=1, anomaly_rate=1.5)
