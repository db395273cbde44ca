"""The simulator is deterministic and speaks the data contract."""

import json

import pytest

from iotlab.sensors import generate_readings, to_json_bytes


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not():
    first = [to_json_bytes(r) for r in generate_readings(200, devices=7, seed=3)]
    again = [to_json_bytes(r) for r in generate_readings(200, devices=7, seed=3)]
    other = [to_json_bytes(r) for r in generate_readings(200, devices=7, seed=4)]
    assert first == again
    assert first != other


def test_readings_follow_the_contract():
    readings = list(generate_readings(50, devices=5))
    assert len(readings) == 50
    for reading in readings:
        assert list(reading) == ["device_id", "timestamp", "temperature", "humidity", "status"]
        assert isinstance(reading["temperature"], float) and isinstance(reading["humidity"], float)
        assert 0.0 <= reading["humidity"] <= 100.0
        assert reading["timestamp"].endswith("Z")
        assert json.loads(to_json_bytes(reading)) == reading
    assert {r["device_id"] for r in readings} == {f"device-{n:02d}" for n in range(1, 6)}


def test_each_device_reports_every_interval_in_order():
    readings = [r for r in generate_readings(30, devices=3, interval_s=10) if r["device_id"] == "device-02"]
    assert [r["timestamp"][-9:] for r in readings] == [f"12:0{s // 60}:{s % 60:02d}Z" for s in range(0, 100, 10)]


@pytest.mark.parametrize("kwargs", [{"count": -1}, {"count": 1, "devices": 0}, {"count": 1, "interval_s": 0}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        list(generate_readings(**kwargs))
